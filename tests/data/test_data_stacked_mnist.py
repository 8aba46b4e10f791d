"""Stacked MNIST against the raw MNIST digits it is built from (read independently by torchvision)."""

from pathlib import Path

import pytest
import torch
from torch.testing import assert_close
from torchvision import datasets

from helpers import needs_mnist
from lit_gans.data import DatasetNotFoundError, StackedMNISTDataModule, TorchvisionDataModule
from lit_gans.data.images import to_unit_range
from lit_gans.data.stacked_mnist import StackedDigits

N, N_VAL, BATCH = 5_000, 1_234, 500  # N_VAL is no multiple of BATCH: evaluation keeps the rest


@pytest.fixture(scope="module")
def raw(mnist_root: Path) -> dict[bool, datasets.MNIST]:
    return {train: datasets.MNIST(str(mnist_root), train=train, download=False) for train in (True, False)}


@pytest.fixture(scope="module")
def stacked(mnist_root: Path) -> StackedMNISTDataModule:
    dm = StackedMNISTDataModule(
        root=str(mnist_root), num_samples=N, num_val_samples=N_VAL, batch_size=BATCH, download=False
    )
    dm.prepare_data()
    dm.setup("fit")
    return dm


def expected(raw: datasets.MNIST, triples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (B, 3, 28, 28) in [-1, 1] and labels (B,) composed by hand from the raw digits."""
    images = torch.stack([raw.data[triples[:, c]] for c in range(3)], dim=1).float() / 127.5 - 1
    d = raw.targets[triples]  # (B, 3) digits as (R, G, B)
    return images, 100 * d[:, 0] + 10 * d[:, 1] + d[:, 2]


def test_shape_and_classes_known_before_setup(tmp_path: Path) -> None:
    dm = StackedMNISTDataModule(root=str(tmp_path), download=False)
    assert (dm.shape, dm.num_classes, dm.num_samples) == ((3, 28, 28), 1000, 128_000)
    assert StackedMNISTDataModule(root=str(tmp_path), image_size=32).shape == (3, 32, 32)


@needs_mnist
def test_batches_have_shape_dtype_and_range(stacked: StackedMNISTDataModule) -> None:
    loader = stacked.train_dataloader()
    assert len(loader) == N // BATCH
    lo, hi, seen = 1.0, -1.0, set()
    for x, y in loader:
        assert x.shape == (BATCH, 3, 28, 28) and x.dtype == torch.float32
        assert y.shape == (BATCH,) and y.dtype == torch.int64
        lo, hi = min(lo, x.min().item()), max(hi, x.max().item())
        seen |= set(y.tolist())
    assert (lo, hi) == (-1.0, 1.0)  # 0 -> -1 and 255 -> 1 exactly
    assert seen <= set(range(1000)) and len(seen) > 950  # 5000 draws leave ~7 of 1000 modes empty


@needs_mnist
def test_channels_are_the_drawn_source_digits(stacked: StackedMNISTDataModule, raw) -> None:
    ds = stacked.dataset(train=True)
    assert ds.data.shape == (N, 3) and ds.data.dtype == torch.int64
    idx = torch.randperm(N, generator=torch.Generator().manual_seed(1))[:256]
    x, y = ds.__getitems__(idx.tolist())  # the batched path the DataLoader takes
    images, labels = expected(raw[True], ds.data[idx])
    assert_close(x, images, rtol=0, atol=0)
    assert torch.equal(y, labels)
    one_x, one_y = ds[int(idx[0])]  # the single-item path agrees
    assert torch.equal(one_x, x[0]) and int(one_y) == int(y[0])


@needs_mnist
def test_labels_of_the_whole_split(stacked: StackedMNISTDataModule, raw) -> None:
    ds = stacked.dataset(train=True)
    assert torch.equal(ds.labels, expected(raw[True], ds.data)[1])


@needs_mnist
def test_same_seed_same_data_other_seed_other_data(stacked: StackedMNISTDataModule, mnist_root: Path) -> None:
    def triples(seed: int) -> torch.Tensor:
        dm = StackedMNISTDataModule(root=str(mnist_root), num_samples=N, seed=seed, download=False)
        return dm.dataset(train=True).data

    assert torch.equal(triples(0), stacked.dataset(train=True).data)
    assert (triples(1) != triples(0)).float().mean() > 0.99  # independent draws rarely coincide


@needs_mnist
def test_validation_uses_test_digits_unshuffled_and_complete(stacked: StackedMNISTDataModule, raw) -> None:
    val = stacked.dataset(train=False)
    assert len(val) == N_VAL and int(val.data.max()) < 10_000  # indices into the 10,000 test digits
    assert len(val.digits) == 10_000
    # Drawn from seed + 1: with the training seed, torch.randint would give the training indices
    # modulo 10,000 (same random bits), tying the two splits together.
    assert (val.data != stacked.dataset(train=True).data[:N_VAL] % 10_000).float().mean() > 0.99
    images, labels = expected(raw[False], val.data)
    xs, ys = zip(*stacked.val_dataloader())
    assert sum(len(y) for y in ys) == N_VAL  # no drop_last for evaluation
    assert_close(torch.cat(xs), images, rtol=0, atol=0)  # fixed order
    assert torch.equal(torch.cat(ys), labels)
    assert torch.equal(torch.cat([y for _, y in stacked.test_dataloader()]), labels)


@needs_mnist
def test_reference_images_are_uint8_in_loader_order(stacked: StackedMNISTDataModule) -> None:
    ref = stacked.reference_images(False, 100, 600)
    assert ref.shape == (500, 3, 28, 28) and ref.dtype == torch.uint8
    x, _ = next(iter(stacked.val_dataloader()))  # samples 0..499, unshuffled
    assert torch.equal(to_unit_range(stacked.reference_images(False, 0, BATCH)), x)
    assert torch.equal(stacked.reference_images(False, 0, 600)[100:], ref)  # position, not call, decides
    train_x, _ = stacked.dataset(train=True).__getitems__(list(range(10, 20)))
    assert torch.equal(to_unit_range(stacked.reference_images(True, 10, 20)), train_x)
    with pytest.raises(ValueError, match=str(N_VAL)):
        stacked.reference_images(False, 0, N_VAL + 1)


@needs_mnist
def test_torchvision_reference_images(mnist_root: Path, raw) -> None:
    dm = TorchvisionDataModule("mnist", root=str(mnist_root), download=False)
    ref = dm.reference_images(False, 5, 105)
    assert ref.dtype == torch.uint8 and torch.equal(ref, raw[False].data[5:105, None])
    ref.zero_()  # a copy: the data set is unchanged
    assert torch.equal(dm.reference_images(False, 5, 105), raw[False].data[5:105, None])
    with pytest.raises(ValueError, match="10000"):
        dm.reference_images(False, -1, 3)


@needs_mnist
def test_resized_to_32_stacks_the_resized_digits(mnist_root: Path) -> None:
    dm = StackedMNISTDataModule(root=str(mnist_root), image_size=32, num_val_samples=300, download=False)
    val = dm.dataset(train=False)  # only the test split is read and resized
    digits = TorchvisionDataModule("mnist", root=str(mnist_root), image_size=32, download=False)
    digits = digits.reference_images(False, 0, 10_000)[:, 0]  # (10000, 32, 32)
    x, y = next(iter(dm.val_dataloader()))
    assert x.shape == (64, 3, 32, 32) and y.shape == (64,)
    assert torch.equal(dm.reference_images(False, 0, 64), digits[val.data[:64]])
    assert torch.equal(to_unit_range(digits[val.data[:64]]), x)


def test_missing_data_names_the_folder(tmp_path: Path) -> None:
    dm = StackedMNISTDataModule(root=str(tmp_path), download=False)
    with pytest.raises(DatasetNotFoundError) as info:
        dm.prepare_data()
    assert str(tmp_path / "MNIST" / "raw") in str(info.value) and "data.root" in str(info.value)
    with pytest.raises(DatasetNotFoundError, match="MNIST/raw"):
        dm.setup("fit")  # setup without prepare_data fails the same way


def test_stacked_digits_checks_shapes() -> None:
    with pytest.raises(ValueError, match=r"triples \(N, 3\)"):
        StackedDigits(torch.zeros(4, 28, 28, dtype=torch.uint8), torch.zeros(4), torch.zeros(5, 2))
