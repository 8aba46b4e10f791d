"""Paired data: the pix2pix side-by-side layout and the built-in mnist_edges."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lit_gans.data import (
    DatasetNotFoundError,
    MNISTEdgesDataModule,
    Paired,
    PairedDataModule,
)
from lit_gans.data.paired import paired_transform, split_pair


def write_pairs(root: Path, split: str, n: int, half: int = 12, same: bool = False) -> list[np.ndarray]:
    """n side-by-side RGB pairs (half x half each): A a random picture, B its negative (or A itself)."""
    (root / split).mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(n):
        a = np.random.default_rng(i).integers(0, 256, (half, half, 3), dtype=np.uint8)
        b = a.copy() if same else 255 - a
        Image.fromarray(np.concatenate([a, b], axis=1)).save(root / split / f"{i:03d}.png")
        written.append(a)
    return written


def unit(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1).float() / 127.5 - 1


def test_a_tiny_folder_loads_as_paired_batches_with_the_halves_split(tmp_path: Path) -> None:
    written = write_pairs(tmp_path, "train", 4)
    write_pairs(tmp_path, "val", 2)
    dm = PairedDataModule(str(tmp_path), preprocess="none", crop_size=12, flip=False, batch_size=4, num_workers=0)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, Paired) and batch.a.shape == batch.b.shape == (4, 3, 12, 12)
    assert torch.equal(batch.labels, torch.full((4,), -1))
    order = sorted(range(4), key=lambda i: float(batch.a[i].sum()))  # shuffled: match each pair to its file
    expected = sorted((unit(w) for w in written), key=lambda x: float(x.sum()))
    for i, a in zip(order, expected):
        assert torch.equal(batch.a[i], a)  # left half
        torch.testing.assert_close(batch.b[i], -a)  # right half: 255 - a maps to -a
    val = next(iter(dm.val_dataloader()))
    assert torch.equal(val.a[0], unit(written[0]))  # validation in file order


def test_direction_swaps_the_halves(tmp_path: Path) -> None:
    write_pairs(tmp_path, "train", 3)
    kwargs = dict(preprocess="none", crop_size=12, flip=False, num_workers=0)
    ab = PairedDataModule(str(tmp_path), **kwargs).dataset("train")
    ba = PairedDataModule(str(tmp_path), direction="BtoA", **kwargs).dataset("train")
    for i in range(3):
        (a, b, _), (a2, b2, _) = ab[i], ba[i]
        assert torch.equal(a, b2) and torch.equal(b, a2)


def test_crop_and_flip_are_the_same_for_a_and_b_and_follow_the_seed(tmp_path: Path) -> None:
    write_pairs(tmp_path, "train", 1, half=20, same=True)  # identical halves: any mismatch of crop / flip shows
    dm = PairedDataModule(str(tmp_path), load_size=24, crop_size=16, num_workers=0)
    data = dm.dataset("train")
    torch.manual_seed(0)
    draws = [data[0] for _ in range(12)]
    assert all(torch.equal(a, b) for a, b, _ in draws)
    assert all(a.shape == (3, 16, 16) for a, _, _ in draws)
    assert len({a.sum().item() for a, _, _ in draws}) > 3  # the crops / flips do vary
    torch.manual_seed(0)
    assert all(torch.equal(a, again[0]) for (a, _, _), again in zip(draws, (data[0] for _ in range(12))))


def test_paired_transform_flips_and_crops_both_halves_identically() -> None:
    a = torch.arange(2 * 6 * 6, dtype=torch.uint8).view(2, 6, 6)
    b = a + 100
    g = torch.Generator().manual_seed(3)
    seen_flip = False
    for _ in range(20):
        a2, b2 = paired_transform(a, b, "crop", 6, 4, True, generator=g)
        assert torch.equal(b2, a2 + 100)
        seen_flip |= bool(a2[0, 0, 0] > a2[0, 0, 1])
    assert seen_flip


def test_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"data.root.*val_split=test"):
        PairedDataModule(str(tmp_path / "missing")).setup("fit")
    write_pairs(tmp_path, "train", 1)
    with pytest.raises(DatasetNotFoundError, match="val does not exist"):
        PairedDataModule(str(tmp_path), num_workers=0).val_dataloader()
    assert len(PairedDataModule(str(tmp_path), val_split="train", num_workers=0).val_dataloader()) == 1
    with pytest.raises(ValueError, match="data.crop_size=12"):  # preprocess=none: the stored size
        PairedDataModule(str(tmp_path), preprocess="none", crop_size=256).setup("fit")
    with pytest.raises(ValueError, match="even width"):
        split_pair(torch.zeros(3, 4, 7), "x.png")
    with pytest.raises(ValueError, match="load_size >= data.crop_size"):
        PairedDataModule(str(tmp_path), load_size=200, crop_size=256)
    with pytest.raises(ValueError, match="AtoB"):
        PairedDataModule(str(tmp_path), direction="AB")


def test_odd_width_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    Image.fromarray(np.zeros((8, 17, 3), np.uint8)).save(tmp_path / "train" / "odd.png")
    data = PairedDataModule(str(tmp_path), num_workers=0).dataset("train")
    with pytest.raises(ValueError, match=r"odd.png is 17 px wide"):
        data[0]


# ----- mnist_edges -----------------------------------------------------------------------------------------
def test_mnist_edges_pairs_edges_with_their_digits_deterministically(mnist_root: Path) -> None:
    kwargs = dict(root=str(mnist_root), num_samples=300, num_val_samples=100, batch_size=300)
    dm = MNISTEdgesDataModule(seed=1, **kwargs)
    dm.prepare_data()
    assert (mnist_root / "mnist_edges").is_dir()  # the cache under the data root
    train = dm.dataset(True)
    again = MNISTEdgesDataModule(seed=1, **kwargs).dataset(True)
    other = MNISTEdgesDataModule(seed=2, **kwargs).dataset(True)
    assert torch.equal(train.a, again.a) and torch.equal(train.data, again.data) and torch.equal(train.labels, again.labels)
    assert not torch.equal(train.labels, other.labels)  # the seed picks the subset
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, Paired) and batch.a.shape == (300, 1, 32, 32)
    assert set(batch.a.unique().tolist()) == {-1.0, 1.0}  # binary edge maps
    assert (batch.a[:, :, :2] == -1).all() and (batch.b[:, :, :, :2] == -1).all()  # 2 px of background padding
    near_ink = torch.nn.functional.max_pool2d((batch.b > -1).float(), 5, 1, 2) > 0  # within 2 px of a stroke
    assert ((batch.a > 0) & ~near_ink).sum() == 0 and (batch.a > 0).any(dim=(1, 2, 3)).all()  # edges trace the digit
    swapped = MNISTEdgesDataModule(seed=1, direction="BtoA", **kwargs).dataset(True)
    assert torch.equal(swapped.a, train.data) and torch.equal(swapped.data, train.a)
    assert dm.digit_targets and not MNISTEdgesDataModule(direction="BtoA", **kwargs).digit_targets


def test_mnist_edges_keeps_the_mnist_labels(mnist_root: Path) -> None:
    from lit_gans.data import TorchvisionDataModule

    dm = MNISTEdgesDataModule(root=str(mnist_root), image_size=28, batch_size=10)
    test = dm.dataset(False)
    mnist = TorchvisionDataModule("mnist", root=str(mnist_root)).dataset(False)
    assert torch.equal(test.labels, mnist.labels) and torch.equal(test.data, mnist.data)
    with pytest.raises(ValueError, match="28 or 28"):
        MNISTEdgesDataModule(root=str(mnist_root), image_size=31)
