"""Paired image-to-image data: the pix2pix layout (Isola et al. 2017; the authors' ``aligned`` dataset).

Every file holds one pair side by side, A on the left half and B on the right, in folders ``train/``, ``val/``
and ``test/`` under the root: the layout the authors' scripts export facades, maps, cityscapes and edges2shoes
in (``datasets/download_pix2pix_dataset.sh``, ``datasets/combine_A_and_B.py``). A model translates A -> B;
``direction="BtoA"`` swaps the halves, so A is then the right half.

Training preprocessing as the authors' code: both halves resized to ``load_size`` (bicubic), one random
``crop_size`` crop and one random horizontal flip applied identically to A and B ("resize_and_crop"; "crop"
skips the resize; "none" keeps the stored size). Validation and test resize to ``crop_size`` without
cropping or flipping, as the authors' test options do (``load_size = crop_size``, ``no_flip``).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import lightning as L
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, default_collate
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from lit_gans.data.errors import DatasetNotFoundError
from lit_gans.data.image_folder import IMAGE_EXTENSIONS, find_images

PREPROCESS = ("resize_and_crop", "crop", "none")
DIRECTIONS = ("AtoB", "BtoA")
SPLITS = ("train", "val", "test")
Batch = TypeVar("Batch", bound=tuple)


class Paired(NamedTuple):
    """A batch of image pairs: the model learns A -> B.

    Attributes:
        a: input images (B, C, H, W) float32 in [-1, 1].
        b: their targets (B, C, H, W) float32 in [-1, 1].
        labels: (B,) int64 class of each pair, for evaluation only (the built-in digit sets keep the digit;
            -1 when the data has none). Models never read it in training.
    """

    a: Tensor
    b: Tensor
    labels: Tensor


def named_batch(kind: type[Batch], batch: Any, fix: str) -> Batch:
    """A translation model's batch as the named tuple ``kind`` (`Paired`, `Unpaired`): as served, or built from a
    tuple/list of exactly its fields (what a plain DataLoader collates); anything else is refused with ``fix``."""
    if isinstance(batch, kind):
        return batch
    if isinstance(batch, (tuple, list)) and len(batch) == len(kind._fields):
        return kind(*batch)
    raise ValueError(fix)


def split_pair(image: Tensor, where: str = "image") -> tuple[Tensor, Tensor]:
    """(C, H, W) side-by-side pair -> (left half A, right half B). An odd width has no middle: refused."""
    width = image.shape[-1]
    if width % 2:
        raise ValueError(f"{where} is {width} px wide: A and B side by side need an even width (two halves of equal "
                         "size). Re-export the pair with the authors' combine_A_and_B.py, or crop one column.")
    return image[..., : width // 2], image[..., width // 2:]


def paired_transform(a: Tensor, b: Tensor, preprocess: str, load_size: int, crop_size: int, flip: bool,
                     generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """The authors' training preprocessing on a (C, H, W) pair, with ONE set of random parameters for both
    halves (a crop of A must show the same place as the crop of B): resize both to load_size² (bicubic; not for
    "crop" / "none"), crop one random crop_size² window (not for "none"), flip both or neither (p = ½)."""
    a, b = training_transform((a, b), preprocess, load_size, crop_size, flip, generator)
    return a, b


def training_transform(images: tuple[Tensor, ...], preprocess: str, load_size: int, crop_size: int, flip: bool,
                       generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
    """`paired_transform` on any number of (C, H, W) images of one size with one set of random parameters (the
    unaligned data set transforms A and B apart: one image each call)."""
    if preprocess not in PREPROCESS:
        raise ValueError(f"data.preprocess must be one of {PREPROCESS}, got {preprocess!r}.")
    if preprocess == "resize_and_crop":
        images = tuple(TF.resize(x, [load_size, load_size], InterpolationMode.BICUBIC, antialias=True) for x in images)
    if preprocess != "none":
        height, width = images[0].shape[-2:]
        if height < crop_size or width < crop_size:
            raise ValueError(f"cannot crop {crop_size}x{crop_size} from {height}x{width} images: set data.crop_size <= "
                             f"{min(height, width)} or data.load_size >= data.crop_size.")
        top = int(torch.randint(height - crop_size + 1, (), generator=generator))
        left = int(torch.randint(width - crop_size + 1, (), generator=generator))
        images = tuple(TF.crop(x, top, left, crop_size, crop_size) for x in images)
    if flip and bool(torch.rand((), generator=generator) < 0.5):
        images = tuple(TF.horizontal_flip(x) for x in images)
    return images


def evaluation_transform(image: Tensor, preprocess: str, crop_size: int) -> Tensor:
    """Validation / test: the whole image at crop_size² (the authors' test options: load_size = crop_size, no
    crop, no flip); "none" keeps the stored size."""
    if preprocess == "none":
        return image
    return TF.resize(image, [crop_size, crop_size], InterpolationMode.BICUBIC, antialias=True)


def to_unit(image: Tensor) -> Tensor:
    """uint8 (C, H, W) -> float32 in [-1, 1]; 0 and 255 map exactly."""
    return image.to(torch.float32).div(127.5).sub(1.0)


class PairedFolder(Dataset[tuple[Tensor, Tensor, int]]):
    """One side-by-side pair per file -> ``(a, b, -1)`` (float [-1, 1]); `train` switches random crop and flip on."""

    def __init__(self, files: Sequence[Path], channels: int, direction: str, preprocess: str, load_size: int,
                 crop_size: int, train: bool, flip: bool = True) -> None:
        self.files, self.mode, self.direction = list(files), "L" if channels == 1 else "RGB", direction
        self.preprocess, self.load_size, self.crop_size = preprocess, load_size, crop_size
        self.train, self.flip = train, flip

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, int]:
        path = self.files[index]
        with Image.open(path) as image:
            pair = TF.pil_to_tensor(image.convert(self.mode))  # (C, H, 2W) uint8
        a, b = split_pair(pair, str(path))
        if self.direction == "BtoA":
            a, b = b, a
        if self.train:
            a, b = paired_transform(a, b, self.preprocess, self.load_size, self.crop_size, self.flip)
        else:  # test time: the whole image at crop_size, as the authors' test options
            a, b = (evaluation_transform(x, self.preprocess, self.crop_size) for x in (a, b))
        return to_unit(a), to_unit(b), -1


def collate_paired(items: list[tuple[Tensor, Tensor, int]]) -> Paired:
    a, b, labels = default_collate(items)
    return Paired(a, b, labels)


class PairedDataModule(L.LightningDataModule):
    """The pix2pix folder layout as `Paired` batches (a, b, labels = -1).

    Args:
        root: the data set folder holding ``train/`` (and ``val/``, ``test/``), e.g. ``datasets/facades``.
        direction: "AtoB" (A = left half) or "BtoA" (A = right half); the model always learns A -> B.
        preprocess: "resize_and_crop" (default: resize to load_size, random crop_size crop), "crop" (random crop
            of the stored size) or "none" (the stored size; every half must then be crop_size x crop_size, the size
            the networks are built for). Flips need ``flip`` and happen in training only.
        load_size, crop_size: 286 and 256 as the authors' defaults.
        channels: 3 (RGB) or 1 (grey) for both halves.
        val_split: the folder validation reads ("val"; "test" for sets exported without one, e.g. edges2shoes).
    """

    batch_kind = "paired"
    collate_fn = staticmethod(collate_paired)  # the batch type; data=unpaired reuses this module with its own
    splits = SPLITS  # the folders data.val_split may name

    def __init__(self, root: str, direction: str = "AtoB", preprocess: str = "resize_and_crop", load_size: int = 286,
                 crop_size: int = 256, flip: bool = True, channels: int = 3, batch_size: int = 1, val_split: str = "val",
                 num_workers: int = 2, drop_last: bool = True, pin_memory: bool = False) -> None:
        super().__init__()
        if direction not in DIRECTIONS:
            raise ValueError(f"data.direction must be one of {DIRECTIONS}, got {direction!r}.")
        if preprocess not in PREPROCESS:
            raise ValueError(f"data.preprocess must be one of {PREPROCESS}, got {preprocess!r}.")
        if channels not in (1, 3):
            raise ValueError(f"data.channels must be 1 (grey) or 3 (RGB), got {channels}.")
        if val_split not in self.splits:
            raise ValueError(f"data.val_split must be one of {self.splits}, got {val_split!r}.")
        if preprocess == "resize_and_crop" and load_size < crop_size:
            raise ValueError(f"data.load_size={load_size} < data.crop_size={crop_size}: the crop must fit in the resized "
                             "image; set data.load_size >= data.crop_size (the authors: 286 and 256).")
        self.root = Path(root).expanduser().absolute()
        self.direction, self.preprocess, self.load_size, self.crop_size = direction, preprocess, load_size, crop_size
        self.flip, self.channels, self.val_split = flip, channels, val_split
        self.batch_size, self.num_workers, self.drop_last, self.pin_memory = batch_size, num_workers, drop_last, pin_memory
        self.shape: tuple[int, int, int] = (channels, crop_size, crop_size)  # each half, as the networks see it
        self.num_classes = 0
        self._sets: dict[str, Any] = {}

    def split_files(self, split: str) -> list[Path]:
        """The pair files of ``split``, sorted; a clear error naming the layout when there are none."""
        folder = self.root / split
        files = find_images(folder) if folder.is_dir() else []
        if not files:
            problem = "has no image files" if folder.is_dir() else "does not exist"
            raise DatasetNotFoundError(
                f"{folder} {problem}. data=paired reads the pix2pix layout: {self.root}/{{train,val,test}}/ holding one "
                f"image per pair, A and B side by side ({', '.join(IMAGE_EXTENSIONS)}).\nFix: set data.root to such a "
                "folder (e.g. facades as exported by the authors' datasets/download_pix2pix_dataset.sh); for a set "
                "without val/, set data.val_split=test.")
        return files

    def dataset(self, split: str) -> PairedFolder:
        if split not in self._sets:
            files = self.split_files(split)
            if self.preprocess == "none":
                self._check_stored_size(files[0])
            self._sets[split] = PairedFolder(files, self.channels, self.direction, self.preprocess, self.load_size,
                                             self.crop_size, train=split == "train", flip=self.flip)
        return self._sets[split]

    def _check_stored_size(self, path: Path) -> None:
        with Image.open(path) as image:
            width, height = image.size
        half = width // 2
        if (height, half) != (self.crop_size, self.crop_size):
            raise ValueError(f"data.preprocess=none keeps the stored size, and {path} holds {half}x{height} halves, but "
                             f"the networks are built for data.crop_size={self.crop_size}: set data.crop_size={height} "
                             "(square halves), or keep data.preprocess=resize_and_crop.")

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit"):
            self.dataset("train")

    def train_dataloader(self) -> DataLoader[Paired]:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader[Paired]:
        return self._loader(self.val_split, shuffle=False)

    def test_dataloader(self) -> DataLoader[Paired]:
        return self._loader("test", shuffle=False)

    def _loader(self, split: str, shuffle: bool) -> DataLoader[Paired]:
        return DataLoader(self.dataset(split), batch_size=self.batch_size, shuffle=shuffle,
                          drop_last=self.drop_last and shuffle, num_workers=self.num_workers, pin_memory=self.pin_memory,
                          persistent_workers=self.num_workers > 0, collate_fn=self.collate_fn)
