"""sample.py and lit_gans.sampling: checkpoints rebuild the generator; grids, walks, arrays."""

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
from hydra.utils import instantiate
from PIL import Image
from omegaconf import DictConfig
from torch.testing import assert_close

from helpers import BUILT_IN_DATA, CONF, ROOT, batch_kind, config_names, needs_mnist, script_main
from lit_gans.models import AdversarialModule
from lit_gans.models.infogan import Codes
from lit_gans.sampling import generate, load_model, sample_arrays, slerp, to_uint8_nhwc
from lit_gans.training import train

Compose = Callable[..., DictConfig]



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
    assert set(arr.files) == {"images", "z"} and arr["z"].shape == (10, 100)  # unconditional: as before
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
    _, objects = train(compose_cfg("model=acgan", "data=mnist", "trainer.limit_train_batches=2", "trainer.limit_val_batches=0",
                                   "callbacks=model_checkpoint", "data.download=false"))
    ckpt = Path(objects["trainer"].checkpoint_callback.best_model_path)
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        grid = compose("sample", overrides=[f"ckpt_path={ckpt}", f"out={tmp_path / 'grid.png'}"])
        array = compose("sample", overrides=[f"ckpt_path={ckpt}", "n=30", f"out={tmp_path / 'x.npz'}"])
        walk = compose("sample", overrides=[f"ckpt_path={ckpt}", "mode=interpolate"])
    GlobalHydra.instance().clear()
    sample_main = script_main("sample")
    sample_main(grid)
    assert Image.open(tmp_path / "grid.png").size == (10 * 30 + 2, 10 * 30 + 2)  # 10 classes x 10 columns of 28+2 px
    sample_main(array)
    arr = np.load(tmp_path / "x.npz")
    assert arr["images"].shape == (30, 28, 28, 1) and arr["labels"].shape == (30,) and arr["labels"].dtype == np.int64
    # the file alone rebuilds its images through the checkpoint's generator
    model = load_model(ckpt)
    with torch.no_grad():
        again = model.generator(torch.from_numpy(arr["z"]), torch.from_numpy(arr["labels"]))
    assert np.array_equal(to_uint8_nhwc(again).numpy(), arr["images"])
    with pytest.raises(ValueError, match="mode=grid"):
        sample_main(walk)


# ----- exports carry their conditions (issue 16, item 3) ------------------------------------------------------
def built(compose_cfg: Compose, name: str) -> AdversarialModule:
    """model=<name> with its initial weights, in eval mode as sample.py loads it; on its built-in data (MNIST for
    the image models; translation models on theirs: GP-GAN's blending GAN takes sides that are powers of two)."""
    data = BUILT_IN_DATA[batch_kind("model", name)]
    return instantiate(compose_cfg(f"model={name}", f"data={data}").model, _recursive_=False).eval()


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", ["cgan", "acgan"])
def test_exported_labels_are_the_ones_that_made_each_image(compose_cfg: Compose, name: str) -> None:
    model = built(compose_cfg, name)
    arrays = sample_arrays(model, 12, seeded(), batch_size=5)  # three draws of 5, 5 and 2
    assert set(arrays) == {"images", "z", "labels"}
    images, z, labels = arrays["images"], arrays["z"], arrays["labels"]
    assert images.shape == (12, 1, 28, 28) and z.shape == (12, 100) and labels.shape == (12,)
    assert z.dtype == torch.float32 and labels.dtype == torch.int64 and 0 <= labels.min() and labels.max() < 10
    with torch.no_grad():
        # the same batches again, from the saved arrays alone: the same pixels, bit for bit
        again = torch.cat([model.generator(zs, ys) for zs, ys in zip(z.split(5), labels.split(5))])
        assert torch.equal(again, images)
        i = 7  # one image alone (another batch size: equal up to float rounding; freshly built G's pixels are ~1e-2)
        assert_close(model.generator(z[i:i + 1], labels[i:i + 1]), images[i:i + 1], rtol=0, atol=1e-6)
        wrong = (labels + 1) % 10  # another label makes another image: the saved labels are the ones used
        assert (model.generator(z, wrong) - images).abs().amax(dim=(1, 2, 3)).min() > 1e-5
    assert all(torch.equal(v, arrays[k]) for k, v in sample_arrays(model, 12, seeded(), batch_size=5).items())  # seed
    assert not torch.equal(sample_arrays(model, 12, seeded(1))["labels"], labels)


