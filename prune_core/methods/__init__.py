"""Pruning methods: importance criteria and the signals they read (gradients, activations), threshold rules,
thresholds, masks, and the registry that holds criteria and rules by name. Imports only ``graph``.
"""
