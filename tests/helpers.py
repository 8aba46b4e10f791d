"""Shared test helpers (a module of its own: tests/data has another conftest.py)."""

import importlib.util
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
os.environ.setdefault("LIT_GANS_DATA_DIR", str(ROOT.parent / "shared" / "data"))
os.environ["WANDB_MODE"] = "disabled"
MNIST_RAW = Path(os.environ["LIT_GANS_DATA_DIR"]) / "MNIST" / "raw"
needs_mnist = pytest.mark.skipif(
    not (MNIST_RAW / "train-images-idx3-ubyte").exists() and not (MNIST_RAW / "train-images-idx3-ubyte.gz").exists(),
    reason=f"MNIST not found in {MNIST_RAW}; set LIT_GANS_DATA_DIR",
)


def config_names(group: str) -> list[str]:
    """Every YAML of a config group: the config directory is the registry tests glob."""
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def load_module(path: Path, name: str) -> ModuleType:
    """The Python file ``path`` loaded as module ``name`` (registered in sys.modules, so its dataclasses work): scripts
    and benchmarks are loaded by path because the repository root is not on sys.path when pytest runs."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_benchmark(script: str, name: str) -> ModuleType:
    """``benchmarks/<script>.py`` loaded as module ``name``, the benchmarks folder on sys.path for its own imports
    (``wgan_common``, ``results_tables``, ...)."""
    folder = str(ROOT / "benchmarks")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return load_module(ROOT / "benchmarks" / f"{script}.py", name)


def script_main(script: str) -> Callable[[DictConfig], Any]:
    """A repository script's main (``script``.py: sample, encode, project, translate, blend, ...) without the Hydra
    wrapper: tests call it with composed configs."""
    return load_module(ROOT / f"{script}.py", f"{script}_app").main.__wrapped__


def compose_config(config: str, *overrides: str, return_hydra_config: bool = False) -> DictConfig:
    """``conf/<config>.yaml`` composed with the overrides, Hydra's global state cleared before and after."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        composed = compose(config, overrides=list(overrides), return_hydra_config=return_hydra_config)
    GlobalHydra.instance().clear()
    return composed


def run_script(script: str, *overrides: str) -> Any:
    """``python <script>.py <overrides>`` in this process: the script's main on ``conf/<script>.yaml`` composed."""
    return script_main(script)(compose_config(script, *overrides))


def train_in_process(run_dir: Path, *overrides: str) -> DictConfig:
    """``python train.py <overrides>`` in this process, its run folder at ``run_dir`` (Hydra's runtime config set as
    train.py's would be), on one thread; returns the composed config."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from lit_gans.training import train

    cfg = compose_config("train", *overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
    HydraConfig().set_config(cfg)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(cfg)
    finally:
        torch.set_num_threads(threads)
    return cfg


def t(*values: float) -> torch.Tensor:
    """A float64 tensor of the given values: loss tests compare against hand-computed numbers."""
    return torch.tensor(values, dtype=torch.float64)


class CrashAtEpoch(L.Callback):
    """Raises at the start of training epoch ``epoch``: a run killed mid-training, for resume tests."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise RuntimeError(f"simulated crash at the start of epoch {self.epoch}")


def batch_kind(group: str, name: str) -> str:
    """What a batch of ``conf/<group>/<name>.yaml`` carries: the ``batch_kind`` of the class it names ("images",
    "paired" or "unpaired"; models and datamodules declare it). Tests pick compatible models and data by it, not by name."""
    from hydra.utils import get_class
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(CONF / group / f"{name}.yaml")
    target = (cfg.get("model") or {} if group == "model" else cfg).get("_target_")
    return getattr(get_class(target), "batch_kind", "images") if target else "images"


# the offline data each kind of model is smoke-tested on (a model's batch_kind picks it)
BUILT_IN_DATA = {"images": "mnist", "paired": "mnist_edges", "unpaired": "mnist_mnistm"}


def half_and_resumed_runs(make_model: Callable[[], L.LightningModule], make_trainer: Callable[[int], L.Trainer],
                          make_loader: Callable[[], Any], tmp_path: Path) -> tuple[L.LightningModule, L.LightningModule, dict]:
    """Exact-resume harness: a 2-epoch run, a 1-epoch run saved to ``half.ckpt``, and a run resumed from it to epoch 2,
    each from seed 0 (``make_trainer(max_epochs)``, ``make_loader()`` a fresh loader per run).
    Returns (the uninterrupted model, the resumed model, the half-way checkpoint as loaded data)."""
    def run(max_epochs: int, ckpt: Path | None = None, save: Path | None = None) -> L.LightningModule:
        torch.manual_seed(0)
        model = make_model()
        trainer = make_trainer(max_epochs)
        trainer.fit(model, make_loader(), ckpt_path=ckpt)
        if save is not None:
            trainer.save_checkpoint(save)
        return model

    half = tmp_path / "half.ckpt"
    full = run(2)
    run(1, save=half)
    resumed = run(2, ckpt=half)
    return full, resumed, torch.load(half, weights_only=True)


def record_moved_networks(model: L.LightningModule, nets: Mapping[str, str] | Sequence[str]) -> list[tuple[str, set[str]]]:
    """Wraps the skeleton's ``model._step`` so each optimizer step appends (its player, the names of the networks whose
    parameters it changed) to the list returned; fit the model to fill it. ``nets``: the submodules to watch
    (``model.get_submodule`` paths), or a mapping of the names to report to those paths."""
    paths = dict(nets) if isinstance(nets, Mapping) else {path: path for path in nets}
    moved: list[tuple[str, set[str]]] = []
    real_step = model._step

    def params(path: str) -> list[torch.Tensor]:
        return [p.detach().clone() for p in model.get_submodule(path).parameters()]

    def step_and_compare(optimizer: Any, loss: torch.Tensor, which: str) -> None:
        before = {name: params(path) for name, path in paths.items()}
        real_step(optimizer, loss, which)
        moved.append((which, {name for name, path in paths.items()
                              if any(not torch.equal(a, b) for a, b in zip(before[name], params(path)))}))

    model._step = step_and_compare
    return moved


def assert_same_state(a: L.LightningModule, b: L.LightningModule) -> None:
    """Every tensor of the two state dicts bit-identical, naming the first that differs."""
    from torch.testing import assert_close

    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert_close(x, y, rtol=0, atol=0, msg=lambda m, n=name: f"{n}: {m}")
