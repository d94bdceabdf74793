"""How a model is trained: the run's options (:mod:`.config`, ``TrainConfig``: model, seed,
device) and the gradient loop with early stopping and resumable checkpoints (:mod:`.train`,
with the ``GradientConfig`` options) that the embedding models share."""
