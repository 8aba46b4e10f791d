"""A ``ModelCheckpoint`` whose save triggers add up instead of excluding each other."""

import warnings
from datetime import timedelta
from typing import Any

from lightning.pytorch.callbacks import ModelCheckpoint


class PeriodicCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint``, but ``every_n_epochs`` and ``every_n_train_steps`` may both be set:
    a checkpoint is written at the end of every ``every_n_epochs``-th training epoch *and* every
    ``every_n_train_steps`` optimizer steps (Lightning refuses the pair as "mutually exclusive").
    conf/callbacks/model_checkpoint.yaml keeps ``last.ckpt`` at most an epoch old in every run, and a
    long-epoch experiment (wgan_lsun) adds step saves on top without having to unset the epoch one.

    ``train_time_interval`` stays exclusive (Lightning 2.6 ignores it under manual optimization, which
    every lit_gans model uses, so it would silently never save); use ``every_n_train_steps``.
    """

    def __init__(self, *args: Any, every_n_epochs: int | None = None, every_n_train_steps: int | None = None,
                 train_time_interval: timedelta | None = None, **kwargs: Any) -> None:
        if train_time_interval is not None:
            raise ValueError("callbacks.model_checkpoint.train_time_interval never triggers a save under manual "
                             "optimization (Lightning 2.6); set callbacks.model_checkpoint.every_n_train_steps "
                             "instead.")
        steps = every_n_train_steps or 0
        # Lightning's own validation sees one trigger; the epoch trigger is restored below
        super().__init__(*args, every_n_epochs=None if steps else every_n_epochs, every_n_train_steps=steps or None,
                         **kwargs)
        if steps and every_n_epochs:
            if every_n_epochs < 0:
                raise ValueError(f"every_n_epochs must be >= 0, got {every_n_epochs}.")
            # read by ModelCheckpoint.on_train_epoch_end / on_validation_end; a save already made at the
            # same global step (a step trigger on the epoch's last batch) is not repeated
            self._every_n_epochs = every_n_epochs

    def on_train_batch_end(self, *args: Any, **kwargs: Any) -> None:
        with warnings.catch_warnings():
            # Lightning 2.6 warns at every step save under manual optimization that the file holds the weights
            # after the optimizer step (and asks for a `saved_models` attribute): they are what a resume needs
            warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization")
            super().on_train_batch_end(*args, **kwargs)
