"""blend.py: GP-GAN on a user's own images, Poisson-only without a checkpoint and with a tiny blending GAN trained
here on the offline photo composites; the figure; clear errors for mismatched inputs and foreign checkpoints."""

from pathlib import Path

import numpy as np
import pytest
from helpers import run_script, train_in_process
from PIL import Image

TINY = ["model=gpgan", "data=photo_composites", "data.image_size=16", "data.num_samples=16", "data.num_val_samples=8",
        "batch_size=8", "model.generator.nef=4", "model.generator.ngf=4", "model.generator.bottleneck=8",
        "model.discriminator.ndf=4", "trainer.max_epochs=1", "trainer.limit_val_batches=1", "metrics=none",
        "callbacks=model_checkpoint", "logger=[]", "trainer.enable_model_summary=false",
        "trainer.enable_progress_bar=false"]




@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blending GAN (16 px, tiny) after 2 batches: a real checkpoint written by train()."""
    tmp = tmp_path_factory.mktemp("blend")
    train_in_process(tmp / "run", *TINY, f"data.root={tmp / 'data'}")
    return tmp / "run" / "checkpoints" / "last.ckpt"


def inputs(folder: Path, size: tuple[int, int] = (48, 64), mask_size: tuple[int, int] | None = None) -> list[str]:
    """A source, a destination and a mask (a white rectangle) as PNG files; the blend.py arguments naming them."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    h, w = size
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / "src.png")
    Image.fromarray(np.full((h, w, 3), (40, 120, 200), dtype=np.uint8)).save(folder / "dst.png")
    mh, mw = mask_size or size
    mask = np.zeros((mh, mw), dtype=np.uint8)
    mask[mh // 4: 3 * mh // 4, mw // 4: 3 * mw // 4] = 255
    Image.fromarray(mask).save(folder / "mask.png")
    return [f"source={folder / 'src.png'}", f"destination={folder / 'dst.png'}", f"mask={folder / 'mask.png'}"]


def test_poisson_only_blend_and_figure(tmp_path: Path) -> None:
    out = run_script("blend", *inputs(tmp_path), f"out={tmp_path / 'out.png'}", "image_size=16",
                     f"figure={tmp_path / 'fig.png'}")
    with Image.open(out) as image:
        assert image.size == (64, 48) and image.mode == "RGB"
        blended = np.asarray(image).astype(float)
    assert np.abs(blended[:4] - np.array([40, 120, 200])).max() <= 8  # far from the mask: about the destination
    with Image.open(tmp_path / "src.png") as src:
        inside = (slice(14, 34), slice(18, 46))
        texture = np.abs(blended[inside] - np.asarray(src).astype(float)[inside]).mean()
    assert texture < 20 < np.abs(blended[inside] - np.array([40, 120, 200])).mean()  # inside: the source's texture
    assert (tmp_path / "fig.png").is_file()


def test_gp_gan_blend_with_a_checkpoint(tmp_path: Path, ckpt: Path) -> None:
    out = run_script("blend", *inputs(tmp_path), f"out={tmp_path / 'out.png'}", f"ckpt_path={ckpt}",
                     f"figure={tmp_path / 'fig.png'}")
    with Image.open(out) as image, Image.open(tmp_path / "fig.png") as figure:
        assert image.size == (64, 48)
        assert figure.width > 3 * 64  # composite | Poisson-only | GP-GAN


def test_mismatched_inputs_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="resize the mask to the images' size"):
        run_script("blend", *inputs(tmp_path, mask_size=(24, 32)), f"out={tmp_path / 'o.png'}")
    args = inputs(tmp_path / "b")
    Image.fromarray(np.zeros((10, 10, 3), dtype=np.uint8)).save(tmp_path / "b" / "dst.png")
    with pytest.raises(ValueError, match="resize or crop one of them"):
        run_script("blend", *args, f"out={tmp_path / 'o.png'}")
