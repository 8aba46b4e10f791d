"""GP-GAN's blending pairs (composite -> well-blended target) as `Paired` batches: built offline from
scikit-image's photographs, or read from a Transient Attributes style folder of scenes.

``data=photo_composites`` (offline, `lit_gans.blending.composites`): a photograph's window, a photometrically
changed copy of it pasted inside a square (the centre square of half the side, as the authors' BlendingDataset),
the unchanged window as the target. Training composites come from the training photographs (seed), validation ones
from other photographs (seed + 1), so validation measures blending of unseen scenes. Built once (seconds) and
cached under the data root as ``<root>/gpgan_composites/<options>.npz``.

``data=blending_folder`` (the authors' layout, their ``crop_aligned_images.py`` output of the Transient Attributes
database)::

    <root>/<scene>/<image>.jpg     one folder per scene (one webcam), its images under different conditions

Each pair takes two different images of one scene, both resized so that their shorter side is ``load_size`` and
cropped at one window of ``image_size``²; the centre square (``ratio`` of the side) of the first is pasted onto the
second, which is the target. The first ``val_ratio`` of the sorted scene folders are the validation scenes (the
authors' split: 5 %). Training draws a new window for every item; validation windows are fixed by the seed.
"""

import hashlib
import json
import math
import os
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms.v2 import functional as TF

from lit_gans.blending.composites import PHOTOS, REGIONS, Composites, make_composites
from lit_gans.data.errors import DatasetNotFoundError
from lit_gans.data.image_folder import find_images
from lit_gans.data.mnist_edges import PairedTensors
from lit_gans.data.paired import Paired, collate_paired
from lit_gans.data.paths import resolve_data_root
from lit_gans.data.splits import PreloadedSplits

CACHE_VERSION = 1  # bump when `make_composites` changes, so stale caches are rebuilt
TRAIN_PHOTOS = ("astronaut", "coffee", "motorcycle_left", "motorcycle_right", "hubble_deep_field")
VAL_PHOTOS = ("chelsea", "rocket")


def cached_composites(root: Path, photos: tuple[str, ...], n: int, size: int, seed: int, region: str,
                      ratio: float) -> Composites:
    """`make_composites` once per set of options, then from ``<root>/gpgan_composites/`` (written atomically)."""
    options = {"v": CACHE_VERSION, "photos": list(photos), "n": n, "size": size, "seed": seed, "region": region,
               "ratio": ratio}
    key = hashlib.sha1(json.dumps(options, sort_keys=True).encode()).hexdigest()[:12]
    path = root / "gpgan_composites" / f"{size}px_{n}_seed{seed}_{key}.npz"
    if path.is_file():
        with np.load(path) as cached:
            return Composites(*(torch.from_numpy(cached[k]) for k in Composites._fields))
    composites = make_composites(photos, n, size, seed, region, ratio)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, **{k: v.numpy() for k, v in composites._asdict().items()})
    os.replace(tmp, path)
    return composites


