"""PeriodicCheckpoint: Lightning's ModelCheckpoint with its epoch and step triggers adding up."""

import warnings
from datetime import timedelta
from pathlib import Path
from typing import Callable

import pytest
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig

from lit_gans.callbacks import PeriodicCheckpoint
from lit_gans.training import train


def test_lightning_refuses_the_pair_that_periodic_checkpoint_takes(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="mutually exclusive"):  # what experiment=wgan_lsun hit
        ModelCheckpoint(dirpath=tmp_path, every_n_epochs=1, every_n_train_steps=30000)
    both = PeriodicCheckpoint(dirpath=tmp_path, every_n_epochs=1, every_n_train_steps=30000)
    assert (both.every_n_epochs, both._every_n_train_steps) == (1, 30000)
    assert PeriodicCheckpoint(dirpath=tmp_path).every_n_epochs == 1  # Lightning's default when neither is set
    steps_only = PeriodicCheckpoint(dirpath=tmp_path, every_n_epochs=0, every_n_train_steps=5)
    assert (steps_only.every_n_epochs, steps_only._every_n_train_steps) == (0, 5)
    with pytest.raises(ValueError, match="every_n_train_steps instead"):
        PeriodicCheckpoint(dirpath=tmp_path, train_time_interval=timedelta(minutes=5))


@pytest.mark.parametrize(("every_n_epochs", "saved_at"), [(1, [4, 6, 8, 12]), (0, [4, 8, 12])])
def test_saves_every_n_steps_and_at_every_epoch_end(compose_cfg: Callable[..., DictConfig], one_thread: None,
                                                    monkeypatch: pytest.MonkeyPatch, every_n_epochs: int,
                                                    saved_at: list[int]) -> None:
    steps: list[int] = []
    save = PeriodicCheckpoint._save_checkpoint
    monkeypatch.setattr(PeriodicCheckpoint, "_save_checkpoint",
                        lambda self, trainer, path: (steps.append(trainer.global_step), save(self, trainer, path))[1])
    # GAN (n_critic 1): 2 optimizer steps a batch, 3 batches an epoch -> epochs end at global steps 6 and 12
    cfg = compose_cfg("model=gan", "data=ring8", "batch_size=16", "trainer.limit_train_batches=3",
                      "trainer.max_epochs=2", "trainer.limit_val_batches=0", "callbacks=model_checkpoint",
                      f"callbacks.model_checkpoint.every_n_epochs={every_n_epochs}",
                      "callbacks.model_checkpoint.every_n_train_steps=4")
    with warnings.catch_warnings():  # Lightning's manual-optimization warning is muted
        warnings.filterwarnings("error", message="Using ModelCheckpoint")
        _, objects = train(cfg)
    assert steps == saved_at  # step 12 is both triggers' and is written once
    assert Path(objects["trainer"].checkpoint_callback.best_model_path).name == "last.ckpt"
