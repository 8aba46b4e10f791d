"""Logger wiring Lightning leaves to us: one W&B run per job, grouped by sweep, that a resume continues.

``WandbLogger`` calls ``wandb.init`` lazily with whatever id it was built with, never calls
``wandb.finish()``, and keeps no trace of the run in checkpoints. Here:

- `WandbRunId` writes the run id into every checkpoint (``checkpoint["wandb_run_id"]``);
- `wandb_init_overrides` turns that id into ``id=..., resume="allow"`` for the logger of a job
  started with ``ckpt_path``, and groups the jobs of a Hydra multirun (grid or Optuna) under the
  sweep's folder name;
- `finish_wandb` ends the run after each job, so the next job of a sweep opens its own.
"""

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from lightning.pytorch.loggers import WandbLogger

log = logging.getLogger(__name__)

WANDB_RUN_ID = "wandb_run_id"  # the checkpoint key


class WandbRunId(L.Callback):
    """Stores the W&B run id in every checkpoint, so ``ckpt_path=...`` resumes the same W&B run."""

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        for logger in trainer.loggers:
            # rank 0 writes the file; its logger has the experiment (other ranks' id may be None)
            if isinstance(logger, WandbLogger) and logger.version:
                checkpoint[WANDB_RUN_ID] = logger.version


def saved_wandb_run_id(checkpoint: Mapping[str, Any] | None) -> str | None:
    """The W&B run id a checkpoint was written under (None: no checkpoint, or no W&B)."""
    return checkpoint.get(WANDB_RUN_ID) if checkpoint else None


def wandb_init_overrides(logger_cfg: Mapping[str, Any], checkpoint: Mapping[str, Any] | None) -> dict[str, Any]:
    """Extra ``WandbLogger`` arguments for this job.

    - Resuming (a checkpoint with a run id, and no ``id`` set by the user): ``id=<saved>,
      resume="allow"``: W&B appends to the saved run (or creates it, e.g. after an offline run).
    - In a Hydra multirun, with ``group`` unset: ``group=<sweep folder name>`` so a grid or Optuna
      sweep is one W&B group, and the job number is appended to the run name.
    """
    extra: dict[str, Any] = {}
    saved = saved_wandb_run_id(checkpoint)
    if saved and not logger_cfg.get("id"):
        extra.update(id=saved, resume="allow")
        log.info("Resuming W&B run %s (from the checkpoint)", saved)
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        hydra = HydraConfig.get()
        if not logger_cfg.get("group"):
            extra["group"] = Path(hydra.sweep.dir).name
        if logger_cfg.get("name"):
            extra["name"] = f"{logger_cfg['name']}-{hydra.job.num}"
    return extra


def finish_wandb(loggers: list[Any], failed: bool = False) -> None:
    """``wandb.finish()`` when a W&B logger ran (``WandbLogger`` never calls it): without it the next
    job of a sweep would log into this run. A failed job is marked failed (exit code 1)."""
    if any(isinstance(lg, WandbLogger) for lg in loggers):
        import wandb

        wandb.finish(exit_code=1 if failed else 0)
