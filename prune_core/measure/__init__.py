"""Measuring a model: accuracy and loss, parameter and byte counts, latency, per-class accuracy, and the
binned previews the Prune page draws, and the numbers behind the coefficient guidance (``guidance``).
"""
