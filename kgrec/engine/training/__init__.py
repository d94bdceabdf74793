"""How a model is trained: the run's hyper-parameters (:mod:`.config`, ``TrainConfig``) and the
gradient loop with early stopping and resumable checkpoints (:mod:`.train`) that the embedding
models share."""
