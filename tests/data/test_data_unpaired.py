"""Unpaired data: the CycleGAN folder layout and the built-in mnist_mnistm."""

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lit_gans.data import DatasetNotFoundError, MNISTMNISTMDataModule, Unpaired, UnpairedDataModule
from lit_gans.data.mnist_mnistm import blend_mnistm, domain_split
from lit_gans.data.unpaired import UnpairedTensors


def write_domain(root: Path, folder: str, n: int, value: int, size: int = 12) -> None:
    """n RGB images of side ``size`` in <root>/<folder>: image i is filled with ``value + i`` (its identity)."""
    (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((size, size, 3), value + i, np.uint8)).save(root / folder / f"{i:03d}.png")


def identity(images: torch.Tensor) -> list[int]:
    """The ``value + i`` each image was filled with."""
    return [round(float(x[0, 0, 0] + 1) * 127.5) for x in images]


def layout(root: Path, n_a: int = 3, n_b: int = 5) -> None:
    write_domain(root, "trainA", n_a, 10)
    write_domain(root, "trainB", n_b, 100)
    write_domain(root, "testA", 2, 20)
    write_domain(root, "testB", 2, 200)


def test_a_folder_layout_serves_unpaired_batches_with_b_drawn_at_random(tmp_path: Path) -> None:
    layout(tmp_path)
    dm = UnpairedDataModule(str(tmp_path), preprocess="none", crop_size=12, flip=False, batch_size=5, num_workers=0)
    dm.setup("fit")
    assert len(dm.dataset("train")) == 5  # max(|A|, |B|)
    torch.manual_seed(0)
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, Unpaired) and batch.a.shape == batch.b.shape == (5, 3, 12, 12)
    assert sorted(identity(batch.a)) == [10, 10, 11, 11, 12]  # every A image, i mod |A|
    assert set(identity(batch.b)) <= set(range(100, 105))
    assert torch.equal(batch.labels_a, torch.full((5,), -1)) and torch.equal(batch.labels_b, torch.full((5,), -1))
    data = dm.dataset("train")
    draws = {identity(data[0][1][None])[0] for _ in range(60)}  # item 0's B changes from draw to draw
    assert len(draws) == 5
    val = next(iter(dm.val_dataloader()))  # the test folders, fixed pairing
    assert identity(val.a) == [20, 21] and identity(val.b) == [200, 201]
    swapped = UnpairedDataModule(str(tmp_path), direction="BtoA", preprocess="none", crop_size=12, num_workers=0)
    assert identity(next(iter(swapped.val_dataloader())).a) == [200]


def test_training_crops_and_flips_each_domain_apart(tmp_path: Path) -> None:
    (tmp_path / "trainA").mkdir()
    (tmp_path / "trainB").mkdir()
    ramp = np.tile(np.arange(20, dtype=np.uint8)[None, :, None] * 10, (20, 1, 3))  # columns 0, 10, ..., 190
    Image.fromarray(ramp).save(tmp_path / "trainA" / "a.png")
    Image.fromarray(ramp).save(tmp_path / "trainB" / "b.png")
    data = UnpairedDataModule(str(tmp_path), preprocess="crop", crop_size=8, num_workers=0).dataset("train")
    torch.manual_seed(0)
    items = [data[0] for _ in range(20)]
    assert all(a.shape == (3, 8, 8) for a, _, _, _ in items)
    assert any(not torch.equal(a, b) for a, b, _, _ in items)  # independent crops / flips
    assert len({float(a[0, 0, 0]) for a, _, _, _ in items}) > 3


def test_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"(?s)trainA does not exist.*trainA,trainB,testA,testB.*data.root"):
        UnpairedDataModule(str(tmp_path / "missing")).setup("fit")
    write_domain(tmp_path, "trainA", 2, 0)
    (tmp_path / "trainB").mkdir()
    with pytest.raises(DatasetNotFoundError, match=r"(?s)trainB has no image files.*found folders: \['trainA', 'trainB'\]"):
        UnpairedDataModule(str(tmp_path)).setup("fit")
    write_domain(tmp_path, "trainB", 2, 0)
    with pytest.raises(ValueError, match="data.crop_size=256"):  # preprocess=none keeps 12 px
        UnpairedDataModule(str(tmp_path), preprocess="none").dataset("train")[0]
    with pytest.raises(ValueError, match="load_size >= data.crop_size"):
        UnpairedDataModule(str(tmp_path), load_size=200, crop_size=256)
    with pytest.raises(ValueError, match="AtoB"):
        UnpairedDataModule(str(tmp_path), direction="AB")


