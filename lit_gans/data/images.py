"""MNIST, Fashion-MNIST and CIFAR-10, preloaded into memory as one uint8 tensor per split.

The sets are small (<= 150 MB as uint8), so decoding every image once and gathering whole
batches from a tensor is far faster than torchvision's per-sample PIL transforms.
"""

import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision import datasets
from torchvision.transforms import v2

from lit_gans.data.batched import BatchedTensorDataset
from lit_gans.data.errors import DatasetNotFoundError
from lit_gans.data.paths import DATA_DIR_ENV, resolve_data_root
from lit_gans.data.splits import PreloadedSplits

# torchvision calls urlopen without a timeout, so a network that drops packets (instead of
# refusing) would hang forever; this bounds every connect/read of a download attempt.
DOWNLOAD_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class _Source:
    """Where torchvision keeps one dataset under the data root, and its native image format."""

    dataset: type[datasets.VisionDataset]
    folder: str  # relative to the data root, as laid out by torchvision
    files: tuple[str, ...]
    channels: int
    size: int


_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")

SOURCES: dict[str, _Source] = {
    "mnist": _Source(datasets.MNIST, "MNIST/raw", _MNIST_FILES, 1, 28),
    "fashion_mnist": _Source(datasets.FashionMNIST, "FashionMNIST/raw", _MNIST_FILES, 1, 28),
    "cifar10": _Source(datasets.CIFAR10, "cifar-10-batches-py", _CIFAR10_FILES, 3, 32),
}


