"""Unpaired image-to-image data: the CycleGAN layout (Zhu et al. 2017; the authors' ``unaligned`` dataset).

Two domains in four folders under the root, ``trainA/ trainB/ testA/ testB/`` (the layout the authors' script
``datasets/download_cyclegan_dataset.sh`` exports horse2zebra, summer2winter_yosemite, monet2photo, apple2orange
in). Nothing pairs an A image with a B image: item i is A's image ``i mod |A|`` and, in training, a B image drawn
at random for every item (the authors' ``index_B = random.randint(0, |B| - 1)``), so the pairing changes every
epoch; the length is max(|A|, |B|). Validation and test pair item i with B's ``i mod |B|`` (fixed, reproducible).
The random draws use torch's global generator: seeded by the run's ``seed`` and restored on resume.

Training preprocessing as the authors' code, on A and B *apart* (independent crops and flips): resize to
``load_size``, random ``crop_size`` crop, horizontal flip; "crop" skips the resize, "none" keeps the stored size.
Validation and test resize to ``crop_size`` (the authors' test options).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, default_collate
from torchvision.transforms.v2 import functional as TF

from lit_gans.data.batched import BatchedTensorDataset
from lit_gans.data.errors import DatasetNotFoundError
from lit_gans.data.image_folder import IMAGE_EXTENSIONS, find_images
from lit_gans.data.images import to_unit_range
from lit_gans.data.paired import PairedDataModule, evaluation_transform, to_unit, training_transform

SPLITS = ("train", "test")


class Unpaired(NamedTuple):
    """A batch of one image from each domain, drawn independently: the model learns A -> B and B -> A.

    Attributes:
        a: images of domain A (B, C, H, W) float32 in [-1, 1].
        b: images of domain B, unrelated to ``a`` (B, C, H, W) float32 in [-1, 1].
        labels_a, labels_b: (B,) int64 class of each image, for evaluation only (the built-in digit sets keep the
            digit; -1 when the data has none). Models never read them in training.
    """

    a: Tensor
    b: Tensor
    labels_a: Tensor
    labels_b: Tensor


def b_indices(index: Tensor, n_b: int, random: bool) -> Tensor:
    """Which B image goes with each item: a uniform draw from torch's global generator per item (training, as the
    authors' unaligned dataset), or ``index mod |B|`` (evaluation)."""
    return torch.randint(n_b, index.shape) if random else index % n_b


class UnpairedTensors(BatchedTensorDataset):
    """Preloaded uint8 domains ``a`` (N_A, C, H, W) and ``b`` (N_B, C, H, W) served as `Unpaired` batches in
    [-1, 1]; the length is max(N_A, N_B); ``random_b`` draws B per item. ``.data`` holds A."""

    def __init__(self, a: Tensor, b: Tensor, labels_a: Tensor, labels_b: Tensor, random_b: bool) -> None:
        super().__init__(a, labels_a)
        if len(b) != len(labels_b):
            raise ValueError(f"b has {len(b)} rows but labels_b has {len(labels_b)}")
        if a.shape[1:] != b.shape[1:]:
            raise ValueError(f"the domains' images must have one shape, got a {tuple(a.shape[1:])}, b {tuple(b.shape[1:])}")
        self.b, self.labels_b, self.random_b = b, labels_b, random_b

    def __len__(self) -> int:
        return max(len(self.data), len(self.b))

    def _take(self, index: int | Tensor) -> Unpaired:  # type: ignore[override]
        index = torch.as_tensor(index)
        i_a, i_b = index % len(self.data), b_indices(index, len(self.b), self.random_b)
        return Unpaired(to_unit_range(self.data[i_a]), to_unit_range(self.b[i_b]), self.labels[i_a], self.labels_b[i_b])