def test_unpaired_tensors_draw_b_independently_of_a() -> None:
    a = torch.arange(4, dtype=torch.uint8).view(4, 1, 1, 1).expand(4, 3, 2, 2)
    b = (100 + torch.arange(50, dtype=torch.uint8)).view(50, 1, 1, 1).expand(50, 3, 2, 2)
    data = UnpairedTensors(a, b, torch.arange(4), torch.arange(50), random_b=True)
    assert len(data) == 50
    torch.manual_seed(0)
    batch = data.__getitems__(list(range(50)))
    assert torch.equal(batch.labels_a, torch.arange(50) % 4)
    assert torch.equal(batch.labels_b, (batch.b[:, 0, 0, 0] * 127.5 + 127.5).round().long() - 100)  # labels follow
    assert 20 < len(batch.labels_b.unique()) < 50  # uniform draws with replacement, not the identity
    fixed = UnpairedTensors(a, b, torch.arange(4), torch.arange(50), random_b=False)
    assert torch.equal(fixed.__getitems__(list(range(50))).labels_b, torch.arange(50))


# ----- mnist_mnistm ------------------------------------------------------------------------------------------
@pytest.fixture
def data_root(mnist_root: Path, tmp_path: Path) -> Path:
    """A fresh data root with the real MNIST files (the cache is written there, not in the shared root)."""
    (tmp_path / "MNIST").symlink_to(mnist_root / "MNIST")
    return tmp_path


def test_mnist_mnistm_is_deterministic_per_seed_cached_and_shaped(data_root: Path) -> None:
    kwargs = dict(root=str(data_root), num_samples=400, num_val_samples=100, batch_size=64)
    start = time.perf_counter()
    dm = MNISTMNISTMDataModule(seed=3, **kwargs)
    dm.prepare_data()
    built = time.perf_counter() - start
    assert built < 30, f"building took {built:.1f} s"
    cached = sorted(p.name for p in (data_root / "mnist_mnistm").iterdir())
    assert cached == ["mnistm_seed3_32px_v1.npz", "mnistm_seed4_32px_v1.npz"]  # train (seed), validation (seed + 1)
    train = dm.dataset(True)
    again = MNISTMNISTMDataModule(seed=3, **kwargs).dataset(True)  # from the cache
    other = MNISTMNISTMDataModule(seed=4, **kwargs).dataset(True)
    assert torch.equal(train.data, again.data) and torch.equal(train.b, again.b)
    assert torch.equal(train.labels_b, again.labels_b)
    assert not torch.equal(train.b, other.b)
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, Unpaired) and batch.a.shape == batch.b.shape == (64, 3, 32, 32)
    assert batch.a.min() == -1 and batch.a.max() == 1 and batch.b.min() >= -1 and batch.b.max() <= 1
    assert torch.equal(batch.a[:, 0], batch.a[:, 1]) and torch.equal(batch.a[:, 0], batch.a[:, 2])  # grey, 3 channels
    assert (batch.a[:, :, :2] == -1).all()  # 2 px of background padding
    assert (batch.b.std(dim=1) > 0.05).float().mean() > 0.3  # MNIST-M is in colour
    assert set(batch.labels_a.tolist()) <= set(range(10)) and set(batch.labels_b.tolist()) <= set(range(10))
    assert len(dm.dataset(False)) == 100


def test_mnist_mnistm_domains_hold_different_digits_drawn_independently(data_root: Path) -> None:
    from lit_gans.data import TorchvisionDataModule

    dm = MNISTMNISTMDataModule(root=str(data_root), num_val_samples=None, image_size=28)
    mnist = TorchvisionDataModule("mnist", root=str(data_root)).dataset(False)
    test = dm.dataset(False)
    assert len(test.data) == len(test.b) == 5000
    # A is one half of MNIST's test digits, as they are; B is made from the other half (no A digit appears under B)
    half_a, half_b = (torch.from_numpy(h) for h in domain_split(len(mnist.labels), 1))  # validation: data.seed + 1
    assert not set(half_a.tolist()) & set(half_b.tolist()) and len(half_a) + len(half_b) == 10000
    assert torch.equal(test.data, mnist.data[half_a].expand(-1, 3, -1, -1)) and torch.equal(test.labels, mnist.labels[half_a])
    assert torch.equal(test.labels_b, mnist.labels[half_b])
    assert not torch.equal(test.labels[:100], test.labels_b[:100])  # the halves are not aligned
    ba = MNISTMNISTMDataModule(root=str(data_root), direction="BtoA", image_size=28).dataset(False)
    assert torch.equal(ba.data, test.b) and torch.equal(ba.labels, test.labels_b) and dm.domains == ("mnist", "mnistm")


def test_blend_is_the_absolute_difference_of_patch_and_binarised_digit() -> None:
    photo = np.arange(6 * 6 * 3, dtype=np.uint8).reshape(6, 6, 3)
    digit = np.zeros((1, 2, 2), np.uint8)
    digit[0, 0, 0] = 7  # any ink counts as a stroke (255)
    out = blend_mnistm(digit, np.random.default_rng(0), [photo])[0].astype(int)
    # find the patch: out equals the photo where there is no stroke
    matches = [(t, l) for t in range(5) for l in range(5)
               if np.array_equal(out[1], photo[t + 1, l: l + 2]) and np.array_equal(out[0, 1], photo[t, l + 1])]
    assert len(matches) == 1
    top, left = matches[0]
    assert np.array_equal(out[0, 0], np.abs(photo[top, left].astype(int) - 255))
