"""Every Lightning Trainer argument either works from the command line or fails naming what to use instead."""

import inspect
import time
from collections.abc import Callable
from datetime import timedelta

import lightning as L
import pytest
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar, Timer
from lightning.pytorch.profilers import SimpleProfiler
from lightning.pytorch.strategies import DDPStrategy, SingleDeviceStrategy
from omegaconf import DictConfig

from lit_gans.trainer_args import NOT_TRAINER_KEYS, build_trainer, check_trainer_config, clip_into_model, gan_strategy
from lit_gans.training import instantiate_dict, train

Compose = Callable[..., DictConfig]
RING = ["model=gan", "data=ring8", "data.num_samples=256", "trainer.accelerator=cpu"]


def trainer_from(compose_cfg: Compose, *overrides: str, quiet: bool = True) -> L.Trainer:
    cfg = compose_cfg(*RING, *overrides, quiet=quiet)
    check_trainer_config(cfg)
    clip_into_model(cfg)
    return build_trainer(cfg.trainer, instantiate_dict(cfg.get("callbacks")), [])


def test_every_trainer_argument_is_a_key_of_the_trainer_config(compose_cfg: Compose) -> None:
    """So `trainer.<arg>=...` needs no `+`; the keys that are set elsewhere say where (NOT_TRAINER_KEYS)."""
    arguments = set(inspect.signature(L.Trainer.__init__).parameters) - {"self"}
    keys = set(compose_cfg().trainer) - {"_target_"}
    assert arguments == keys, f"missing from conf/trainer/default.yaml: {arguments - keys}; unknown: {keys - arguments}"
    assert set(NOT_TRAINER_KEYS) <= arguments


def test_max_time_stops_training_on_the_clock(compose_cfg: Compose, one_thread: None) -> None:
    """`python train.py trainer.max_time=00:00:05:00` was refused ("not in struct"); here 2 s stop a 10^4-epoch run."""
    trainer = trainer_from(compose_cfg, "trainer.max_time=00:00:05:00")
    [timer] = [c for c in trainer.callbacks if isinstance(c, Timer)]
    assert timer.time_remaining() == timedelta(minutes=5).total_seconds()
    start = time.monotonic()
    _, objects = train(compose_cfg(*RING, "trainer.max_time=00:00:00:02", "trainer.max_epochs=10000"))
    assert time.monotonic() - start < 60
    assert 0 < objects["trainer"].current_epoch < 9999


@pytest.mark.parametrize(("override", "check"), [
    ("trainer.val_check_interval=0.5", lambda t: t.val_check_interval == 0.5),
    ("trainer.profiler=simple", lambda t: isinstance(t.profiler, SimpleProfiler)),
    ("trainer.detect_anomaly=true", lambda t: t._detect_anomaly is True),
    ("trainer.min_epochs=2", lambda t: t.fit_loop.min_epochs == 2),
    ("trainer.min_steps=10", lambda t: t.fit_loop.min_steps == 10),
    ("trainer.overfit_batches=2", lambda t: t.overfit_batches == 2),
    ("trainer.limit_test_batches=3", lambda t: t.limit_test_batches == 3),
    ("trainer.reload_dataloaders_every_n_epochs=2", lambda t: t.reload_dataloaders_every_n_epochs == 2),
    ("trainer.inference_mode=false", lambda t: t.predict_loop.inference_mode is False),
    ("trainer.use_distributed_sampler=false", lambda t: t._accelerator_connector.use_distributed_sampler is False),
])
def test_trainer_arguments_from_the_command_line_reach_the_trainer(compose_cfg: Compose, override: str,
                                                                   check: Callable[[L.Trainer], bool]) -> None:
    assert check(trainer_from(compose_cfg, override))


def test_turning_checkpointing_or_the_progress_bar_off_drops_their_callbacks(compose_cfg: Compose) -> None:
    """Lightning refuses enable_checkpointing=False beside a ModelCheckpoint; the callbacks group has one."""
    on = trainer_from(compose_cfg, "callbacks=default", quiet=False)
    assert any(isinstance(c, ModelCheckpoint) for c in on.callbacks)
    off = trainer_from(compose_cfg, "callbacks=default", "trainer.enable_checkpointing=false",
                       "trainer.enable_progress_bar=false", quiet=False)
    assert not any(isinstance(c, (ModelCheckpoint, ProgressBar)) for c in off.callbacks)


def test_gradient_clip_val_clips_each_player(compose_cfg: Compose) -> None:
    """Lightning refuses Trainer(gradient_clip_val) under manual optimization; here it becomes the model's."""
    cfg = compose_cfg(*RING, "trainer.gradient_clip_val=0.5", "trainer.gradient_clip_algorithm=value")
    clip_into_model(cfg)
    assert (cfg.model.gradient_clip_val, cfg.model.gradient_clip_algorithm) == (0.5, "value")
    assert cfg.trainer.gradient_clip_val is None
    _, objects = train(compose_cfg(*RING, "trainer.gradient_clip_val=0.5", "trainer.max_steps=2"))
    assert objects["model"].hparams.gradient_clip_val == 0.5
    with pytest.raises(ValueError, match="disagree"):
        clip_into_model(compose_cfg(*RING, "trainer.gradient_clip_val=0.5", "model.gradient_clip_val=1.0"))


@pytest.mark.parametrize(("override", "fix"), [
    ("trainer.accumulate_grad_batches=4", "batch_size="),
    ("trainer.barebones=true", "logger=\\[\\] callbacks=none"),
    ("trainer.logger=false", "logger group"),
    ("trainer.callbacks=[]", "callbacks group"),
    ("trainer.strategy=ddp_find_unused_parameters_false", "trainer.strategy=ddp_find_unused_parameters_true"),
])
def test_arguments_that_do_not_apply_are_refused_with_the_fix(compose_cfg: Compose, override: str, fix: str) -> None:
    with pytest.raises(ValueError, match=fix):
        train(compose_cfg(*RING, "trainer.devices=2", override) if "strategy" in override else compose_cfg(*RING, override))


def test_one_device_runs_without_ddp_and_several_find_unused_parameters(compose_cfg: Compose) -> None:
    one = trainer_from(compose_cfg)
    assert isinstance(one.strategy, SingleDeviceStrategy)
    for overrides, world_size in ((["trainer.devices=2"], 2), (["trainer.devices=3", "trainer.num_nodes=2"], 6),
                                  (["trainer.devices=2", "trainer.strategy=ddp_spawn"], 2)):
        trainer = trainer_from(compose_cfg, *overrides)
        assert isinstance(trainer.strategy, DDPStrategy) and trainer.world_size == world_size
        assert trainer.strategy._ddp_kwargs.get("find_unused_parameters") is True, overrides
    assert gan_strategy("auto") == "ddp_find_unused_parameters_true"
    assert gan_strategy("ddp_spawn") == "ddp_spawn_find_unused_parameters_true"
    assert gan_strategy("ddp_fork_find_unused_parameters_true") == "ddp_fork_find_unused_parameters_true"