class UnpairedFolder(Dataset[tuple[Tensor, Tensor, int, int]]):
    """Files of domain A and of domain B -> ``(a, b, -1, -1)`` (float [-1, 1]); ``train``: B drawn at random per
    item, and each image gets its own random crop and flip."""

    def __init__(self, files_a: Sequence[Path], files_b: Sequence[Path], channels: int, preprocess: str,
                 load_size: int, crop_size: int, train: bool, flip: bool = True) -> None:
        self.files_a, self.files_b, self.mode = list(files_a), list(files_b), "L" if channels == 1 else "RGB"
        self.preprocess, self.load_size, self.crop_size, self.train, self.flip = preprocess, load_size, crop_size, train, flip

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, int, int]:
        i_b = int(b_indices(torch.tensor(index), len(self.files_b), self.train))
        return self.load(self.files_a[index % len(self.files_a)]), self.load(self.files_b[i_b]), -1, -1

    def load(self, path: Path) -> Tensor:
        with Image.open(path) as image:
            x = TF.pil_to_tensor(image.convert(self.mode))  # (C, H, W) uint8
        if self.train:
            (x,) = training_transform((x,), self.preprocess, self.load_size, self.crop_size, self.flip)
        else:
            x = evaluation_transform(x, self.preprocess, self.crop_size)
        if x.shape[-2:] != (self.crop_size, self.crop_size):
            raise ValueError(f"{path} is {x.shape[-1]}x{x.shape[-2]} after data.preprocess={self.preprocess}, but the "
                             f"networks are built for data.crop_size={self.crop_size}: use data.preprocess=resize_and_crop "
                             "(or crop), or images of that size.")
        return to_unit(x)


def collate_unpaired(items: list[tuple[Tensor, Tensor, int, int]]) -> Unpaired:
    return Unpaired(*default_collate(items))


class UnpairedDataModule(PairedDataModule):
    """The CycleGAN folder layout as `Unpaired` batches (a, b, labels_a = labels_b = -1).

    Args:
        root: the data set folder holding ``trainA/ trainB/`` (and ``testA/ testB/``), e.g. ``datasets/horse2zebra``.
        direction: "AtoB" or "BtoA" (the folders swap: A is then read from ``*B/``); an unpaired model learns both
            ways, but which is "A" names its generators, grids and metrics.
        preprocess, load_size, crop_size, flip, channels: as `lit_gans.data.PairedDataModule` (286 / 256 / flip
            as the authors), applied to each domain's images apart.
        val_split: the folders validation reads ("test": the authors' unaligned sets have no val folders).
    """

    batch_kind = "unpaired"

    collate_fn = staticmethod(collate_unpaired)
    splits = SPLITS

    def __init__(self, root: str, direction: str = "AtoB", preprocess: str = "resize_and_crop", load_size: int = 286,
                 crop_size: int = 256, flip: bool = True, channels: int = 3, batch_size: int = 1, val_split: str = "test",
                 num_workers: int = 2, drop_last: bool = True, pin_memory: bool = False) -> None:
        super().__init__(root, direction, preprocess, load_size, crop_size, flip, channels, batch_size, val_split,
                         num_workers, drop_last, pin_memory)  # only val_split's default differs

    def domain_files(self, split: str, domain: str) -> list[Path]:
        """The image files of ``<root>/<split><domain>``, sorted; a clear error naming the layout when there are none."""
        folder = self.root / f"{split}{domain}"
        files = find_images(folder) if folder.is_dir() else []
        if not files:
            problem = "has no image files" if folder.is_dir() else "does not exist"
            present = sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []
            raise DatasetNotFoundError(
                f"{folder} {problem}. data=unpaired reads the CycleGAN layout: {self.root}/{{trainA,trainB,testA,testB}}/, "
                f"one folder of images per domain and split ({', '.join(IMAGE_EXTENSIONS)}); found folders: "
                f"{present or 'none'}.\nFix: set data.root to such a folder (e.g. horse2zebra as exported by the authors' "
                "datasets/download_cyclegan_dataset.sh); for paired A|B images use data=paired.")
        return files

    def dataset(self, split: str) -> UnpairedFolder:
        if split not in self._sets:
            first, second = ("A", "B") if self.direction == "AtoB" else ("B", "A")
            self._sets[split] = UnpairedFolder(self.domain_files(split, first), self.domain_files(split, second),
                                               self.channels, self.preprocess, self.load_size, self.crop_size,
                                               train=split == "train", flip=self.flip)
        return self._sets[split]
