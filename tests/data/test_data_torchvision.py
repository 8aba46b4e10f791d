import socket
import time
from pathlib import Path

import pytest
import torch
from torchvision import datasets

from lit_gans.data import DatasetNotFoundError, TorchvisionDataModule
from lit_gans.data import images as images_module
from lit_gans.data.paths import DATA_DIR_ENV

# Large batches keep full-epoch checks fast; 60000 = 58 * 1024 + 608, so drop_last matters.
BATCH = 1024


@pytest.fixture(scope="module")
def mnist(mnist_root: Path) -> TorchvisionDataModule:
    dm = TorchvisionDataModule("mnist", root=str(mnist_root), batch_size=BATCH, download=False)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_mnist_train_split(mnist):
    train = mnist.dataset(train=True)
    assert len(train) == 60_000
    assert train.data.dtype == torch.uint8 and train.data.shape == (60_000, 1, 28, 28)
    assert mnist.shape == (1, 28, 28) and mnist.num_classes == 10


def test_mnist_batches(mnist):
    loader = mnist.train_dataloader()
    assert len(loader) == 60_000 // BATCH == 58  # drop_last
    count, lo, hi = 0, 1.0, -1.0
    for x, y in loader:
        assert x.shape == (BATCH, *mnist.shape) and x.dtype == torch.float32
        assert y.shape == (BATCH,) and y.dtype == torch.int64
        lo, hi, count = min(lo, x.min().item()), max(hi, x.max().item()), count + 1
    assert count == 58
    assert (lo, hi) == (-1.0, 1.0)  # 0 -> -1 and 255 -> 1 exactly
    assert set(y.tolist()) <= set(range(10))


def test_mnist_sample_matches_raw_pixels(mnist, mnist_root):
    raw = datasets.MNIST(str(mnist_root), train=True, download=False)
    x, y = mnist.dataset(train=True)[123]
    torch.testing.assert_close(x, raw.data[123][None].float() / 127.5 - 1)
    assert y == raw.targets[123]


def test_mnist_shuffle_is_seeded(mnist):
    def first_labels() -> torch.Tensor:
        return next(iter(mnist.train_dataloader()))[1]

    torch.manual_seed(0)
    a = first_labels()
    torch.manual_seed(0)
    b = first_labels()
    torch.manual_seed(1)
    c = first_labels()
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_mnist_resized_to_32(mnist_root):
    dm = TorchvisionDataModule("mnist", root=str(mnist_root), image_size=32, download=False)
    assert dm.shape == (1, 32, 32)  # known before setup
    dm.setup("fit")
    x, _ = next(iter(dm.train_dataloader()))
    assert x.shape == (64, *dm.shape)
    assert dm.dataset(train=True).data.dtype == torch.uint8
    assert x.min() >= -1 and x.max() <= 1


def test_mnist_test_split_is_lazy_and_complete(mnist_root):
    dm = TorchvisionDataModule("mnist", root=str(mnist_root), batch_size=1000, download=False)
    dm.setup("fit")
    assert set(dm._splits) == {True}  # the test split is not read for fitting
    loader = dm.val_dataloader()
    assert len(loader.dataset) == 10_000
    assert sum(len(y) for _, y in loader) == 10_000  # no drop_last for evaluation


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="cifar10.*fashion_mnist.*mnist"):
        TorchvisionDataModule("svhn")


def test_shape_known_before_setup(tmp_path):
    dm = TorchvisionDataModule("cifar10", root=str(tmp_path), image_size=64, download=False)
    assert dm.shape == (3, 64, 64) and dm.num_classes == 10


@pytest.mark.parametrize(
    "name, folder", [("mnist", "MNIST/raw"), ("cifar10", "cifar-10-batches-py")]
)
def test_missing_without_download(tmp_path, name, folder):
    dm = TorchvisionDataModule(name, root=str(tmp_path), download=False)
    with pytest.raises(DatasetNotFoundError) as info:
        dm.prepare_data()
    message = str(info.value)
    assert str(tmp_path / folder) in message and "data.root" in message
    assert DATA_DIR_ENV in message and "data.download=true" in message
    with pytest.raises(DatasetNotFoundError, match="data.root"):
        dm.setup("fit")  # setup without prepare_data fails the same way


def test_missing_error_is_a_file_not_found_error(tmp_path):
    dm = TorchvisionDataModule("fashion_mnist", root=str(tmp_path), download=False)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        dm.prepare_data()


