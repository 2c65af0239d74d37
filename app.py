"""Pruning Explorer — the entry point: a router only (no TensorFlow import here); see ui/router.py."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out of the server log

from ui.router import main  # noqa: E402  (after the logging setting, before anything can import TensorFlow)

main()
