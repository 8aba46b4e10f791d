"""``mnist_mnistm``: an unpaired translation set built offline, MNIST digits <-> MNIST-M digits.

MNIST-M as Ganin & Lempitsky (2015, Section 4.1): each digit "blended over a patch randomly extracted from a
colour photo", out = |patch − digit| per channel, the digit binarised (> 0 -> 255) as the widely used
``create_mnistm.py`` does: the strokes show the patch's colours inverted, the background the patch itself. Ganin
took the photos from BSDS500; we take the colour photographs that scikit-image ships inside its wheel
(`PHOTOS`: no download), so the set is a pure function of MNIST, scikit-image's files and the seed.

The two domains hold different digits: the MNIST split is cut in two halves by a permutation drawn from
``seed`` (the test split from ``seed + 1``), domain A takes the first half as plain MNIST, domain B the second half
turned into MNIST-M (photo, patch position drawn from the same stream). So no B image is a blend of an A digit.
Both domains have 3 channels (MNIST's grey replicated): one shape lets a generator map either way and both
discriminators share one config. ``image_size`` 32 pads the 28 px digits by 2 px (before blending: the MNIST-M
patch is then 32 px); 28 keeps them. The digit label of every image is kept for evaluation only
(``val/digit_preservation_*``); the models never see it.

The MNIST-M images are built once (about a second for 70,000 digits) and cached under the data root as
``<root>/mnist_mnistm/mnistm_seed<seed>_<size>px_v<version>.npz``; later runs load them.
"""

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.data.images import TorchvisionDataModule
from lit_gans.data.paired import DIRECTIONS
from lit_gans.data.splits import PreloadedSplits
from lit_gans.data.unpaired import UnpairedTensors

CACHE_VERSION = 1  # bump when the construction changes, so stale caches are rebuilt
# colour photographs bundled in the scikit-image wheel (skimage/data/*.png|jpg), read by `skimage.data`
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")


def photographs() -> list[np.ndarray]:
    """The `PHOTOS` as (H, W, 3) uint8 arrays."""
    import skimage.data

    return [np.ascontiguousarray(getattr(skimage.data, name)()[..., :3]) for name in PHOTOS]


def blend_mnistm(digits: np.ndarray, rng: np.random.Generator, photos: list[np.ndarray] | None = None) -> np.ndarray:
    """(N, H, W) uint8 digits -> (N, H, W, 3) uint8 MNIST-M images: |patch − 255·[digit > 0]| per channel, each
    patch an H x W window at a random place of a random photograph (Ganin & Lempitsky 2015, Section 4.1)."""
    photos = photographs() if photos is None else photos
    n, height, width = digits.shape
    which = rng.integers(len(photos), size=n)
    tops = rng.random(n)
    lefts = rng.random(n)
    strokes = (digits > 0).astype(np.int16)[..., None] * 255  # (N, H, W, 1)
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        photo = photos[which[i]]
        top = int(tops[i] * (photo.shape[0] - height + 1))
        left = int(lefts[i] * (photo.shape[1] - width + 1))
        patch = photo[top: top + height, left: left + width].astype(np.int16)
        out[i] = np.abs(patch - strokes[i])
    return out


