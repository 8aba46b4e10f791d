"""A folder of the user's own images (e.g. CelebA, LSUN exported as files)."""

import os
from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from lit_gans.data.errors import DatasetNotFoundError
from lit_gans.data.images import check_crop

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def find_images(root: Path) -> list[Path]:
    """Image files anywhere under `root`, sorted so that indices are stable across runs.

    Unlike `torchvision.datasets.ImageFolder`, no class subfolders are required: GAN data is
    usually one flat folder. Hidden files are skipped (e.g. macOS `._x.jpg` resource forks).
    """
    found = [
        Path(folder) / name
        for folder, _, names in os.walk(root, followlinks=True)
        for name in names
        if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
    ]
    return sorted(found)


class ImageFileDataset(Dataset[tuple[Tensor, int]]):
    """Decodes one image file per item; the label is always 0 (unconditional data)."""

    def __init__(
        self, files: list[Path], mode: str, transform: Callable[[Image.Image], Tensor]
    ) -> None:
        self.files, self.mode, self.transform = files, mode, transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        with Image.open(self.files[index]) as image:
            return self.transform(image.convert(self.mode)), 0


class ImageFolderDataModule(L.LightningDataModule):
    """Images under `root` served as `(images (B, C, H, W) float32 in [-1, 1], zeros (B,) int64)`.

    Each image is resized so its short side is `image_size` and center-cropped to a square
    (the DCGAN/CelebA recipe), or squashed to `image_size` x `image_size` if `center_crop=False`. With
    ``random_crop=N`` each image is then cut to a random N x N crop, anew every time it is read (the folder is
    training data only), and the data served is N x N.
    """

    def __init__(
        self,
        root: str,
        image_size: int = 64,
        channels: int = 3,
        batch_size: int = 64,
        num_workers: int = 2,
        center_crop: bool = True,
        drop_last: bool = True,
        pin_memory: bool = False,
        random_crop: int | None = None,
    ) -> None:
        super().__init__()
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
        check_crop(random_crop, image_size)
        self.root = Path(root).expanduser().absolute()
        self.image_size, self.channels, self.center_crop = image_size, channels, center_crop
        self.random_crop = random_crop
        self.batch_size, self.num_workers = batch_size, num_workers
        self.drop_last, self.pin_memory = drop_last, pin_memory
        side = random_crop or image_size
        self.shape: tuple[int, int, int] = (channels, side, side)
        self.num_classes: int = 0
        self.train_set: ImageFileDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        """List the image files (once); decoding happens per item in the DataLoader workers."""
        if self.train_set is not None:
            return
        files = find_images(self.root) if self.root.is_dir() else []
        if not files:
            problem = "has no image files" if self.root.is_dir() else "does not exist"
            raise DatasetNotFoundError(
                f"Image folder {self.root} {problem} (looked recursively for "
                f"{', '.join(IMAGE_EXTENSIONS)}).\nFix: set data.root=/path/to/images."
            )
        mode = "L" if self.channels == 1 else "RGB"
        self.train_set = ImageFileDataset(files, mode, self._transform())

    def train_dataloader(self) -> DataLoader[tuple[Tensor, Tensor]]:
        if self.train_set is None:
            raise RuntimeError("call setup() before train_dataloader()")
        return DataLoader(
            self.train_set,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=self.drop_last,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,  # avoid re-forking workers every epoch
        )

    def _transform(self) -> v2.Compose:
        size = self.image_size
        if self.center_crop:
            resize = [v2.Resize(size), v2.CenterCrop(size)]
        else:
            resize = [v2.Resize((size, size))]
        if self.random_crop is not None:
            resize.append(v2.RandomCrop(self.random_crop))
        half = [0.5] * self.channels
        return v2.Compose(
            [
                *resize,
                v2.ToImage(),
                v2.ToDtype(torch.float32, scale=True),  # [0, 1]
                v2.Normalize(mean=half, std=half),  # -> [-1, 1]
            ]
        )
