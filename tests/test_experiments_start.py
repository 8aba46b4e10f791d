"""Every experiment config starts: its Trainer, callbacks, metrics and loggers are built for real (a callback
combination Lightning refuses fails here, not in a user's run), and a GPU experiment on a CPU-only machine
stops early with the CPU override (issue 16, item 8)."""

from typing import Callable

import lightning as L
import pytest
import torch
from omegaconf import DictConfig, open_dict

from helpers import config_names
from lit_gans.callbacks import PeriodicCheckpoint
from lit_gans.trainer_args import build_trainer, check_trainer_config
from lit_gans.training import check_accelerator, instantiate_dict, instantiate_loggers, instantiate_metrics, train

Compose = Callable[..., DictConfig]
GPU = ("gpu", "cuda", "mps")


def as_composed(cfg: DictConfig) -> DictConfig:
    """The config as the user's command composes it: without the fixture's quiet trainer flags (the
    progress-bar callback conflicts with enable_progress_bar=False)."""
    with open_dict(cfg):
        for key in ("enable_progress_bar", "enable_model_summary"):
            cfg.trainer.pop(key)
    return cfg


def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine as a CPU-only one (also where a GPU is present)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.mark.parametrize("name", config_names("experiment"))
def test_every_experiment_builds_its_trainer_and_callbacks(compose_cfg: Compose, name: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    no_gpu(monkeypatch)
    # the experiment's own callbacks, metrics and loggers
    cfg = as_composed(compose_cfg(f"experiment={name}", quiet=False))
    if str(cfg.trainer.accelerator) in GPU:  # pinned to a GPU: refused with the fix, then built as the fix says
        with pytest.raises(RuntimeError, match=rf"experiment={name}.*trainer=cpu"):
            check_accelerator(cfg)
        cfg = as_composed(compose_cfg(f"experiment={name}", "trainer=cpu", quiet=False))
    check_accelerator(cfg)
    check_trainer_config(cfg)
    callbacks = instantiate_dict(cfg.get("callbacks")) + instantiate_metrics(cfg.get("metrics"))
    expected = [key for key, c in (cfg.get("callbacks") or {}).items() if isinstance(c, DictConfig) and "_target_" in c]
    assert len(callbacks) == len(expected) + bool(cfg.get("metrics"))
    trainer = build_trainer(cfg.trainer, callbacks, instantiate_loggers(cfg.get("logger")))  # as train() builds it
    assert isinstance(trainer, L.Trainer)
    assert all(c in trainer.callbacks for c in callbacks)
    assert isinstance(trainer.checkpoint_callback, PeriodicCheckpoint) == ("model_checkpoint" in expected)


def test_a_gpu_experiment_on_a_cpu_machine_names_the_cpu_override(compose_cfg: Compose,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    no_gpu(monkeypatch)
    with pytest.raises(RuntimeError) as err:  # before any data or model is built
        train(compose_cfg("experiment=dcgan_cifar10", "data.root=/nonexistent"))
    message = str(err.value)
    assert "trainer.accelerator=gpu" in message and "experiment=dcgan_cifar10" in message and "trainer=gpu" in message
    assert "trainer=cpu" in message and "trainer.accelerator=cpu" in message
    with pytest.raises(RuntimeError, match="trainer=default.*trainer=cpu"):  # a plain override says the same
        train(compose_cfg("trainer.accelerator=gpu"))
    check_accelerator(compose_cfg("experiment=dcgan_cifar10", "trainer=cpu"))  # the fix passes
    check_accelerator(compose_cfg("trainer.accelerator=auto"))
