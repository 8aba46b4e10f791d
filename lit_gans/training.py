"""``train(cfg)``: build everything from a composed Hydra config and fit. Tests call it."""

import logging
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lit_gans.checkpoints import read_checkpoint
from lit_gans.losses import Objective

log = logging.getLogger(__name__)


def instantiate_datamodule(cfg: DictConfig) -> L.LightningDataModule:
    """Build the datamodule; ``shape`` is the (C, H, W) / (D,) the networks are built for and
    must agree with the data actually served."""
    kwargs = OmegaConf.to_container(cfg, resolve=True)
    kwargs.pop("shape")
    datamodule = instantiate(kwargs)
    declared, served = tuple(cfg.shape), tuple(datamodule.shape)
    if declared != served:
        raise ValueError(f"data.shape {declared} does not match the data served {served}; fix conf/data.")
    return datamodule


def instantiate_dict(cfg: DictConfig | None) -> list[Any]:
    """Instantiate every ``_target_`` entry of a ``{name: config}`` group (callbacks, loggers)."""
    if not cfg:
        return []
    return [instantiate(c) for c in cfg.values() if isinstance(c, DictConfig) and "_target_" in c]


def instantiate_metrics(cfg: DictConfig | None) -> list[Any]:
    """The ``metrics`` group: a `GeneratorMetrics` callback, or nothing for ``metrics=none``."""
    return [instantiate(cfg)] if cfg and "_target_" in cfg else []


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The run's config as plain resolved values, without Hydra's own node (tests compose it)."""
    return {
        key: OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
        for key, value in cfg.items_ex(resolve=True)
        if key != "hydra"
    }


def check_resume(cfg: DictConfig, model: L.LightningModule) -> None:
    """Fail early, with the fix, when ``ckpt_path`` is unreadable or was trained with another
    model config (Lightning would otherwise fail deep inside ``load_state_dict``)."""
    path = Path(cfg.ckpt_path)
    ckpt = read_checkpoint(path)
    saved = ckpt.get("hyper_parameters", {})
    current = dict(model.hparams)
    differ = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    if "loss" in differ and saved.get("loss") and current.get("loss"):  # same maths, spelled differently?
        if Objective.from_config(saved["loss"]).behaviour() == Objective.from_config(current["loss"]).behaviour():
            differ.remove("loss")
    if differ:
        overrides = path.parent.parent / ".hydra" / "overrides.yaml"
        hint = f" The run's overrides are in {overrides}: {OmegaConf.load(overrides)}." if overrides.exists() else ""
        raise ValueError(
            f"ckpt_path={path} was trained with a different model config (model.{', model.'.join(differ)} "
            f"differ). Resume with the same model/loss/net/data overrides as the original run.{hint}"
        )


def train(cfg: DictConfig) -> tuple[dict[str, float], dict[str, Any]]:
    """Fit the configured model; returns (final logged metrics, the objects built)."""
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate_datamodule(cfg.data)
    model = instantiate(cfg.model, _recursive_=False)
    callbacks = instantiate_dict(cfg.get("callbacks")) + instantiate_metrics(cfg.get("metrics"))
    loggers = instantiate_dict(cfg.get("logger"))
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    log.info("Run folder: %s", trainer.default_root_dir)
    for logger in loggers:
        logger.log_hyperparams(resolved_config(cfg))
    if cfg.get("ckpt_path"):
        check_resume(cfg, model)
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    finally:
        _finish_wandb(loggers)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    objects = {"cfg": cfg, "datamodule": datamodule, "model": model, "trainer": trainer}
    return metrics, objects


def _finish_wandb(loggers: list[Any]) -> None:
    """``WandbLogger`` never calls ``wandb.finish()``; without it sweep jobs share one run."""
    if any(type(lg).__name__ == "WandbLogger" for lg in loggers):
        import wandb

        wandb.finish()
