"""Pruning Explorer — the entry point: a router only (no TensorFlow import here); see ui/router.py."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out of the server log

from ui.router import main  # noqa: E402  (after the logging setting, before anything can import TensorFlow)
from ui.runtime import keep_keras_session  # noqa: E402

keep_keras_session()  # no keras.backend.clear_session() after every rerun: it starved background jobs (ui/runtime.py)
main()