def pad_digits(digits: Tensor, size: int) -> Tensor:
    """(N, 28, 28) -> (N, size, size), the digit centred on background (0)."""
    extra = size - digits.shape[-1]
    if extra < 0 or extra % 2:
        raise ValueError(f"data.image_size must be 28 or 28 + an even number (32: the default), got {size}.")
    return F.pad(digits, [extra // 2] * 4)


def domain_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the A half and the B half of n digits, from one permutation drawn from ``seed``."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


def cached_mnistm(root: Path, digits: np.ndarray, seed: int, size: int) -> np.ndarray:
    """`blend_mnistm` of ``digits`` (N, size, size) with the stream of ``seed``, computed once and cached
    (atomically: a crash leaves no half file)."""
    path = root / "mnist_mnistm" / f"mnistm_seed{seed}_{size}px_v{CACHE_VERSION}.npz"
    if path.is_file():
        with np.load(path) as cached:
            if cached["images"].shape[0] == len(digits):
                return cached["images"]
    images = blend_mnistm(digits, np.random.default_rng([seed, 1]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, images=images)  # uncompressed: loads in a fraction of a second
    os.replace(tmp, path)
    return images


class MNISTMNISTMDataModule(PreloadedSplits):
    """MNIST (domain A) and MNIST-M (domain B) as `lit_gans.data.Unpaired` batches (a, b, labels_a, labels_b).

    Args:
        root: the data root holding ``MNIST/raw`` (default ``$LIT_GANS_DATA_DIR``); the cache goes beside it.
        image_size: 32 (default; the digits padded by 2 px) or 28.
        direction: "AtoB" (A = MNIST, B = MNIST-M) or "BtoA" (A = MNIST-M).
        num_samples, num_val_samples: images per domain in the train / validation split (None: all, 30,000 /
            5,000: each domain half of MNIST's split); fewer: the first ones of each (already random) half.
        seed: draws the halves, the photographs and the patch positions (the validation split uses ``seed + 1``).
    """

    batch_kind = "unpaired"

    def __init__(self, root: str | None = None, image_size: int = 32, direction: str = "AtoB",
                 num_samples: int | None = None, num_val_samples: int | None = None, seed: int = 0,
                 batch_size: int = 64, num_workers: int = 0, download: bool = True, drop_last: bool = True,
                 pin_memory: bool = False) -> None:
        super().__init__(batch_size, num_workers, drop_last, pin_memory)
        if direction not in DIRECTIONS:
            raise ValueError(f"data.direction must be one of {DIRECTIONS}, got {direction!r}.")
        pad_digits(torch.zeros(1, 28, 28), image_size)  # check the size before any work
        self.mnist = TorchvisionDataModule("mnist", root=root, download=download)
        self.root, self.image_size, self.direction, self.seed = self.mnist.root, image_size, direction, seed
        self.num_samples, self.num_val_samples = num_samples, num_val_samples
        self.shape: tuple[int, int, int] = (3, image_size, image_size)
        self.num_classes = 10
        # what each domain's images are, after `direction`: digit-preservation metrics read the labels by it
        self.domains: tuple[str, str] = ("mnist", "mnistm") if direction == "AtoB" else ("mnistm", "mnist")

    def prepare_data(self) -> None:
        """MNIST's files (downloaded if missing and allowed), then both splits' MNIST-M images, cached (rank 0)."""
        self.mnist.prepare_data()
        for train in (True, False):
            self._domains(train)

    def _domains(self, train: bool) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(mnist (N, 3, S, S) uint8, its labels, mnistm (M, 3, S, S) uint8, its labels) of a split."""
        mnist = self.mnist.dataset(train)
        digits = pad_digits(mnist.data[:, 0], self.image_size)  # (N, S, S) uint8
        seed = self.seed if train else self.seed + 1
        half_a, half_b = domain_split(len(digits), seed)
        blended = cached_mnistm(self.root, digits[half_b].numpy(), seed, self.image_size)
        grey = digits[half_a].unsqueeze(1).expand(-1, 3, -1, -1)
        colour = torch.from_numpy(blended).permute(0, 3, 1, 2)
        return grey, mnist.labels[half_a], colour, mnist.labels[half_b]

    def _build(self, train: bool) -> UnpairedTensors:
        grey, grey_labels, colour, colour_labels = self._domains(train)
        n = self.num_samples if train else self.num_val_samples
        if n is not None:
            grey, grey_labels, colour, colour_labels = grey[:n], grey_labels[:n], colour[:n], colour_labels[:n]
        a, labels_a, b, labels_b = grey, grey_labels, colour, colour_labels
        if self.direction == "BtoA":
            a, labels_a, b, labels_b = b, labels_b, a, labels_a
        return UnpairedTensors(a.contiguous(), b.contiguous(), labels_a, labels_b, random_b=train)
