"""The ``trainer`` config group -> a Lightning ``Trainer`` that can train a GAN.

Every ``Trainer`` argument is a key of ``conf/trainer/default.yaml`` (``trainer.max_time=00:00:05:00`` works
without Hydra's ``+``). Three of them mean something else for a GAN trained with manual optimization, and
are translated or refused here with the fix:

- ``gradient_clip_val`` / ``gradient_clip_algorithm``: Lightning refuses them under manual optimization; here
  they clip each player's gradient before its own step (``model.gradient_clip_val``; the model's hook
  clips after AMP unscaling).
- ``accumulate_grad_batches``: refused (Lightning cannot accumulate manual steps); a larger minibatch is
  ``batch_size`` or more devices.
- ``logger`` / ``callbacks``: set through their config groups (``logger=wandb``, ``callbacks=...``).

Multi-process runs: a GAN's D step gives G no gradient (and the G step none to D), so DDP must look for
unused parameters. Whatever ``trainer.devices`` / ``trainer.num_nodes`` / ``trainer.strategy`` say, a run
that Lightning resolves to DDP gets the ``*_find_unused_parameters_true`` form of its strategy; a
single-process run keeps Lightning's plain single-device strategy (no DDP overhead).
"""

import logging
import sys
from collections.abc import Sequence
from typing import Any

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, ProgressBar
from lightning.pytorch.strategies import DDPStrategy
from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)

FIND_UNUSED = "_find_unused_parameters_true"
# the DDP strategy names Lightning registers, and the one each becomes for a GAN
DDP_NAMES = {"auto": "ddp", "ddp": "ddp", "ddp_spawn": "ddp_spawn", "ddp_fork": "ddp_fork", "ddp_notebook": "ddp_notebook"}
# Trainer arguments that are not trainer config keys, and what to use instead
NOT_TRAINER_KEYS = {
    "logger": "choose loggers with the logger group: logger=csv|tensorboard|wandb|many, or logger=[] for none",
    "callbacks": "choose callbacks with the callbacks group (callbacks=default|none|[default,ema]) or add one: "
                 "+callbacks.name={_target_: ...}",
    "plugins": "plugins are Python objects; pass them from Python: lit_gans.training.train builds the Trainer from "
               "cfg.trainer, add a _target_ entry there",
}


def gan_strategy(requested: str) -> str:
    """The DDP strategy name that finds unused parameters, for a requested name ("auto" -> plain "ddp")."""
    if requested.endswith("_find_unused_parameters_false"):
        raise ValueError(f"trainer.strategy={requested} cannot train a GAN: each player's step leaves the other "
                         "player's parameters without gradients. Use trainer.strategy="
                         f"{requested.removesuffix('_find_unused_parameters_false')}{FIND_UNUSED} (or leave it auto).")
    if requested.endswith(FIND_UNUSED):
        return requested
    interactive = hasattr(sys, "ps1") or bool(sys.flags.interactive)  # Lightning forks there: no script to re-run
    return ("ddp_fork" if requested == "auto" and interactive else DDP_NAMES[requested]) + FIND_UNUSED


def clip_into_model(cfg: DictConfig) -> None:
    """``trainer.gradient_clip_val`` (and ``_algorithm``) -> ``model.gradient_clip_val``: with manual
    optimization the model clips each player's gradient before its step. Call before building the model."""
    trainer, model = cfg.trainer, cfg.model
    val, algorithm = trainer.get("gradient_clip_val"), trainer.get("gradient_clip_algorithm")
    if val is None and algorithm is None:
        return
    if val is not None and model.get("gradient_clip_val") not in (None, val):
        raise ValueError(f"trainer.gradient_clip_val={val} and model.gradient_clip_val={model.gradient_clip_val} "
                         "disagree; set one of them (both mean: clip each player's gradient before its step).")
    with open_dict(model):
        if val is not None:
            model.gradient_clip_val = val
        if algorithm is not None:
            model.gradient_clip_algorithm = algorithm
    with open_dict(trainer):
        trainer.gradient_clip_val = trainer.gradient_clip_algorithm = None  # Lightning refuses them in manual mode


def check_trainer_config(cfg: DictConfig) -> None:
    """Refuse the trainer keys that do not apply to a GAN, naming what to use instead."""
    trainer = cfg.trainer
    for key, fix in NOT_TRAINER_KEYS.items():
        if trainer.get(key) is not None:
            raise ValueError(f"trainer.{key} is not set here: {fix}.")
    accumulate = trainer.get("accumulate_grad_batches")
    if accumulate not in (None, 1):
        raise ValueError(
            f"trainer.accumulate_grad_batches={accumulate} does not apply: lit_gans steps each player by hand on every "
            "batch (manual optimization). For a larger minibatch set batch_size=<per-device size> or add devices "
            "(trainer.devices=N); the global minibatch is batch_size x devices x num_nodes.")
    if trainer.get("barebones"):
        raise ValueError("trainer.barebones=true disables self.log, which every lit_gans step uses. For the least "
                         "overhead use logger=[] callbacks=none trainer.enable_model_summary=false.")


def _callbacks_for(trainer_cfg: DictConfig, callbacks: Sequence[Callback]) -> list[Callback]:
    """Drop the checkpoint / progress-bar callbacks of the callbacks group when the trainer config turns them off
    (Lightning refuses ``enable_checkpointing=False`` beside a ``ModelCheckpoint``)."""
    off = []
    if trainer_cfg.get("enable_checkpointing") is False:
        off.append(ModelCheckpoint)
    if trainer_cfg.get("enable_progress_bar") is False:
        off.append(ProgressBar)
    return [c for c in callbacks if not isinstance(c, tuple(off))] if off else list(callbacks)


def build_trainer(trainer_cfg: DictConfig, callbacks: Sequence[Callback], loggers: list[Any]) -> L.Trainer:
    """``instantiate(trainer_cfg)`` with the callbacks and loggers, and DDP made to find unused parameters when
    more than one process will run (decided by Lightning itself: devices, nodes, cluster environment)."""
    kwargs = {k: v for k, v in OmegaConf.to_container(trainer_cfg, resolve=True).items()
              if k not in NOT_TRAINER_KEYS}
    callbacks = _callbacks_for(trainer_cfg, callbacks)
    trainer = instantiate(kwargs, callbacks=callbacks, logger=loggers or False)
    requested = kwargs.get("strategy", "auto")
    if isinstance(requested, str) and isinstance(trainer.strategy, DDPStrategy) and not requested.endswith(FIND_UNUSED):
        if requested not in DDP_NAMES and not requested.endswith("_find_unused_parameters_false"):
            return trainer  # a DDP subclass we don't know by name (e.g. a cluster plug-in): the user's choice
        strategy = gan_strategy(requested)
        log.info("%d processes: trainer.strategy=%s -> %s (a GAN's D step gives G no gradient)",
                 trainer.world_size, requested, strategy)
        trainer = instantiate({**kwargs, "strategy": strategy}, callbacks=callbacks, logger=loggers or False)
    return trainer
