"""Training with masks held at zero: the model zoo, fine-tuning, schedules (gradual, iterative, retraining
strategies) and layer-wise reconstruction.
"""
