"""Training with masks held at zero, one module per job: ``models`` (the model zoo), ``fit`` (the one ``model.fit``,
fine-tuning, baselines, retraining strategies), ``callbacks`` (progress, epoch logs, the mask enforcer, the gradual
pruner, learning-rate replay), ``regularize`` (L1), ``schedules`` (sparsity and learning-rate schedules with a config
round-trip), ``loops`` (gradual and iterative pruning) and ``reconstruct`` (layer-wise reconstruction).
"""