def test_real_download_attempt_fails_fast_offline(tmp_path):
    """A real attempt (no mocking): measures how long the offline failure takes."""
    try:
        socket.getaddrinfo(datasets.MNIST.mirrors[0].split("/")[2], 443)
    except OSError:
        pass  # offline: DNS fails, which is the case under test
    else:
        pytest.skip("network available: a real download would succeed instead of failing")
    dm = TorchvisionDataModule("mnist", root=str(tmp_path), download=True)
    start = time.monotonic()
    with pytest.raises(DatasetNotFoundError, match="Downloading mnist") as info:
        dm.prepare_data()
    assert time.monotonic() - start < 60
    assert str(tmp_path / "MNIST" / "raw") in str(info.value) and "data.root" in str(info.value)


def test_silent_network_times_out(tmp_path, monkeypatch):
    """A server that accepts but never answers must not hang the download (socket timeout)."""
    server = socket.create_server(("127.0.0.1", 0))  # kernel completes the handshake, no reply
    port = server.getsockname()[1]
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setattr(images_module, "DOWNLOAD_TIMEOUT_S", 0.5)
    monkeypatch.setattr(datasets.MNIST, "mirrors", [f"http://127.0.0.1:{port}/"])
    previous = socket.getdefaulttimeout()
    dm = TorchvisionDataModule("mnist", root=str(tmp_path), download=True)
    start = time.monotonic()
    try:
        with pytest.raises(DatasetNotFoundError, match="data.root"):
            dm.prepare_data()
    finally:
        server.close()
    assert time.monotonic() - start < 10
    assert socket.getdefaulttimeout() == previous  # the global default is restored


def _windows(image: torch.Tensor, size: int) -> list[torch.Tensor]:
    """Every size x size window of a (C, H, W) image."""
    h, w = image.shape[-2:]
    return [image[:, i:i + size, j:j + size] for i in range(h - size + 1) for j in range(w - size + 1)]


def test_random_crop_trains_on_random_windows_and_validates_on_the_centre(mnist_root):
    dm = TorchvisionDataModule("mnist", root=str(mnist_root), batch_size=16, download=False, random_crop=20)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.shape == (1, 20, 20)
    full = TorchvisionDataModule("mnist", root=str(mnist_root), download=False)
    train, test = dm.dataset(train=True), dm.dataset(train=False)
    assert train.data.shape[-2:] == (28, 28)  # stored whole: a new crop in every batch
    index = torch.arange(16)
    torch.manual_seed(0)
    x1, y1 = train.__getitems__(index.tolist())
    x2, _ = train.__getitems__(index.tolist())
    assert x1.shape == (16, 1, 20, 20) and torch.equal(y1, train.labels[:16])
    offsets = set()
    for k in range(16):  # each crop is a window of its own image, mapped to [-1, 1]
        windows = [w.float() / 127.5 - 1 for w in _windows(train.data[k], 20)]
        hits = [i for i, w in enumerate(windows) if torch.equal(w, x1[k])]
        assert hits, f"crop {k} is not a 20x20 window of image {k}"
        offsets.add(hits[0])
    assert len(offsets) > 1 and not torch.equal(x1, x2)  # placed independently per image and per draw
    # validation / test and the metrics' reference images: the centre crop (offset 4 of 28 - 20 = 8)
    raw_test = full.dataset(train=False).data
    assert torch.equal(test.data, raw_test[..., 4:24, 4:24])
    x_val, _ = next(iter(dm.val_dataloader()))
    torch.testing.assert_close(x_val, raw_test[:16, :, 4:24, 4:24].float() / 127.5 - 1)
    assert torch.equal(dm.reference_images(True, 0, 3), train.data[:3, :, 4:24, 4:24])
    assert torch.equal(dm.reference_images(False, 0, 3), raw_test[:3, :, 4:24, 4:24])
    x_batch, _ = next(iter(dm.train_dataloader()))
    assert x_batch.shape == (16, 1, 20, 20)


def test_a_crop_larger_than_the_image_is_refused():
    with pytest.raises(ValueError, match=r"data.random_crop=32 does not fit in the 28x28 images.*<= 28"):
        TorchvisionDataModule("mnist", random_crop=32, download=False)
    with pytest.raises(ValueError, match=r"data.random_crop=20 does not fit in the 16x16"):
        TorchvisionDataModule("mnist", image_size=16, random_crop=20, download=False)


def test_a_crop_without_its_shape_names_the_shape_to_set(compose_cfg, mnist_root):
    from lit_gans.training import instantiate_datamodule

    cfg = compose_cfg("data=mnist", f"data.root={mnist_root}", "data.random_crop=20")
    with pytest.raises(ValueError, match=r"data.random_crop=20 serves 20x20 crops: set data.shape=\[1, 20, 20\]"):
        instantiate_datamodule(cfg.data)
    cfg = compose_cfg("data=mnist", f"data.root={mnist_root}", "data.random_crop=20", "data.shape=[1,20,20]")
    assert instantiate_datamodule(cfg.data).shape == (1, 20, 20)
