"""``train(cfg)``: build everything from a composed Hydra config and fit. Tests call it."""

import inspect
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_class, get_method, instantiate
from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig, OmegaConf

from lit_gans.checkpoints import read_checkpoint
from lit_gans.loggers import WandbRunId, finish_wandb, wandb_init_overrides
from lit_gans.losses import Objective
from lit_gans.trainer_args import build_trainer, check_trainer_config, clip_into_model

log = logging.getLogger(__name__)


def instantiate_datamodule(cfg: DictConfig) -> L.LightningDataModule:
    """Build the datamodule; ``shape`` is the (C, H, W) / (D,) the networks are built for and
    must agree with the data actually served."""
    kwargs = OmegaConf.to_container(cfg, resolve=True)
    kwargs.pop("shape")
    datamodule = instantiate(kwargs)
    declared, served = tuple(cfg.shape), tuple(datamodule.shape)
    if declared != served:
        crop = cfg.get("random_crop")
        fix = f"data.random_crop={crop} serves {crop}x{crop} crops: set data.shape={list(served)} too" if crop else "fix conf/data"
        raise ValueError(f"data.shape {declared} does not match the data served {served}; {fix}.")
    return datamodule


# what to suggest for each kind of batch a model trains on (check_batch_kind)
DATA_OF_KIND = {
    "images": "an image data set (data=mnist, data=cifar10, data=image_folder, ...)",
    "paired": "paired data: data=mnist_edges (built in), data=photo_composites (GP-GAN's blending pairs, built in) or data=paired data.root=<folder with train/ val/ test/>",
    "unpaired": "unpaired data: data=mnist_mnistm (built in) or data=unpaired data.root=<folder with trainA/ trainB/ "
                "testA/ testB/>",
}


def check_batch_kind(datamodule: L.LightningDataModule, model: type | L.LightningModule) -> None:
    """A model (class) and data that disagree on what a batch carries (``batch_kind``: "images" or "paired") fail
    here, before the model is built, naming the fix."""
    data_kind, model_kind = getattr(datamodule, "batch_kind", "images"), getattr(model, "batch_kind", "images")
    if data_kind == model_kind:
        return
    fix = f"use {DATA_OF_KIND[model_kind]}" if model_kind in DATA_OF_KIND else f"use data serving {model_kind} batches"
    if model_kind == "images":
        fix += " (or a translation model for this data: model=pix2pix for paired, model=cyclegan for unpaired)"
    name = model.__name__ if isinstance(model, type) else type(model).__name__
    raise ValueError(f"{name} trains on {model_kind} batches but {type(datamodule).__name__} serves "
                     f"{data_kind} ones: {fix}.")


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


def instantiate_loggers(cfg: DictConfig | None, checkpoint: dict[str, Any] | None = None) -> list[Logger]:
    """The ``logger`` group; a W&B logger continues the checkpoint's run and is grouped by sweep
    (`lit_gans.loggers.wandb_init_overrides`)."""
    loggers = []
    for c in (cfg or {}).values():
        if isinstance(c, DictConfig) and "_target_" in c:
            wandb = issubclass(get_class(c._target_), WandbLogger)
            loggers.append(instantiate(c, **(wandb_init_overrides(c, checkpoint) if wandb else {})))
    return loggers


_MISSING = object()


def _default(target: Any, key: str) -> Any:
    """The default of argument ``key`` of a class (searched along its MRO: variants pass **kwargs to the base)
    or function; ``_MISSING`` when it has none."""
    functions = [k.__init__ for k in target.__mro__] if isinstance(target, type) else [target]
    for function in functions:
        try:
            parameter = inspect.signature(function).parameters.get(key)
        except (TypeError, ValueError):
            continue
        if parameter is not None and parameter.default is not inspect.Parameter.empty:
            return parameter.default
    return _MISSING


