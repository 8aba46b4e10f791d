"""``evaluate(cfg)``: score a checkpoint with the metrics callback (and ``callbacks=parzen``: the Parzen-window
log-likelihood) through ``Trainer.validate``.

The data (the real reference) and, by default, the metrics settings come from the training run's
saved config; Lightning runs the evaluation so that ``trainer.devices=N`` splits it across
processes exactly as during training.
"""

import json
from pathlib import Path
from typing import Any

import lightning as L
from omegaconf import DictConfig, OmegaConf

from lit_gans.checkpoints import RUN_TARGETS, check_config_targets, read_checkpoint
from lit_gans.sampling import model_from_checkpoint
from lit_gans.training import instantiate_datamodule, instantiate_dict, instantiate_metrics


def run_config(cfg: DictConfig) -> DictConfig:
    """The training run's composed config (``<run>/.hydra/config.yaml``)."""
    run_dir = Path(cfg.run_dir) if cfg.get("run_dir") else Path(cfg.ckpt_path).resolve().parent.parent
    path = run_dir / ".hydra" / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: evaluate.py reads the data and metrics config of the training run. "
            "Pass run_dir=<the run folder> when the checkpoint was moved out of <run>/checkpoints/."
        )
    return OmegaConf.load(path)


def metrics_config(cfg: DictConfig, run: DictConfig) -> DictConfig:
    """``metrics=from_run`` (default): the run's metrics, with any non-null key of ours on top."""
    if not cfg.metrics.get("from_run"):
        return cfg.metrics
    trained_with = run.get("metrics")
    if not trained_with or "_target_" not in trained_with:
        raise ValueError("The run was trained with metrics=none; choose features: "
                         "python evaluate.py ckpt_path=... metrics=mnist|inception|modes")
    ours = {k: v for k, v in cfg.metrics.items() if k != "from_run" and v is not None}
    return OmegaConf.merge(trained_with, ours)


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Scores of ``cfg.ckpt_path`` as a JSON-ready dict (also written to ``out``)."""
    ckpt = read_checkpoint(Path(cfg.ckpt_path))  # first: refused before anything is built if it names foreign code
    run = run_config(cfg)
    if cfg.get("data_root"):
        run.data.root = cfg.data_root
    OmegaConf.set_struct(run, False)
    run.hydra = None  # the saved config's ${hydra:...} interpolations are unused here
    metrics_cfg = metrics_config(cfg, run)
    # the run config travels with the checkpoint: what it builds is held to an allow-list too
    for key, node in (("data", run.data), ("metrics", metrics_cfg)):
        check_config_targets(OmegaConf.to_container(node, resolve=True), key, RUN_TARGETS, "the run's .hydra/config.yaml")
    datamodule = instantiate_datamodule(run.data)
    extra = cfg.get("callbacks") or {}  # callbacks=parzen: val/parzen_ll too
    callbacks = instantiate_metrics(metrics_cfg) + instantiate_dict(extra)
    if not callbacks:
        raise ValueError("Nothing to compute: metrics=none and no callbacks; e.g. callbacks=parzen or metrics=mnist.")
    model = model_from_checkpoint(ckpt, Path(cfg.ckpt_path))
    trainer = L.Trainer(**cfg.trainer, callbacks=callbacks, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    (logged,) = trainer.validate(model, datamodule=datamodule, verbose=False)
    scores = {k.removeprefix("val/"): float(v) for k, v in logged.items()}
    for callback in callbacks:
        scores.update(getattr(callback, "last", {}))  # float64 where available (logged values are float32)
    result = {
        "ckpt_path": str(Path(cfg.ckpt_path).resolve()),
        "epoch": ckpt.get("epoch"),
        "global_step": ckpt.get("global_step"),
        "scores": scores,
        "metrics": OmegaConf.to_container(metrics_cfg, resolve=True),
    }
    if extra:
        result["callbacks"] = OmegaConf.to_container(extra, resolve=True)
    if trainer.is_global_zero:
        tag = [f"{metrics_cfg.features}_{metrics_cfg.num_samples}"] if "_target_" in metrics_cfg else []
        out = Path(cfg.out) if cfg.get("out") else (
            Path(cfg.ckpt_path).resolve().parent.parent / "eval"
            / f"{'_'.join([Path(cfg.ckpt_path).stem, *tag, *extra])}.json"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        result["out"] = str(out)
    return result
