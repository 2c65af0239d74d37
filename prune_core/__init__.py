"""Pruning Explorer's engine: score → threshold → mask → apply, with no Streamlit in sight.

TensorFlow is imported lazily inside functions, so importing ``prune_core`` is cheap.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out of logs
