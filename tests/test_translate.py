"""translate.py (a user's image files through a translation checkpoint) and sample.py for translation models (grids
and arrays of the run's test split), on a tiny pix2pix trained here on mnist_edges."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT, compose_config, needs_mnist, run_script, train_in_process
from PIL import Image

from lit_gans.metrics import to_uint8
from lit_gans.sampling import load_model
from lit_gans.translation import (
    check_translation_model,
    is_translation_model,
    read_image,
    split_loader,
)

pytestmark = needs_mnist
TINY = ["model=pix2pix", "data=mnist_edges", "data.num_samples=64", "data.num_val_samples=40", "batch_size=16",
        "model.generator.ngf=4", "model.discriminator.ndf=4", "model.discriminator.n_layers=1", "trainer.max_epochs=1",
        "trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "metrics=none", "callbacks=model_checkpoint",
        "logger=[]", "trainer.enable_model_summary=false", "trainer.enable_progress_bar=false"]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pix2pix (U-Net of 5 levels, 32 px) after 2 batches of mnist_edges: a real checkpoint and run config (trained in
    this process; the run's .hydra/config.yaml written as train.py's Hydra would)."""
    from omegaconf import OmegaConf

    run = tmp_path_factory.mktemp("translate") / "run"
    train_cfg = train_in_process(run, *TINY)
    (run / ".hydra").mkdir()
    saved = OmegaConf.masked_copy(train_cfg, [k for k in train_cfg if k != "hydra"])
    OmegaConf.save(saved, run / ".hydra" / "config.yaml")
    return run / "checkpoints" / "last.ckpt"




