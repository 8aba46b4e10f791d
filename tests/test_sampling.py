"""sample.py and lit_gans.sampling: checkpoints rebuild the generator; grids, walks, arrays."""

import importlib.util
import math
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from PIL import Image
from omegaconf import DictConfig
from torch.testing import assert_close

from helpers import CONF, ROOT, needs_mnist
from lit_gans.sampling import load_model, slerp, to_uint8_nhwc
from lit_gans.training import train

Compose = Callable[..., DictConfig]


def _sample_app() -> Callable[[DictConfig], Path]:
    """sample.py's main without the Hydra wrapper (tests call it with composed configs); loaded by
    path because the repository root is not on sys.path when pytest runs as a console script."""
    spec = importlib.util.spec_from_file_location("sample_app", ROOT / "sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main.__wrapped__


def test_slerp_endpoints_norm_and_midpoint() -> None:
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    path = slerp(a, b, torch.linspace(0, 1, 5))  # (1, 5, 2)
    assert_close(path[0, 0], a[0])
    assert_close(path[0, -1], b[0])
    assert_close(path.norm(dim=-1), torch.ones(1, 5))  # stays on the circle, unlike a straight line
    assert_close(path[0, 2], torch.tensor([1.0, 1.0]) / math.sqrt(2))


def test_uint8_layout() -> None:
    x = torch.tensor([-1.0, 0.0, 1.0]).view(1, 3, 1, 1)
    assert to_uint8_nhwc(x).tolist() == [[[[0, 128, 255]]]]


@pytest.fixture
def checkpoint(compose_cfg: Compose) -> tuple[Path, torch.nn.Module]:
    _, objects = train(compose_cfg("model=wgan_gp", "data=mnist", "trainer.limit_train_batches=2",
                                   "callbacks=model_checkpoint", "data.download=false"))
    return Path(objects["trainer"].checkpoint_callback.best_model_path), objects["model"]


@needs_mnist
def test_checkpoint_rebuilds_the_trained_generator(checkpoint: tuple[Path, torch.nn.Module]) -> None:
    path, trained = checkpoint
    loaded = load_model(path)
    z = torch.randn(4, 100)
    trained.eval()
    with torch.no_grad():
        assert_close(loaded.generator(z), trained.generator(z))
    assert type(loaded) is type(trained)


@needs_mnist
def test_sample_cli_writes_an_array_and_an_interpolation(checkpoint: tuple[Path, torch.nn.Module], tmp_path: Path) -> None:
    path, _ = checkpoint
    run = lambda *args: subprocess.run([sys.executable, "sample.py", f"ckpt_path={path}", *args],  # noqa: E731
                                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = run("n=10", f"out={tmp_path / 'x.npz'}")
    assert out.returncode == 0, out.stderr[-2000:]
    arr = np.load(tmp_path / "x.npz")
    assert arr["images"].shape == (10, 28, 28, 1) and arr["images"].dtype == np.uint8
    out = run("mode=interpolate", "rows=2", "steps=5")
    assert out.returncode == 0, out.stderr[-2000:]
    assert (path.parent.parent / "samples" / "interpolate.png").is_file()


def test_load_model_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="last.ckpt"):
        load_model(tmp_path / "nope.ckpt")
    (tmp_path / "bad.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="corrupt"):
        load_model(tmp_path / "bad.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "other.ckpt")
    with pytest.raises(ValueError, match="not written by lit_gans"):
        load_model(tmp_path / "other.ckpt")


@needs_mnist
def test_conditional_models_sample_a_row_per_class(compose_cfg: Compose, tmp_path: Path) -> None:
    _, objects = train(compose_cfg("model=acgan", "data=mnist", "trainer.limit_train_batches=2",
                                   "callbacks=model_checkpoint", "data.download=false"))
    ckpt = Path(objects["trainer"].checkpoint_callback.best_model_path)
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        grid = compose("sample", overrides=[f"ckpt_path={ckpt}", f"out={tmp_path / 'grid.png'}"])
        array = compose("sample", overrides=[f"ckpt_path={ckpt}", "n=30", f"out={tmp_path / 'x.npz'}"])
        walk = compose("sample", overrides=[f"ckpt_path={ckpt}", "mode=interpolate"])
    GlobalHydra.instance().clear()
    sample_main = _sample_app()
    sample_main(grid)
    assert Image.open(tmp_path / "grid.png").size == (10 * 30 + 2, 10 * 30 + 2)  # 10 classes x 10 columns of 28+2 px
    sample_main(array)
    assert np.load(tmp_path / "x.npz")["images"].shape == (30, 28, 28, 1)
    with pytest.raises(ValueError, match="mode=grid"):
        sample_main(walk)
