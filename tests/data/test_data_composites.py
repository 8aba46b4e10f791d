"""GP-GAN's blending pairs: the offline photo composites (determinism, the cache, the paste) and the scene-folder
layout of the authors (pairs within a scene, held-out scenes, clear errors)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lit_gans.blending.composites import (
    PHOTOS,
    load_photo,
    make_composites,
    photometric_change,
)
from lit_gans.data import (
    BlendingFolderDataModule,
    DatasetNotFoundError,
    Paired,
    PhotoCompositesDataModule,
)


def test_every_photo_loads_offline_as_rgb() -> None:
    for name in PHOTOS:
        x = load_photo(name)
        assert x.dtype == torch.uint8 and x.shape[0] == 3 and min(x.shape[1:]) >= 300
    with pytest.raises(ValueError, match="scikit-image ships"):
        load_photo("nope")


def test_composites_are_deterministic_in_the_seed_and_paste_the_changed_copy_in_the_centre() -> None:
    one, two = make_composites(["chelsea", "coffee"], 6, 32, seed=3), make_composites(["chelsea", "coffee"], 6, 32, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(one, two))
    other = make_composites(["chelsea", "coffee"], 6, 32, seed=4)
    assert not torch.equal(one.destination, other.destination)
    mask = torch.zeros(32, 32, dtype=torch.uint8)
    mask[8:24, 8:24] = 1  # the authors' centre square of half the side
    assert (one.mask == mask).all()
    composite = one.composite()
    assert torch.equal(composite[..., 8:24, 8:24], one.source[..., 8:24, 8:24])
    assert torch.equal(composite[..., :8, :], one.destination[..., :8, :])
    assert (one.source != one.destination).any()
    anywhere = make_composites(["chelsea"], 8, 32, seed=0, region="random")
    assert (anywhere.mask.sum((1, 2, 3)) == 256).all() and len({int(m.argmax()) for m in anywhere.mask}) > 1


def test_photometric_change_formula() -> None:
    x = torch.full((1, 3, 2, 2), 0.5)
    x[..., 0, 0] = 0.3
    y = photometric_change(x, torch.tensor([0.1]), torch.tensor([2.0]), torch.tensor([0.1]))
    mean = x.mean()
    expected = ((x - mean) * 2 + mean + 0.1) * torch.tensor([1.1, 1.0, 0.9]).view(1, 3, 1, 1)
    torch.testing.assert_close(y, expected.clamp(0, 1))


def test_datamodule_serves_paired_batches_and_caches(tmp_path: Path) -> None:
    dm = PhotoCompositesDataModule(root=str(tmp_path), image_size=16, num_samples=8, num_val_samples=4, batch_size=4)
    dm.prepare_data()
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, Paired) and batch.a.shape == (4, 3, 16, 16) and batch.a.min() >= -1 and batch.b.max() <= 1
    assert len(list((tmp_path / "gpgan_composites").glob("*.npz"))) == 2
    val = next(iter(dm.val_dataloader()))
    again = PhotoCompositesDataModule(root=str(tmp_path), image_size=16, num_samples=8, num_val_samples=4, batch_size=4)
    assert torch.equal(next(iter(again.val_dataloader())).a, val.a)  # from the cache, identical
    assert torch.equal(dm.composites(False).destination, make_composites(dm.val_photos, 4, 16, seed=1).destination)
    with pytest.raises(ValueError, match="scikit-image ships"):
        PhotoCompositesDataModule(root=str(tmp_path), val_photos=("lena",))


def scenes(root: Path, n_scenes: int = 3, per_scene: int = 3) -> None:
    rng = np.random.default_rng(0)
    for s in range(n_scenes):
        (root / f"scene{s}").mkdir(parents=True)
        for i in range(per_scene):
            Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(root / f"scene{s}" / f"{i}.png")


def test_scene_folders_give_composites_of_two_images_of_one_scene(tmp_path: Path) -> None:
    scenes(tmp_path)
    dm = BlendingFolderDataModule(str(tmp_path), load_size=32, image_size=32, num_samples=6, num_val_samples=2,
                                  val_ratio=0.3, batch_size=2, num_workers=0)
    train, val = dm.dataset(True), dm.dataset(False)
    assert all(a.parent == b.parent and a != b for a, b in train.pairs)
    assert {a.parent.name for a, _ in train.pairs} <= {"scene1", "scene2"} and {a.parent.name for a, _ in val.pairs} == {"scene0"}
    a, b, label = val[0]
    assert a.shape == b.shape == (3, 32, 32) and label == -1
    assert torch.equal(a[:, :8], b[:, :8]) and not torch.equal(a[:, 8:24, 8:24], b[:, 8:24, 8:24])
    assert torch.equal(val[0][0], val[0][0])  # fixed validation windows
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, Paired) and batch.a.shape == (2, 3, 32, 32)


def test_a_missing_or_flat_folder_names_the_layout(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="<scene>/<image>"):
        BlendingFolderDataModule(str(tmp_path / "missing")).dataset(True)
    with pytest.raises(ValueError, match="load_size"):
        BlendingFolderDataModule(str(tmp_path), load_size=32, image_size=64)