class PhotoCompositesDataModule(PreloadedSplits):
    """Offline GP-GAN pairs ``(a = composite, b = target photograph, labels = -1)`` in [-1, 1].

    Args:
        root: where the cache goes (default ``$LIT_GANS_DATA_DIR``); nothing is downloaded.
        image_size: side of the square pairs (the blending GAN's 64).
        num_samples, num_val_samples: pairs in the train / validation split.
        seed: the composites are a function of (seed, options); validation uses seed + 1.
        region: "center" (the authors' centre square) or "random" (a square anywhere).
        ratio: the pasted square's side over the image side (the authors' 0.5).
        train_photos, val_photos: scikit-image photographs of each split (`lit_gans.blending.composites.PHOTOS`).
    """

    batch_kind = "paired"

    def __init__(self, root: str | None = None, image_size: int = 64, num_samples: int = 2048,
                 num_val_samples: int = 256, seed: int = 0, region: str = "center", ratio: float = 0.5,
                 train_photos: tuple[str, ...] = TRAIN_PHOTOS, val_photos: tuple[str, ...] = VAL_PHOTOS,
                 batch_size: int = 64, num_workers: int = 0, drop_last: bool = True, pin_memory: bool = False) -> None:
        super().__init__(batch_size, num_workers, drop_last, pin_memory)
        if region not in REGIONS:
            raise ValueError(f"data.region must be one of {REGIONS}, got {region!r}.")
        unknown = sorted(set(train_photos) - set(PHOTOS) | set(val_photos) - set(PHOTOS))
        if unknown:
            raise ValueError(f"data.train_photos / data.val_photos name {unknown}; scikit-image ships {PHOTOS}.")
        if not 0 < ratio < 1 or image_size < 8:
            raise ValueError(f"data.ratio must be in (0, 1) and data.image_size >= 8; got {ratio} and {image_size}.")
        self.root = resolve_data_root(root)
        self.image_size, self.num_samples, self.num_val_samples, self.seed = image_size, num_samples, num_val_samples, seed
        self.region, self.ratio = region, ratio
        self.train_photos, self.val_photos = tuple(train_photos), tuple(val_photos)
        self.shape: tuple[int, int, int] = (3, image_size, image_size)
        self.num_classes = 0

    def prepare_data(self) -> None:
        """Build (or find) both splits' caches once, on rank 0."""
        self.composites(True), self.composites(False)

    def composites(self, train: bool) -> Composites:
        """The split's source, destination and mask (uint8), e.g. for a benchmark that blends them."""
        photos, n, seed = (self.train_photos, self.num_samples, self.seed) if train else \
            (self.val_photos, self.num_val_samples, self.seed + 1)
        return cached_composites(self.root, photos, n, self.image_size, seed, self.region, self.ratio)

    def _build(self, train: bool) -> PairedTensors:
        c = self.composites(train)
        return PairedTensors(c.composite(), c.destination, torch.full((len(c.mask),), -1, dtype=torch.long))


def paste_center(source: Tensor, destination: Tensor, ratio: float) -> Tensor:
    """The authors' composite: the centre square (``ratio`` of the side) of ``source`` on ``destination``."""
    size = destination.shape[-1]
    side = int(size * ratio)
    start = size // 2 - side // 2
    out = destination.clone()
    out[..., start: start + side, start: start + side] = source[..., start: start + side, start: start + side]
    return out


