"""``mnist_edges``: a paired translation set built offline from MNIST, edge maps of the digits -> the digits.

The pix2pix "edges -> photo" task (Isola et al. 2017, edges2shoes / edges2handbags) on digits: A is the Canny
edge map of a digit (scikit-image's ``feature.canny``, a deterministic function of the image), B the digit itself.
The edges of all 70,000 digits are computed once (20-30 s on one busy core) and cached under the data root as
``<root>/mnist_edges/canny_sigma<σ>.npz`` (bit-packed, ~7 MB); later runs load them in a fraction of a second.

Splits: train = MNIST's training digits, validation and test = MNIST's test digits. ``num_samples`` and
``num_val_samples`` below the split sizes pick a subset drawn from ``seed`` (``seed + 1`` for validation), so the
data set is a function of ``(seed, sizes, sigma, image_size)``. The digit label of every pair is kept for
evaluation (``val/digit_accuracy``: our MNIST classifier on G(edges)); the models never see it. No flips or crops:
a mirrored digit is another symbol.
"""

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.data.batched import BatchedTensorDataset
from lit_gans.data.images import TorchvisionDataModule, to_unit_range
from lit_gans.data.paired import DIRECTIONS, Paired
from lit_gans.data.splits import PreloadedSplits

CACHE_VERSION = 1  # bump when the edge computation changes, so stale caches are rebuilt


def canny_edges(digits: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """(N, H, W) uint8 digits -> (N, H, W) bool Canny edges (scikit-image; thresholds at its defaults, 10 % and
    20 % of the range of an image in [0, 1])."""
    from skimage.feature import canny  # imported here: the only user of scikit-image

    images = digits.astype(np.float64) / 255.0
    return np.stack([canny(image, sigma=sigma) for image in images])


def cached_edges(root: Path, digits: dict[str, np.ndarray], sigma: float) -> dict[str, np.ndarray]:
    """The edges of each split's digits, computed once and cached (atomically: a crash leaves no half file)."""
    path = root / "mnist_edges" / f"canny_sigma{sigma:g}_v{CACHE_VERSION}.npz"
    if path.is_file():
        with np.load(path) as cached:
            if all(f"{k}_count" in cached and int(cached[f"{k}_count"]) == len(v) for k, v in digits.items()):
                return {k: np.unpackbits(cached[k], count=v.size).reshape(v.shape).astype(bool) for k, v in digits.items()}
    edges = {k: canny_edges(v, sigma) for k, v in digits.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, **{k: np.packbits(e) for k, e in edges.items()},
                        **{f"{k}_count": np.array(len(e)) for k, e in edges.items()})
    os.replace(tmp, path)
    return edges


class PairedTensors(BatchedTensorDataset):
    """Preloaded uint8 pairs ``a``, ``b`` (N, C, H, W) served as `Paired` batches in [-1, 1]; ``.data`` holds B
    (the target domain: what reference images and FID read)."""

    def __init__(self, a: Tensor, b: Tensor, labels: Tensor) -> None:
        super().__init__(b, labels)
        if a.shape != b.shape:
            raise ValueError(f"a {tuple(a.shape)} and b {tuple(b.shape)} must have one shape")
        self.a = a

    def _take(self, index: int | Tensor) -> Paired:  # type: ignore[override]
        return Paired(to_unit_range(self.a[index]), to_unit_range(self.data[index]), self.labels[index])


def _pad_to(images: Tensor, size: int) -> Tensor:
    """(N, C, 28, 28) -> (N, C, size, size), the digit centred on background (0) padding."""
    extra = size - images.shape[-1]
    if extra < 0 or extra % 2:
        raise ValueError(f"data.image_size must be 28 or 28 + an even number (32 for a 5-level U-Net), got {size}.")
    return F.pad(images, [extra // 2] * 4)


class MNISTEdgesDataModule(PreloadedSplits):
    """Canny edges of MNIST digits -> the digits, as `Paired` batches ``(a = edges, b = digits, labels)``.

    Args:
        root: the data root holding ``MNIST/raw`` (default ``$LIT_GANS_DATA_DIR``); the cache goes beside it.
        image_size: 28, or 32 (the digits padded by 2 px of background: a U-Net of 5 levels fits, 28 px allows 2).
        direction: "AtoB" (edges -> digits) or "BtoA" (digits -> edges).
        sigma: the Canny filter's Gaussian width (pixels).
        num_samples, num_val_samples: pairs in the train / validation split (None: all 60,000 / 10,000), a subset
            drawn from ``seed`` / ``seed + 1`` otherwise.
    """

    batch_kind = "paired"

    def __init__(self, root: str | None = None, image_size: int = 32, direction: str = "AtoB", sigma: float = 1.0,
                 num_samples: int | None = None, num_val_samples: int | None = None, seed: int = 0,
                 batch_size: int = 64, num_workers: int = 0, download: bool = True, drop_last: bool = True,
                 pin_memory: bool = False) -> None:
        super().__init__(batch_size, num_workers, drop_last, pin_memory)
        if direction not in DIRECTIONS:
            raise ValueError(f"data.direction must be one of {DIRECTIONS}, got {direction!r}.")
        _pad_to(torch.zeros(1, 1, 28, 28), image_size)  # check the size before any work
        self.mnist = TorchvisionDataModule("mnist", root=root, download=download)
        self.root, self.image_size, self.direction, self.sigma = self.mnist.root, image_size, direction, sigma
        self.num_samples, self.num_val_samples, self.seed = num_samples, num_val_samples, seed
        self.shape: tuple[int, int, int] = (1, image_size, image_size)
        self.num_classes = 10
        self.digit_targets = direction == "AtoB"  # B is digits: pix2pix scores val/digit_accuracy

    def prepare_data(self) -> None:
        """MNIST's files (downloaded if missing and allowed), then the edges of every digit, cached (rank 0)."""
        self.mnist.prepare_data()
        self._edges()

    def _edges(self) -> dict[str, np.ndarray]:
        digits = {split: self.mnist.dataset(train).data[:, 0].numpy() for split, train in (("train", True), ("test", False))}
        return cached_edges(self.root, digits, self.sigma)

    def _build(self, train: bool) -> PairedTensors:
        mnist = self.mnist.dataset(train)
        digits, labels = mnist.data, mnist.labels  # (N, 1, 28, 28) uint8, (N,)
        edges = torch.from_numpy(self._edges()["train" if train else "test"]).unsqueeze(1).to(torch.uint8) * 255
        n, seed = (self.num_samples, self.seed) if train else (self.num_val_samples, self.seed + 1)
        if n is not None and n < len(digits):
            index = torch.randperm(len(digits), generator=torch.Generator().manual_seed(seed))[:n].sort().values
            digits, edges, labels = digits[index], edges[index], labels[index]
        a, b = _pad_to(edges, self.image_size), _pad_to(digits, self.image_size)
        if self.direction == "BtoA":
            a, b = b, a
        return PairedTensors(a.contiguous(), b.contiguous(), labels)