def digits(n: int, size: int = 32) -> np.ndarray:
    """(n, size, size) uint8 stroke images (edge-map like: white lines on black)."""
    images = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        images[i, 4 + i: size - 4, 8 + 2 * i] = 255
        images[i, size // 2, 6: size - 6] = 255
    return images


def write_folder(root: Path) -> list[Path]:
    """Grey PNGs, an RGB JPG and a sub-folder: what a user's folder looks like."""
    (root / "more").mkdir(parents=True)
    images = digits(3)
    paths = [root / "a.png", root / "more" / "b.png", root / "c.jpg"]
    Image.fromarray(images[0]).save(paths[0])
    Image.fromarray(images[1]).save(paths[1])
    Image.fromarray(np.stack([images[2]] * 3, -1)).save(paths[2], quality=95)  # RGB: converted to the model's grey
    return paths


def test_translate_writes_one_png_per_input_with_its_name(ckpt: Path, tmp_path: Path) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    write_folder(inputs)
    written = run_script("translate", f"ckpt_path={ckpt}", f"input={inputs}", f"out={out}")
    assert sorted(p.relative_to(out).as_posix() for p in written) == ["a.png", "c.png", "more/b.png"]
    model = load_model(ckpt)
    for name in ("a.png", "more/b.png", "c.jpg"):  # one image per batch (batch_size=1), in sorted file order
        saved = Image.open(out / Path(name).with_suffix(".png"))
        assert saved.mode == "L" and saved.size == (32, 32)
    # the first file is batch 0: seed 0 of translate(), the same pixels as in Python
    x = read_image(inputs / "a.png", 1)[None]
    expected = to_uint8(model.translate(x, "AtoB", seed=0))[0, 0].numpy()
    assert np.array_equal(np.asarray(Image.open(out / "a.png")), expected)


def test_sizes_are_checked_before_anything_is_written_and_resize_fixes_them(ckpt: Path, tmp_path: Path) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    Image.fromarray(digits(1)[0]).save(inputs / "fits.png")
    Image.fromarray(digits(1, 30)[0]).save(inputs / "odd.png")  # 30 px: not a multiple of 2^5
    with pytest.raises(ValueError, match=r"odd.png: .*divisible by 2\^5 = 32.*30x30.*resize=32"):
        run_script("translate", f"ckpt_path={ckpt}", f"input={inputs}", f"out={out}")
    assert not out.exists()  # nothing written
    run_script("translate", f"ckpt_path={ckpt}", f"input={inputs / 'odd.png'}", f"out={out}", "resize=32")
    assert Image.open(out / "odd.png").size == (32, 32)
    run_script("translate", f"ckpt_path={ckpt}", f"input={inputs / 'fits.png'}", f"out={out}", "resize=[64,96]")
    assert Image.open(out / "fits.png").size == (96, 64)  # any size the U-Net takes: W 96, H 64


def test_direction_overwrites_and_name_clashes_are_refused(ckpt: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_folder(inputs)
    with pytest.raises(ValueError, match="data.direction=BtoA"):
        run_script("translate", f"ckpt_path={ckpt}", f"input={inputs}", f"out={tmp_path / 'o'}", "direction=BtoA")
    with pytest.raises(ValueError, match="overwrite the input"):
        run_script("translate", f"ckpt_path={ckpt}", f"input={inputs}", f"out={inputs}")
    Image.fromarray(digits(1)[0]).save(inputs / "c.png")  # beside c.jpg
    with pytest.raises(ValueError, match="both be written"):
        run_script("translate", f"ckpt_path={ckpt}", f"input={inputs}", f"out={tmp_path / 'o'}")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_script("translate", f"ckpt_path={ckpt}", f"input={tmp_path / 'nowhere'}", f"out={tmp_path / 'o'}")


def test_models_that_draw_from_noise_are_refused(compose_cfg: Any, tmp_path: Path, one_thread: None) -> None:
    from lit_gans.training import train

    gan = compose_cfg("model=gan", "data=ring8", "data.num_samples=128", "trainer.limit_train_batches=1",
                      "trainer.limit_val_batches=0", "trainer.max_epochs=1", "callbacks=model_checkpoint")
    train(gan)
    ckpt = Path(gan.paths.output_dir) / "checkpoints" / "last.ckpt"
    inputs = tmp_path / "in"
    write_folder(inputs)
    with pytest.raises(ValueError, match="does not translate images.*pix2pix"):
        run_script("translate", f"ckpt_path={ckpt}", f"input={inputs}", f"out={tmp_path / 'o'}")
    assert not is_translation_model(load_model(ckpt))
    with pytest.raises(ValueError, match="sample.py"):
        check_translation_model(load_model(ckpt), "translate.py")


@pytest.mark.slow
def test_the_translate_command_line(ckpt: Path, tmp_path: Path) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    write_folder(inputs)
    cmd = [sys.executable, "translate.py", f"ckpt_path={ckpt}", f"input={inputs / 'c.jpg'}", f"out={out}", "seed=3"]
    done = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "1 translated image(s)" in done.stdout and Image.open(out / "c.png").size == (32, 32)


# ----- sample.py ----------------------------------------------------------------------------------------------------
def test_sample_grid_rows_are_input_translation_target(ckpt: Path, tmp_path: Path) -> None:
    png = run_script("sample", f"ckpt_path={ckpt}", "split=test", "n=16", f"out={tmp_path / 'grid.png'}")
    assert Image.open(png).size == (16 * 34 + 2, 3 * 34 + 2)  # 16 columns of 32 px (+2 padding), 3 rows
    default = run_script("sample", f"ckpt_path={ckpt}", "n=4")
    assert default == ckpt.parent.parent / "samples" / "grid.png"


def test_sample_npz_holds_the_test_split_translated(ckpt: Path, tmp_path: Path) -> None:
    from lit_gans.encoding import run_datamodule

    arrays = np.load(run_script("sample", f"ckpt_path={ckpt}", f"out={tmp_path / 't.npz'}"))
    assert set(arrays.files) == {"inputs", "outputs", "targets", "labels"}
    assert arrays["inputs"].shape == arrays["outputs"].shape == arrays["targets"].shape == (40, 32, 32, 1)
    assert arrays["outputs"].dtype == np.uint8 and arrays["labels"].dtype == np.int64
    # row i is the i-th validation/test pair: its edges, its digit and label, and G(edges) with batch b seeded b
    model = load_model(ckpt)
    batch = next(iter(split_loader(run_datamodule(compose_config("sample", f"ckpt_path={ckpt}")), "test")))
    assert np.array_equal(arrays["inputs"][:16, ..., 0], to_uint8(batch.a)[:, 0].numpy())
    assert np.array_equal(arrays["targets"][:16, ..., 0], to_uint8(batch.b)[:, 0].numpy())
    assert np.array_equal(arrays["labels"][:16], batch.labels.numpy())
    assert np.array_equal(arrays["outputs"][:16, ..., 0], to_uint8(model.translate(batch.a, "AtoB", 0))[:, 0].numpy())
    limited = np.load(run_script("sample", f"ckpt_path={ckpt}", "limit=20", f"out={tmp_path / 'l.npz'}"))
    assert limited["outputs"].shape[0] == 20 and np.array_equal(limited["outputs"], arrays["outputs"][:20])
    one = np.load(run_script("sample", f"ckpt_path={ckpt}", "limit=3", "batch_size=1", f"out={tmp_path / '1.npz'}"))
    expected = [to_uint8(model.translate(batch.a[i: i + 1], "AtoB", i))[0, 0].numpy() for i in range(3)]
    assert np.array_equal(one["outputs"][..., 0], np.stack(expected))  # one pair per batch, batch i seeded i
    with pytest.raises(ValueError, match="mode=grid"):
        run_script("sample", f"ckpt_path={ckpt}", "mode=interpolate")
    with pytest.raises(ValueError, match="split must be one of"):
        run_script("sample", f"ckpt_path={ckpt}", "split=train")