def _plain_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def config_differences(saved: Mapping[str, Any], current: Mapping[str, Any], target: Any = None,
                       prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between a checkpoint's hyper-parameters and the current ones. A key the
    checkpoint lacks is no difference when the current value is the argument's default in ``target`` (the class
    or function the level's ``_target_`` names): options added to lit_gans after the checkpoint was written
    (e.g. ``pack``) must not stop it from resuming."""
    differ = []
    for key in sorted(set(saved) | set(current)):
        old, new = saved.get(key, _MISSING), current.get(key, _MISSING)
        if _plain_value(old) == _plain_value(new):
            continue
        if old is _MISSING and target is not None and _plain_value(_default(target, key)) == _plain_value(new):
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping) and old.get("_target_") == new.get("_target_"):
            name = new.get("_target_")
            differ += config_differences(old, new, get_method(name) if isinstance(name, str) else None,
                                         f"{prefix}{key}.")
            continue
        differ.append(prefix + key)
    return differ


def check_resume(cfg: DictConfig, model: L.LightningModule, ckpt: dict[str, Any] | None = None) -> None:
    """Fail early, with the fix, when ``ckpt_path`` is unreadable or was trained with another
    model config (Lightning would otherwise fail deep inside ``load_state_dict``). ``ckpt``: the
    checkpoint already read (and checked against the allow-list) by `read_checkpoint` from ``cfg.ckpt_path``, if it
    was: comparing losses below resolves the names they hold."""
    path = Path(cfg.ckpt_path)
    ckpt = read_checkpoint(path) if ckpt is None else ckpt
    averaged = any(str(c.get("_target_", "")).endswith("GeneratorEMA") for c in (cfg.get("callbacks") or {}).values()
                   if isinstance(c, DictConfig))
    if "live_generator" in ckpt and not averaged:  # its state_dict holds the average: training would resume from it
        raise ValueError(f"ckpt_path={path} was trained with the generator average (callbacks.ema); resume with it: "
                         "'callbacks=[default,ema]' (or add ema to the run's callbacks list).")
    saved = ckpt.get("hyper_parameters", {})
    current = dict(model.hparams)
    neutral = getattr(type(model), "performance_options", ())  # compile, channels_last: speed only, same results
    differ = [k for k in config_differences(saved, current, type(model)) if k.split(".")[0] not in neutral]
    loss_differs = [k for k in differ if k == "loss" or k.startswith("loss.")]
    if loss_differs and saved.get("loss") and current.get("loss"):  # same maths, spelled differently?
        if Objective.from_config(saved["loss"]).behaviour() == Objective.from_config(current["loss"]).behaviour():
            differ = [k for k in differ if k not in loss_differs]
    if differ:
        overrides = path.parent.parent / ".hydra" / "overrides.yaml"
        hint = f" The run's overrides are in {overrides}: {OmegaConf.load(overrides)}." if overrides.exists() else ""
        raise ValueError(
            f"ckpt_path={path} was trained with a different model config (model.{', model.'.join(differ)} "
            f"differ). Resume with the same model/loss/net/data overrides as the original run.{hint}"
        )


def check_accelerator(cfg: DictConfig) -> None:
    """Fail before anything is built when the trainer asks for a GPU this machine lacks (Lightning would stop
    later with "No supported gpu backend found!"), naming the experiment and the CPU override."""
    accelerator = str(cfg.trainer.get("accelerator", "auto")).lower()
    if accelerator not in ("gpu", "cuda", "mps"):
        return
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if {"gpu": cuda or mps, "cuda": cuda, "mps": mps}[accelerator]:
        return
    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    chosen = ", ".join(f"{group}={choices[group]}" for group in ("experiment", "trainer") if choices.get(group))
    raise RuntimeError(
        f"trainer.accelerator={accelerator}: the run's config{f' ({chosen})' if chosen else ''} is set for a GPU, and "
        "this machine has none (torch.cuda.is_available() is False). Run it on the CPU by adding trainer=cpu (or "
        "trainer.accelerator=cpu) to the command line; a CPU may also need a smaller data.num_workers."
    )


def train(cfg: DictConfig) -> tuple[dict[str, float], dict[str, Any]]:
    """Fit the configured model; returns (final logged metrics, the objects built).

    With ``optimized_metric`` set (sweeps), that metric must be among the final metrics: an Optuna
    trial needs a number, so a run that never logged it fails here, naming what was logged."""
    check_accelerator(cfg)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    check_trainer_config(cfg)
    clip_into_model(cfg)  # trainer.gradient_clip_val: each player's, before the model records its hparams
    # read (and refused if it names code outside lit_gans' allow-list) before anything is built
    ckpt = read_checkpoint(cfg.ckpt_path) if cfg.get("ckpt_path") else None
    datamodule = instantiate_datamodule(cfg.data)
    check_batch_kind(datamodule, get_class(cfg.model._target_))
    model = instantiate(cfg.model, _recursive_=False)
    if ckpt is not None:
        check_resume(cfg, model, ckpt)  # before any logger opens a (W&B) run
    loggers = instantiate_loggers(cfg.get("logger"), ckpt)
    del ckpt  # only its hyper-parameters and W&B run id were needed; Lightning loads the file itself
    callbacks = instantiate_dict(cfg.get("callbacks")) + instantiate_metrics(cfg.get("metrics"))
    if any(isinstance(lg, WandbLogger) for lg in loggers):
        callbacks.append(WandbRunId())
    failed = True
    try:
        trainer = build_trainer(cfg.trainer, callbacks, loggers)  # DDP finds unused parameters
        log.info("Run folder: %s", trainer.default_root_dir)
        for logger in loggers:
            logger.log_hyperparams(resolved_config(cfg))
        # weights_only: Lightning restores only state (tensors and plain containers), whatever torch's default
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"), weights_only=True)
        failed = False
    finally:
        finish_wandb(loggers, failed=failed)  # one W&B run per job, also when the job fails
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    metric = cfg.get("optimized_metric")
    if metric and metric not in metrics:
        raise ValueError(
            f"optimized_metric={metric} was not logged; the run's final metrics are {sorted(metrics)}. Validation "
            "metrics come from the metrics group (metrics=mnist: val/fid; metrics=modes: val/reverse_kl) at the end of "
            "an epoch, so the run must complete one (trainer.max_steps may stop it earlier)."
        )
    objects = {"cfg": cfg, "datamodule": datamodule, "model": model, "trainer": trainer}
    return metrics, objects
