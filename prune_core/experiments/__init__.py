"""Runs: one-shot, gradual, iterative and at-initialization runs that prune and retrain and report a
``RunResult``; sweeps and sensitivity scans over many runs; the classic article's worked example.
"""