class SceneFolderPairs(Dataset[tuple[Tensor, Tensor, int]]):
    """Pairs of images of one scene -> ``(composite, target, -1)`` in [-1, 1] (module docstring)."""

    def __init__(self, pairs: list[tuple[Path, Path]], load_size: int, image_size: int, ratio: float,
                 seed: int | None) -> None:
        self.pairs, self.load_size, self.image_size, self.ratio, self.seed = pairs, load_size, image_size, ratio, seed

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self, path: Path, size: tuple[int, int] | None) -> Tensor:
        with Image.open(path) as image:
            x = TF.pil_to_tensor(image.convert("RGB")).float() / 255
        if size is None:
            h, w = x.shape[-2:]
            factor = self.load_size / min(h, w)
            size = (math.ceil(h * factor), math.ceil(w * factor))
        return F.interpolate(x[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, int]:
        obj_path, bg_path = self.pairs[index]
        bg = self._load(bg_path, None)
        obj = self._load(obj_path, tuple(bg.shape[-2:]))  # one scene: one window in both
        g = torch.Generator().manual_seed(self.seed + index) if self.seed is not None else None
        h, w = bg.shape[-2:]
        top = int(torch.randint(h - self.image_size + 1, (), generator=g))
        left = int(torch.randint(w - self.image_size + 1, (), generator=g))
        crop = lambda x: x[:, top: top + self.image_size, left: left + self.image_size]
        obj, bg = crop(obj), crop(bg)
        return paste_center(obj, bg, self.ratio) * 2 - 1, bg * 2 - 1, -1


class BlendingFolderDataModule(L.LightningDataModule):
    """Transient Attributes style scenes (``<root>/<scene>/<images>``) as GP-GAN pairs (module docstring).

    Args:
        root: the folder of scene folders (the authors' ``cropped_images``).
        load_size, image_size: shorter side after resizing, and the crop (the authors: 64 and 64).
        ratio: the pasted centre square's side over image_size (0.5).
        num_samples, num_val_samples: pairs drawn per split (the authors: 150,000 and 256).
        val_ratio: the share of the sorted scenes held out for validation (0.05).
        seed: which pairs are drawn, and the validation windows.
    """

    batch_kind = "paired"

    def __init__(self, root: str, load_size: int = 64, image_size: int = 64, ratio: float = 0.5,
                 num_samples: int = 150_000, num_val_samples: int = 256, val_ratio: float = 0.05, seed: int = 0,
                 batch_size: int = 64, num_workers: int = 2, drop_last: bool = True, pin_memory: bool = False) -> None:
        super().__init__()
        if load_size < image_size:
            raise ValueError(f"data.load_size={load_size} < data.image_size={image_size}: the crop must fit; set "
                             "data.load_size >= data.image_size (the authors: 64 and 64).")
        if not 0 < val_ratio < 1 or not 0 < ratio < 1:
            raise ValueError(f"data.val_ratio and data.ratio must be in (0, 1); got {val_ratio} and {ratio}.")
        self.root = Path(root).expanduser().absolute()
        self.load_size, self.image_size, self.ratio, self.val_ratio = load_size, image_size, ratio, val_ratio
        self.num_samples, self.num_val_samples, self.seed = num_samples, num_val_samples, seed
        self.batch_size, self.num_workers, self.drop_last, self.pin_memory = batch_size, num_workers, drop_last, pin_memory
        self.shape: tuple[int, int, int] = (3, image_size, image_size)
        self.num_classes = 0
        self._sets: dict[bool, SceneFolderPairs] = {}

    def scenes(self) -> dict[str, list[Path]]:
        """Scene folder name -> its images (sorted), scenes with at least two images; a clear error otherwise."""
        folders = sorted(p for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []
        scenes = {f.name: files for f in folders if len(files := find_images(f)) >= 2}
        if len(scenes) < 2:
            raise DatasetNotFoundError(
                f"{self.root} holds {len(scenes)} scene folders with two or more images. data=blending_folder reads "
                f"{self.root}/<scene>/<image>.jpg, one folder per scene (e.g. the Transient Attributes database after "
                "the GP-GAN authors' crop_aligned_images.py), at least two scenes (one is held out for validation).\n"
                "Fix: set data.root to such a folder, or use the offline set: data=photo_composites.")
        return scenes

    def dataset(self, train: bool) -> SceneFolderPairs:
        if train not in self._sets:
            scenes = self.scenes()
            names = sorted(scenes)
            val_end = max(int(self.val_ratio * len(names)), 1)
            chosen = names[val_end:] if train else names[:val_end]
            g = np.random.default_rng(self.seed if train else self.seed + 1)
            n = self.num_samples if train else self.num_val_samples
            pairs = []
            for _ in range(n):
                files = scenes[chosen[int(g.integers(len(chosen)))]]
                i, j = g.choice(len(files), 2, replace=False)
                pairs.append((files[i], files[j]))
            self._sets[train] = SceneFolderPairs(pairs, self.load_size, self.image_size, self.ratio,
                                                 None if train else self.seed + 1)
        return self._sets[train]

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit"):
            self.dataset(True)

    def train_dataloader(self) -> DataLoader[Paired]:
        return self._loader(True)

    def val_dataloader(self) -> DataLoader[Paired]:
        return self._loader(False)

    def test_dataloader(self) -> DataLoader[Paired]:
        return self._loader(False)

    def _loader(self, train: bool) -> DataLoader[Paired]:
        return DataLoader(self.dataset(train), batch_size=self.batch_size, shuffle=train, drop_last=self.drop_last and train,
                          num_workers=self.num_workers, pin_memory=self.pin_memory,
                          persistent_workers=self.num_workers > 0, collate_fn=collate_paired)
