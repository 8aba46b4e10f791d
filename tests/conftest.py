"""Shared fixtures: offline data root, W&B disabled, Hydra composition of the real configs."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from helpers import CONF

# One torch thread per test process (and per subprocess a test starts): the tests' networks are tiny, and with two
# pytest-xdist workers on a 2-core machine, two OpenMP threads per process oversubscribe the cores; their spinning
# made one CycleGAN test 50x slower (a 0.1 s conv2d) on a loaded machine.
torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def compose_cfg(tmp_path: Path) -> Iterator[Callable[..., DictConfig]]:
    """compose_cfg(*overrides) -> the composed train config, run folder in tmp_path, quiet."""

    def _compose(*overrides: str, quiet: bool = True) -> DictConfig:
        GlobalHydra.instance().clear()
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
            extra = ["callbacks=none", "logger=[]"] if quiet else []
            if quiet and not any(o.startswith("metrics=") for o in overrides):
                extra.append("metrics=none")  # tests that score the generator ask for it
            cfg = compose("train", overrides=[*extra, *overrides], return_hydra_config=True)
        with open_dict(cfg):
            cfg.hydra.runtime.output_dir = str(tmp_path / "run")
            cfg.trainer.enable_progress_bar = False
            cfg.trainer.enable_model_summary = False
        HydraConfig().set_config(cfg)
        return cfg

    yield _compose
    GlobalHydra.instance().clear()


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny networks run fastest on one thread (and far faster than two on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
