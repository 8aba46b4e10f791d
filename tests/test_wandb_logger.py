"""logger=wandb without a network (WANDB_MODE=disabled): what reaches the run, one run per job,
and resuming a checkpoint continues the same W&B run."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import lightning as L
import pytest
import torch
import wandb
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict, read_write

from lit_gans.loggers import WANDB_RUN_ID, wandb_init_overrides
from lit_gans.training import resolved_config, train

Compose = Callable[..., DictConfig]
# 5 batches of a WGAN-GP on the ring (n_critic 5: one G step), a 200-sample evaluation
TOY = ["model=wgan_gp", "data=ring8", "data.num_samples=320", "batch_size=64", "trainer.max_epochs=1",
       "trainer.log_every_n_steps=1", "trainer.limit_val_batches=1", "metrics=modes", "metrics.num_samples=200",
       "metrics.batch_size=200", "logger=wandb"]
CALLBACKS = ["callbacks=[model_checkpoint,samples]", "callbacks.samples.every_n_batches=2",
             "callbacks.samples.num_samples=16"]


class WandbSpy:
    """Wraps ``wandb.init`` / ``wandb.finish`` (the real ones still run, in disabled mode) and the
    run's ``log`` / ``log_artifact``, recording what W&B would have received."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inits: list[dict[str, Any]] = []
        self.finished: list[dict[str, Any]] = []  # the run's id and config when wandb.finish() was called
        self.logged: list[dict[str, Any]] = []
        self.artifacts: list[Any] = []
        init, finish = wandb.init, wandb.finish

        def spy_init(**kwargs: Any) -> Any:
            self.inits.append(kwargs)
            run = init(**kwargs)
            run.log = lambda data, *a, **k: self.logged.append(dict(data))
            run.log_artifact = lambda artifact, *a, **k: self.artifacts.append((artifact, k))
            return run

        def spy_finish(*args: Any, **kwargs: Any) -> None:
            run = wandb.run
            self.finished.append({"id": run.id if run else None, "config": dict(run.config) if run else None,
                                  "tags": tuple(run.tags) if run else None, **kwargs})
            finish(*args, **kwargs)

        monkeypatch.setattr(wandb, "init", spy_init)
        monkeypatch.setattr(wandb, "finish", spy_finish)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[WandbSpy]:
    assert wandb.run is None
    yield WandbSpy(monkeypatch)
    wandb.finish()  # never leak a run into another test


def test_config_scalars_images_artifact_and_run_id_reach_wandb_and_resume_continues_the_run(
    compose_cfg: Compose, spy: WandbSpy, one_thread: None
) -> None:
    cfg = compose_cfg(*TOY, *CALLBACKS, "logger.wandb.log_model=true", "seed=0")
    train(cfg)
    # one run, opened and finished once, successfully
    assert len(spy.inits) == 1 and len(spy.finished) == 1 and spy.finished[0]["exit_code"] == 0
    assert wandb.run is None
    run_id = spy.finished[0]["id"]
    # the resolved config (no interpolations, no hydra node) and the model/data/loss tags
    assert spy.finished[0]["config"] == resolved_config(cfg)
    assert spy.finished[0]["config"]["model"]["n_critic"] == 5 and "hydra" not in spy.finished[0]["config"]
    assert spy.finished[0]["tags"] == ("wgan_gp", "ring8", "wasserstein_gp")
    assert spy.inits[0]["group"] is None  # a single run: no sweep group
    # every scalar: both players' training values, the validation and generator metrics
    keys = set().union(*spy.logged)
    assert {"train/d_loss", "train/g_loss", "train/gradient_penalty", "val/d_real", "val/reverse_kl",
            "val/modes_covered"} <= keys
    # sample plots: batches 2 and 4 and the end of training (5 batches, n_critic 5: global step = batches + 1)
    images = [entry for entry in spy.logged if "samples" in entry]
    assert [entry["trainer/global_step"] for entry in images] == [2, 4, 6]
    assert all(isinstance(entry["samples"][0], wandb.Image) for entry in images)
    # log_model=true: the last checkpoint, once, when training ends
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    assert len(spy.artifacts) == 1
    artifact, kwargs = spy.artifacts[0]
    assert artifact.type == "model" and artifact.name == f"model-{run_id}" and kwargs["aliases"] == ["latest", "best"]
    assert artifact.metadata["original_filename"] == "last.ckpt"
    # the run id is in the checkpoint ...
    assert torch.load(ckpt, weights_only=True)[WANDB_RUN_ID] == run_id

    # ... and resuming from it continues that run instead of opening a new one
    resumed = compose_cfg(*TOY, *CALLBACKS, "trainer.max_epochs=2", "seed=0", f"ckpt_path={ckpt}")
    _, objects = train(resumed)
    assert objects["trainer"].current_epoch == 2
    assert spy.inits[1]["id"] == run_id and spy.inits[1]["resume"] == "allow"
    assert spy.finished[1]["id"] == run_id and wandb.run is None
    assert torch.load(ckpt, weights_only=True)[WANDB_RUN_ID] == run_id


def test_a_new_run_gets_a_new_wandb_run(compose_cfg: Compose, spy: WandbSpy, one_thread: None) -> None:
    for _ in range(2):
        train(compose_cfg(*TOY, "callbacks=none"))
    assert [init.get("id") for init in spy.inits] == [None, None]  # no resume: W&B draws fresh ids
    ids = [finished["id"] for finished in spy.finished]
    assert len(set(ids)) == 2 and None not in ids


def test_a_failed_job_still_finishes_its_run_marked_failed(
    compose_cfg: Compose, spy: WandbSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(L.Trainer, "fit", crash)
    with pytest.raises(RuntimeError, match="out of memory"):
        train(compose_cfg(*TOY, "callbacks=none"))
    assert [f["exit_code"] for f in spy.finished] == [1] and wandb.run is None


def test_user_given_run_id_wins_over_the_checkpoints() -> None:
    checkpoint = {WANDB_RUN_ID: "saved"}
    assert wandb_init_overrides({"id": None}, checkpoint) == {"id": "saved", "resume": "allow"}
    assert wandb_init_overrides({"id": "mine"}, checkpoint) == {}
    assert wandb_init_overrides({"id": None}, {"state_dict": {}}) == {}  # a checkpoint written without W&B
    assert wandb_init_overrides({"id": None}, None) == {}


def test_multirun_jobs_are_grouped_by_sweep_and_named_by_job(compose_cfg: Compose, tmp_path: Path) -> None:
    cfg = compose_cfg("logger=wandb", quiet=False)
    logger = cfg.logger.wandb
    assert wandb_init_overrides(logger, None) == {}  # a single run keeps the configured name, no group
    with read_write(cfg.hydra), open_dict(cfg.hydra):
        cfg.hydra.mode = RunMode.MULTIRUN
        cfg.hydra.sweep.dir = str(tmp_path / "multirun" / "2024-01-01_12-00-00")
        cfg.hydra.job.num = 3
    HydraConfig().set_config(cfg)
    try:
        assert wandb_init_overrides(logger, None) == {"group": "2024-01-01_12-00-00", "name": "dcgan-mnist-3"}
        assert wandb_init_overrides({**logger, "group": "mine", "name": None}, None) == {}
    finally:
        compose_cfg()  # back to a single-run HydraConfig for whatever runs next
