"""Hydra sweeps: an Optuna multirun as a user starts it, the search configs, the metric train() returns,
the SLURM launcher config."""

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import yaml
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from helpers import CONF, ROOT, config_names
from lit_gans.training import train

Compose = Callable[..., DictConfig]
# tiny toy jobs: a 2-D Gaussian N((2, 0), 0.7² I) (one "ring" mode), 8 batches, a 200-sample evaluation
TINY = ["data=ring8", "data.distribution.num_modes=1", "data.distribution.std=0.7", "data.num_samples=512",
        "batch_size=64", "trainer.limit_val_batches=1", "metrics.num_samples=200", "metrics.batch_size=200"]


def run_train(*args: str, tmp_path: Path, wandb_mode: str = "disabled") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": wandb_mode, "WANDB_DIR": str(tmp_path),
           "WANDB_CACHE_DIR": str(tmp_path / "wandb-cache"), "WANDB_CONFIG_DIR": str(tmp_path / "wandb-config")}
    cmd = [sys.executable, "train.py", *args, "trainer.enable_progress_bar=false"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def final_metrics(run: Path) -> dict[str, float]:
    """The last logged value of every column of a run's csv/metrics.csv."""
    last: dict[str, float] = {}
    with open(run / "csv" / "metrics.csv") as f:
        for row in csv.DictReader(f):
            last.update({k: float(v) for k, v in row.items() if v != ""})
    return last


def test_optuna_sweep_runs_trials_in_their_own_folders_and_wandb_runs_and_optimises_the_logged_metric(
    tmp_path: Path,
) -> None:
    """`python train.py -m hparams_search=wgan_gp_optuna` for two tiny trials (one subprocess: a
    multirun's job folders and W&B runs come from the same launcher for grid and Optuna sweeps)."""
    sweep = tmp_path / "multirun"
    run_train("-m", "hparams_search=wgan_gp_optuna", *TINY, "optimized_metric=val/high_quality_pct",
              "hydra.sweeper.direction=maximize", "hydra.sweeper.n_trials=2", "callbacks=model_checkpoint",
              "logger=[csv,wandb]", f"hydra.sweep.dir={sweep}", tmp_path=tmp_path, wandb_mode="offline")
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0", "1"]
    # each trial: its own folder, config with its own sampled parameters (inside the search space), checkpoint
    trials = [OmegaConf.load(sweep / job / ".hydra" / "config.yaml") for job in jobs]
    assert trials[0].model.optimizer_g.lr != trials[1].model.optimizer_g.lr
    for job, trial in zip(jobs, trials):
        assert trial.model._target_ == "lit_gans.models.WGANGP" and (sweep / job / "checkpoints" / "last.ckpt").is_file()
        assert 1e-5 <= trial.model.optimizer_g.lr <= 1e-3 and trial.model.n_critic in (1, 2, 5, 10)
        assert 1 <= trial.loss.gp_weight <= 100 and trial.model.loss.gp_weight == trial.loss.gp_weight
    # ... and its own W&B run (offline: a folder named after the run id), since each job ends its run
    run_ids = []
    for job in jobs:
        offline = list((sweep / job / "wandb").glob("offline-run-*"))
        assert len(offline) == 1, offline
        run_ids.append(offline[0].name.rsplit("-", 1)[1])
    assert len(set(run_ids)) == 2
    # train() returned the logged metric: Optuna's best value is the better one, in the configured direction
    result = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    logged = [final_metrics(sweep / job)["val/high_quality_pct"] for job in jobs]
    assert logged[0] != logged[1]  # (seeded: 67.0 and 12.5) so the direction decides which one is best
    assert isinstance(result["best_value"], float) and result["best_value"] == max(logged), logged
    assert set(result["best_params"]) == set(search_space("wgan_gp_optuna"))


def test_a_run_that_never_logged_the_optimized_metric_fails_naming_what_it_logged(
    compose_cfg: Compose, one_thread: None
) -> None:
    toy = [*TINY, "metrics=modes", "callbacks=none"]
    metrics, _ = train(compose_cfg(*toy, "optimized_metric=val/high_quality_pct"))
    assert isinstance(metrics["val/high_quality_pct"], float)  # what train.py hands the sweeper
    with pytest.raises(ValueError, match=r"optimized_metric=val/fid was not logged.*'val/reverse_kl'"):
        train(compose_cfg(*toy, "optimized_metric=val/fid"))  # toy data score modes, not FID


def search_space(name: str) -> dict[str, str]:
    return dict(OmegaConf.load(CONF / "hparams_search" / f"{name}.yaml").hydra.sweeper.params)


@pytest.mark.parametrize("name", config_names("hparams_search"))
def test_every_search_names_real_keys_and_a_metric_its_runs_log(compose_cfg: Compose, name: str) -> None:
    cfg = compose_cfg(f"hparams_search={name}", quiet=False)
    assert cfg.hydra.sweeper._target_.endswith("OptunaSweeper") and cfg.hydra.mode.name == "MULTIRUN"
    assert cfg.hydra.sweeper.direction in ("minimize", "maximize")
    model = name.removesuffix("_optuna")
    assert cfg.hydra.runtime.choices.model == model
    for key in search_space(name):  # a typo would only fail when the first trial starts
        assert OmegaConf.select(cfg, key, default="missing") != "missing", key
    # the objective comes from the metrics the data config turns on (conf/metrics/mnist.yaml)
    assert cfg.metrics.features == "mnist" and cfg.optimized_metric in ("val/fid", "val/code_accuracy")
    assert (cfg.hydra.sweeper.direction == "maximize") == (cfg.optimized_metric == "val/code_accuracy")


def test_flagship_variants_have_a_search() -> None:
    assert {"dcgan_optuna", "wgan_optuna", "wgan_gp_optuna", "infogan_optuna"} <= set(config_names("hparams_search"))
    assert {"model.n_critic", "loss.gp_weight"} <= set(search_space("wgan_gp_optuna"))


def test_slurm_launcher_sizes_jobs_from_the_trainer(
    compose_cfg: Compose, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hydra/launcher=slurm composes and builds without a cluster, and the sbatch script submitit would
    submit asks for trainer.num_nodes nodes with trainer.devices GPUs and tasks (one DDP rank each)."""
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    import submitit

    cfg = compose_cfg("hydra/launcher=slurm", "trainer=ddp", "trainer.devices=4", "trainer.num_nodes=2",
                      "hydra.launcher.partition=gpu", quiet=False)
    launcher = instantiate(cfg.hydra.launcher)
    assert type(launcher).__name__ == "SlurmLauncher"
    params = launcher.params
    assert (params["nodes"], params["tasks_per_node"], params["gpus_per_node"]) == (2, 4, 4)
    # the executor submitit builds from these parameters, as the launcher does (srun/sbatch faked: no cluster here)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in ("srun", "sbatch"):
        (fake_bin / tool).write_text("#!/bin/sh\nexit 1\n")
        (fake_bin / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    assert shutil.which("srun")
    executor = submitit.AutoExecutor(cluster="slurm", folder=tmp_path / "submitit",
                                     slurm_max_num_timeout=params["max_num_timeout"])
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(**{k if k in base else f"slurm_{k}": v for k, v in params.items()
                                  if k not in ("submitit_folder", "max_num_timeout")})
    sbatch = executor._executor._make_submission_file_text("python -u -m submitit.core._submit", "uid")
    for line in ("--nodes=2", "--ntasks-per-node=4", "--gpus-per-node=4", "--partition=gpu", "--time=1440",
                 "--cpus-per-task=8", "--mem=64GB"):
        assert re.search(rf"^#SBATCH {line}$", sbatch, re.MULTILINE), line
