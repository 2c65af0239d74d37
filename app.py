"""Pruning Explorer — the entry point: a router only (no TensorFlow import here); see ui/router.py."""

from ui.router import main

main()