def to_unit_range(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float32 [-1, 1], the range of a Tanh generator; 0 and 255 map exactly."""
    return images.to(torch.float32).div_(127.5).sub_(1.0)


def _as_nchw(data: Tensor | np.ndarray) -> Tensor:
    """torchvision's `.data`: MNIST-like uint8 (N, H, W) tensor, CIFAR uint8 (N, H, W, C) array."""
    if isinstance(data, np.ndarray):
        return torch.from_numpy(data).permute(0, 3, 1, 2).contiguous()
    return data.unsqueeze(1)


def _resize_uint8(images: Tensor, size: int, chunk: int = 4096) -> Tensor:
    """Resize (N, C, H, W) uint8 images to (size, size) once, in chunks to bound float memory."""
    out = [
        F.interpolate(part.float(), size=(size, size), mode="bilinear", antialias=True)
        .round_()
        .clamp_(0, 255)
        .to(torch.uint8)
        for part in images.split(chunk)
    ]
    return torch.cat(out)


def check_crop(random_crop: int | None, image_size: int) -> None:
    """A crop side must fit in the (resized) image."""
    if random_crop is not None and not 1 <= random_crop <= image_size:
        raise ValueError(f"data.random_crop={random_crop} does not fit in the {image_size}x{image_size} images "
                         f"(data.image_size={image_size}): choose 1 <= data.random_crop <= {image_size}, or null for no crop.")


def random_crops(images: Tensor, size: int) -> Tensor:
    """An independent, uniformly placed size x size crop of each image of a (B, C, H, W) batch (or of one (C, H, W)
    image): torchvision's RandomCrop per image, since on a batch tensor it would crop every image alike."""
    crop = v2.RandomCrop(size)
    return crop(images) if images.dim() == 3 else torch.stack([crop(x) for x in images])


class RandomCropToUnitRange:
    """The training transform with ``data.random_crop``: a random crop of each uint8 image, then [-1, 1]."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, images: Tensor) -> Tensor:
        return to_unit_range(random_crops(images, self.size))


class TorchvisionDataModule(PreloadedSplits):
    """A torchvision image set as `(images (B, C, H, W) float32 in [-1, 1], labels (B,) int64)`.

    Files are looked up in `<root>/<folder>` (e.g. `<root>/MNIST/raw`), where `root` comes from
    `resolve_data_root`. Downloads happen in `prepare_data` (rank 0 only under Lightning), reading
    in `setup`; outside a Trainer call both in that order. Validation and test loaders iterate the
    official test split, which is only read when one of them is requested.

    ``random_crop=N``: training batches are an independent random N x N crop of each (resized) image, validation and
    test images (and the metrics' reference images) their centre N x N crop, so the data served is N x N
    (LAPGAN's CIFAR-10 models trained on 28x28 crops of the 32x32 images, Denton et al. 2015, Section 4).
    """

    def __init__(
        self,
        name: str,
        root: str | None = None,
        image_size: int | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
        download: bool = True,
        drop_last: bool = True,
        pin_memory: bool = False,
        random_crop: int | None = None,
    ) -> None:
        super().__init__(batch_size, num_workers, drop_last, pin_memory)
        if name not in SOURCES:
            raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(SOURCES)}")
        self.name, self.source = name, SOURCES[name]
        self.root = resolve_data_root(root)
        self.image_size = image_size or self.source.size
        check_crop(random_crop, self.image_size)
        self.download, self.random_crop = download, random_crop
        side = random_crop or self.image_size
        self.shape: tuple[int, int, int] = (self.source.channels, side, side)
        self.num_classes: int = 10

    @property
    def folder(self) -> Path:
        """The folder that must hold `self.source.files`."""
        return self.root / self.source.folder

    def prepare_data(self) -> None:
        """Download the files if they are missing and `download` is set; otherwise fail clearly."""
        if not self._missing_files():
            return
        if not self.download:
            raise self._not_found(f"{self._missing_files_text()} (data.download=false).")
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
        try:
            # One construction downloads both splits (train and test files ship together).
            self.source.dataset(str(self.root), train=True, download=True)
        except (OSError, RuntimeError) as err:
            # URLError and socket timeouts are OSErrors; torchvision reports failed mirrors as a
            # multi-line RuntimeError, flattened here so the cause stays on one line.
            reason = " ".join(str(err).split()) or type(err).__name__
            problem = f"Downloading {self.name} into {self.folder} failed: {reason}"
            raise self._not_found(problem) from err
        finally:
            socket.setdefaulttimeout(previous)

    def _build(self, train: bool) -> BatchedTensorDataset:
        """The split as a preloaded dataset (`.data` holds uint8 (N, C, H, W))."""
        if self._missing_files():
            problem = f"{self._missing_files_text()}."
            if self.download:
                problem += " Downloads happen in prepare_data(); call it before setup()."
            raise self._not_found(problem)
        try:
            ds = self.source.dataset(str(self.root), train=train, download=False)
        except RuntimeError as err:  # files present but corrupted (torchvision checks integrity)
            raise self._not_found(f"Reading {self.name} from {self.folder} failed: {err}") from err
        images = _as_nchw(ds.data)
        if images.shape[-1] != self.image_size:
            images = _resize_uint8(images, self.image_size)
        labels = torch.as_tensor(ds.targets, dtype=torch.long)
        if self.random_crop is None:
            return BatchedTensorDataset(images, labels, transform=to_unit_range)
        if train:  # stored whole, cropped anew in every batch
            return BatchedTensorDataset(images, labels, transform=RandomCropToUnitRange(self.random_crop))
        return BatchedTensorDataset(v2.functional.center_crop(images, [self.random_crop] * 2), labels, to_unit_range)

    def reference_images(self, train: bool, start: int, stop: int) -> Tensor:
        """As `PreloadedSplits.reference_images`; with ``random_crop`` the training images' centre crops."""
        images = super().reference_images(train, start, stop)
        if self.random_crop is not None and train:
            images = v2.functional.center_crop(images, [self.random_crop] * 2)
        return images

    def _missing_files(self) -> list[str]:
        return [f for f in self.source.files if not (self.folder / f).is_file()]

    def _missing_files_text(self) -> str:
        missing = self._missing_files()
        partial = f": missing {', '.join(missing)}" if len(missing) < len(self.source.files) else ""
        return f"{self.name} not found in {self.folder}{partial}"

    def _not_found(self, problem: str) -> DatasetNotFoundError:
        top = self.source.folder.split("/")[0]
        return DatasetNotFoundError(
            f"{problem}\n"
            f"Expected files in {self.folder}: {', '.join(self.source.files)}.\n"
            f"Fix: set data.root=<folder containing {top}/> or the {DATA_DIR_ENV} environment "
            "variable, or run once with network access and data.download=true."
        )
