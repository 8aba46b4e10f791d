from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lit_gans.data import DatasetNotFoundError, ImageFolderDataModule


def _write_png(path: Path, size: tuple[int, int], seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    pixels[0, 0] = 0  # guarantee both extremes so the [-1, 1] mapping can be checked
    pixels[-1, -1] = 255
    Image.fromarray(pixels).save(path)


def _loader_batches(dm: ImageFolderDataModule) -> list[tuple[torch.Tensor, torch.Tensor]]:
    dm.setup("fit")
    return list(dm.train_dataloader())


def test_flat_folder(tmp_path):
    for i in range(5):
        _write_png(tmp_path / f"img{i}.png", (40, 30), seed=i)
    (tmp_path / "notes.txt").write_text("not an image")
    dm = ImageFolderDataModule(str(tmp_path), image_size=16, batch_size=5, num_workers=0)
    assert dm.shape == (3, 16, 16) and dm.num_classes == 0
    (x, y), = _loader_batches(dm)
    assert x.shape == (5, 3, 16, 16) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.equal(y, torch.zeros(5, dtype=torch.int64))
    assert -1 <= x.min() < -0.5 and 0.5 < x.max() <= 1


def test_nested_folders_grayscale_and_extensions(tmp_path):
    _write_png(tmp_path / "a" / "one.png", (20, 20), seed=0)
    _write_png(tmp_path / "b" / "c" / "two.png", (24, 18), seed=1)
    Image.new("RGB", (30, 20), (255, 0, 0)).save(tmp_path / "b" / "three.JPG")
    Image.new("RGB", (8, 8)).save(tmp_path / "._hidden.png")  # macOS resource fork: skipped
    dm = ImageFolderDataModule(str(tmp_path), image_size=8, channels=1, batch_size=2, num_workers=0)
    dm.setup("fit")
    assert len(dm.train_set) == 3
    batches = list(dm.train_dataloader())
    assert len(batches) == 1  # drop_last drops the odd image
    assert batches[0][0].shape == (2, 1, 8, 8)


def test_center_crop_vs_squash(tmp_path):
    # A wide image whose left and right thirds are white: a center crop sees only the black middle.
    pixels = np.zeros((30, 90, 3), dtype=np.uint8)
    pixels[:, :30] = pixels[:, 60:] = 255
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    common = dict(image_size=10, batch_size=1, num_workers=0, drop_last=False)
    root = str(tmp_path)
    (x_crop, _), = _loader_batches(ImageFolderDataModule(root, **common))
    (x_squash, _), = _loader_batches(ImageFolderDataModule(root, center_crop=False, **common))
    assert x_crop.shape == x_squash.shape == (1, 3, 10, 10)
    assert x_crop[..., 2:8].max() == -1  # centre columns are black
    assert x_squash[..., 0].min() == 1  # left edge is white after squashing


@pytest.mark.parametrize("make", ["empty", "missing"])
def test_missing_or_empty_folder(tmp_path, make):
    root = tmp_path / "images"
    if make == "empty":
        root.mkdir()
        (root / "readme.txt").write_text("no images here")
    dm = ImageFolderDataModule(str(root))
    with pytest.raises(DatasetNotFoundError) as info:
        dm.setup("fit")
    assert str(root) in str(info.value) and "data.root=/path/to/images" in str(info.value)


def test_channels_validated(tmp_path):
    with pytest.raises(ValueError, match="channels"):
        ImageFolderDataModule(str(tmp_path), channels=4)


def test_random_crop_of_a_generated_folder(tmp_path):
    _write_png(tmp_path / "img.png", (12, 12), seed=0)
    dm = ImageFolderDataModule(str(tmp_path), image_size=12, batch_size=1, num_workers=0, drop_last=False,
                               random_crop=8)
    assert dm.shape == (3, 8, 8)
    dm.setup("fit")
    whole = ImageFolderDataModule(str(tmp_path), image_size=12, batch_size=1, num_workers=0, drop_last=False)
    whole.setup("fit")
    image = whole.train_set[0][0]
    windows = [image[:, i:i + 8, j:j + 8] for i in range(5) for j in range(5)]
    torch.manual_seed(0)
    crops = [dm.train_set[0][0] for _ in range(12)]
    found = {next(k for k, w in enumerate(windows) if torch.equal(w, c)) for c in crops}  # each a window
    assert len(found) > 1  # anew at every read
    with pytest.raises(ValueError, match="data.random_crop=13 does not fit in the 12x12"):
        ImageFolderDataModule(str(tmp_path), image_size=12, random_crop=13)