def test_exported_infogan_codes_are_the_ones_that_made_each_image(compose_cfg: Compose) -> None:
    model = built(compose_cfg, "infogan")
    arrays = sample_arrays(model, 12, seeded(), batch_size=5)
    assert set(arrays) == {"images", "z", "codes_categorical", "codes_continuous"}
    z, cat, cont = arrays["z"], arrays["codes_categorical"], arrays["codes_continuous"]
    assert z.shape == (12, 62) and cat.shape == (12, 1) and cont.shape == (12, 2)  # one Cat(10), two Unif(-1, 1) codes
    assert cat.dtype == torch.int64 and cont.dtype == torch.float32 and set(cat.unique().tolist()) <= set(range(10))
    assert cont.abs().max() <= 1
    regenerate = lambda c, u: model.generator(model.generator_input(z, Codes(c, u)))  # noqa: E731
    with torch.no_grad():
        again = torch.cat([model.generator(model.generator_input(zs, Codes(cs, us)))
                           for zs, cs, us in zip(z.split(5), cat.split(5), cont.split(5))])
        assert torch.equal(again, arrays["images"])
        # one batch of 12: equal up to float rounding (freshly built G's pixels are ~1e-2)
        assert_close(regenerate(cat, cont), arrays["images"], rtol=0, atol=1e-6)
        for other in (regenerate((cat + 1) % 10, cont), regenerate(cat, -cont)):  # either code changes every image
            assert (other - arrays["images"]).abs().amax(dim=(1, 2, 3)).min() > 1e-5


@pytest.mark.parametrize("name", config_names("model"))
def test_every_model_exports_its_noise_and_conditions(compose_cfg: Compose, name: str) -> None:
    """A new conditional model gets its conditions exported (or must name them); unconditional exports are
    what they were: z from one draw of the seeded generator, and G(z)."""
    if batch_kind("model", name) != "images":
        with pytest.raises(NotImplementedError, match="translat"):  # no z to export: a clear error, not a crash
            sample_arrays(built(compose_cfg, name), 6, seeded())
        return
    model = built(compose_cfg, name)
    arrays = sample_arrays(model, 6, seeded())
    assert all(len(v) == 6 for v in arrays.values())
    if model.condition_kind is None:
        assert set(arrays) == {"images", "z"}
        z = model.sample_latent(6, generator=seeded())
        assert torch.equal(arrays["z"], z) and torch.equal(arrays["images"], generate(model, z))
    else:
        assert "z" in arrays and set(arrays) - {"images", "z"}, f"{name} exports no conditions"


@needs_mnist
def test_sample_cli_exports_infogan_codes_reproducibly(compose_cfg: Compose, tmp_path: Path) -> None:
    _, objects = train(compose_cfg("model=infogan", "data=mnist", "trainer.limit_train_batches=2",
                                   "trainer.limit_val_batches=0", "callbacks=model_checkpoint", "data.download=false"))
    ckpt = Path(objects["trainer"].checkpoint_callback.best_model_path)
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        cfgs = [compose("sample", overrides=[f"ckpt_path={ckpt}", "n=20", f"out={tmp_path / name}"])
                for name in ("a.npz", "b.npz")]
    GlobalHydra.instance().clear()
    sample_main = script_main("sample")
    for cfg in cfgs:
        sample_main(cfg)
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert set(a.files) == {"images", "z", "codes_categorical", "codes_continuous"}
    assert all(np.array_equal(a[k], b[k]) for k in a.files)  # seed=0 twice: the same file
    assert a["codes_categorical"].shape == (20, 1) and a["codes_continuous"].shape == (20, 2)
    model = load_model(ckpt)
    codes = Codes(torch.from_numpy(a["codes_categorical"]), torch.from_numpy(a["codes_continuous"]))
    with torch.no_grad():
        again = model.generator(model.generator_input(torch.from_numpy(a["z"]), codes))
    assert np.array_equal(to_uint8_nhwc(again).numpy(), a["images"])
