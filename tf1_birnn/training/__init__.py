"""Training: the per-epoch loop, run folders (config, history, checkpoints, resume) and
TensorBoard summaries. Imports ``core`` and ``data`` only."""
