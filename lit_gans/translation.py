"""Translation models (pix2pix; the unpaired CycleGAN family) as translate.py, sample.py and the benchmarks use them.

Everything here goes through the hooks every translation model provides, never through a model's networks:

    translation_directions                  the directions it translates ("AtoB"; unpaired models: both)
    translate(images, direction="AtoB", seed=None) -> Tensor
                                            (B, C, H, W) in [-1, 1] -> its translations; ``seed`` fixes any noise
                                            (pix2pix's test-time dropout) without touching the global random stream
    translation_input_shape(direction)      (C, H, W) of the inputs it was trained on
    check_translation_size(height, width, direction)  a ValueError naming the sizes it takes
    translation_batch(batch, direction)     a datamodule batch -> `TranslationBatch` (inputs, targets, labels)
    translation_grid(batch, direction, seed) -> (images, nrow): the rows a sample grid shows (pix2pix: input /
                                            translation / target; unpaired models: input / translation /
                                            reconstruction)

A model is a translation model when its ``batch_kind`` (what a training batch carries) is one of
`TRANSLATION_KINDS`.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor

TRANSLATION_KINDS = ("paired", "unpaired")
DIRECTIONS = ("AtoB", "BtoA")
TRANSLATION_MODELS = "pix2pix (paired data); cyclegan, discogan, dualgan, translation_gan (unpaired data)"


class TranslationBatch(NamedTuple):
    """What a model translates from one datamodule batch, for one direction.

    Attributes:
        inputs: (B, C, H, W) in [-1, 1], the images of the source domain.
        targets: (B, C', H, W) in [-1, 1], the paired ground truth (paired data), else None.
        labels: (B,) int64 class kept beside each input for evaluation (the built-in digit sets), else None.
    """

    inputs: Tensor
    targets: Tensor | None
    labels: Tensor | None


def is_translation_model(model: Any) -> bool:
    """A model (or class) that maps images to images: its training batches are pairs or unpaired A/B draws."""
    return getattr(model, "batch_kind", "images") in TRANSLATION_KINDS


def check_translation_model(model: Any, script: str) -> None:
    """A clear refusal of a model that draws from noise, for the scripts that translate images."""
    if not is_translation_model(model):
        raise ValueError(f"{type(model).__name__} draws images from noise z; it does not translate images, so {script} "
                         f"has nothing to do with it. Translation models: {TRANSLATION_MODELS}. For samples of this "
                         "model, use sample.py.")


def check_direction(model: Any, direction: str) -> None:
    """``direction`` is one of the model's `translation_directions`, or a ValueError naming the fix."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}.")
    supported = tuple(getattr(model, "translation_directions", ("AtoB",)))
    if direction not in supported:
        raise ValueError(f"{type(model).__name__} translates {' and '.join(supported)} only (the direction it was "
                         f"trained in), not {direction}. For the other direction train a model with "
                         "data.direction=BtoA (it swaps A and B), or use an unpaired model (cyclegan), which learns both.")


def labels_or_none(labels: Tensor) -> Tensor | None:
    """The kept labels, or None when the data has none (folders of pairs carry -1)."""
    return None if bool((labels < 0).all()) else labels


def split_loader(datamodule: Any, split: str) -> Iterable[Any]:
    """The ``test`` or ``val`` loader of a translation datamodule (fixed order, every item)."""
    loaders = {"test": "test_dataloader", "val": "val_dataloader"}
    if split not in loaders:
        raise ValueError(f"split must be one of {tuple(loaders)} for a translation model (the training split is "
                         f"shuffled and cropped), got {split!r}.")
    return getattr(datamodule, loaders[split])()


@torch.no_grad()
def translate_batches(model: Any, batches: Iterable[Any], direction: str = "AtoB", seed: int = 0,
                      limit: int | None = None) -> dict[str, Tensor]:
    """Translate the first ``limit`` items (all when None) of ``batches`` (a datamodule's loader, in its fixed order).

    Returns ``inputs``, ``outputs`` (N, C, H, W) in [-1, 1] on the CPU, ``targets`` when the data is paired and
    ``labels`` (N,) when it has them. Batch i is translated with seed ``seed + i``, so the result is reproducible."""
    check_direction(model, direction)
    parts: dict[str, list[Tensor]] = {"inputs": [], "outputs": [], "targets": [], "labels": []}
    count = 0
    for i, batch in enumerate(batches):
        item = model.translation_batch(batch, direction)
        take = len(item.inputs) if limit is None else min(len(item.inputs), limit - count)
        # the whole batch through the model, then the first `take`: a limit never changes a translation (pix2pix's
        # test mode normalises on the batch at hand)
        outputs = model.translate(item.inputs.to(model.device), direction, seed + i)
        parts["inputs"].append(item.inputs[:take].cpu())
        parts["outputs"].append(outputs[:take].float().cpu())
        if item.targets is not None:
            parts["targets"].append(item.targets[:take].cpu())
        if item.labels is not None:
            parts["labels"].append(item.labels[:take].cpu())
        count += take
        if limit is not None and count >= limit:
            break
    if count == 0:
        raise ValueError("the data split served no images to translate.")
    return {key: torch.cat(values) for key, values in parts.items() if values and len(values) == len(parts["inputs"])}


@torch.no_grad()
def grid_of_split(model: Any, batches: Iterable[Any], n: int, direction: str = "AtoB",
                  seed: int = 0) -> tuple[Tensor, int]:
    """The model's `translation_grid` for the first ``n`` items of ``batches`` (gathered into one batch)."""
    check_direction(model, direction)
    gathered: list[Any] = []
    count = 0
    for batch in batches:
        gathered.append(batch)
        count += len(model.translation_batch(batch, direction).inputs)
        if count >= n:
            break
    if not gathered:
        raise ValueError("the data split served no images to translate.")
    batch = concat_batches(gathered, n)
    return model.translation_grid(batch, direction, seed)


def concat_batches(batches: list[Any], n: int) -> Any:
    """Batches of one structure (tensors, or tuples / NamedTuples of tensors) -> one batch of the first n items."""
    first = batches[0]
    if isinstance(first, Tensor):
        return torch.cat(batches)[:n]
    fields = [torch.cat(parts)[:n] if isinstance(parts[0], Tensor) else parts[0] for parts in zip(*batches)]
    return type(first)(*fields) if hasattr(first, "_fields") else type(first)(fields)


@contextmanager
def seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """A model's ``translate(seed=...)``: within the block torch's random stream (and the device's, on CUDA) starts
    from ``seed``, and the global stream is restored on exit; ``None``: nothing is forked or seeded."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def first_validation_items(model: Any, n: int, error: str) -> Any:
    """The first ``n`` items of the trainer's validation data as ``model.real_samples`` makes them (`Paired`,
    `Unpaired`), on the CPU: a translation model's fixed sample-grid inputs. A RuntimeError with ``error`` when the
    model's trainer has no datamodule."""
    datamodule = getattr(model._trainer, "datamodule", None) if model._trainer is not None else None
    if datamodule is None:
        raise RuntimeError(error)
    parts: list[Any] = []
    for batch in datamodule.val_dataloader():
        parts.append(model.real_samples(batch))
        if sum(len(p.a) for p in parts) >= n:
            break
    return type(parts[0])(*(torch.cat(x)[:n].cpu() for x in zip(*parts)))


# ----- a user's image files (translate.py) -------------------------------------------------------------------------
def image_files(source: Path) -> list[Path]:
    """One image, or every image under a folder (recursively, sorted); a clear error when there is none."""
    from lit_gans.data.image_folder import IMAGE_EXTENSIONS, find_images

    if source.is_file():
        if not source.name.lower().endswith(IMAGE_EXTENSIONS):
            raise ValueError(f"input={source} is not an image file ({', '.join(IMAGE_EXTENSIONS)}).")
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"input={source} does not exist: give an image file or a folder of images.")
    files = find_images(source)
    if not files:
        raise FileNotFoundError(f"input={source} holds no image files ({', '.join(IMAGE_EXTENSIONS)}).")
    return files


def output_paths(files: list[Path], source: Path, out: Path) -> list[Path]:
    """``out/<the input's path under the folder, as .png>``; refused before anything is written when two inputs would
    write one file (``a.jpg`` and ``a.png``) or an output would overwrite an input."""
    base = source if source.is_dir() else source.parent
    paths = [out / f.relative_to(base).with_suffix(".png") for f in files]
    seen: dict[Path, Path] = {}
    inputs = {f.resolve() for f in files}
    for f, p in zip(files, paths):
        if p.resolve() in seen:
            raise ValueError(f"{seen[p.resolve()]} and {f} would both be written to {p}: rename one of them.")
        seen[p.resolve()] = f
        if p.resolve() in inputs:
            raise ValueError(f"out={out} would overwrite the input {p}: choose another out folder.")
    return paths


def parse_resize(resize: Any) -> tuple[int, int] | None:
    """``resize``: None (keep each image's size), N (N x N) or [H, W]."""
    if resize is None:
        return None
    values = [int(resize)] if isinstance(resize, (int, str)) else [int(v) for v in resize]
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) < 1:
        raise ValueError(f"resize must be null, a side N or [height, width], got {resize!r}.")
    return values[0], values[1]


def stored_size(path: Path) -> tuple[int, int]:
    """(height, width) from the file's header, without decoding it."""
    from PIL import Image

    with Image.open(path) as image:
        return image.height, image.width


def read_image(path: Path, channels: int, size: tuple[int, int] | None = None) -> Tensor:
    """An image file -> (C, H, W) float32 in [-1, 1]: grey or RGB (any PIL mode) converted to ``channels`` (1: PIL's
    luminance, 3: grey repeated), resized to ``size`` (bicubic, antialiased) when given."""
    from PIL import Image
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2 import functional as TF

    with Image.open(path) as image:
        x = TF.pil_to_tensor(image.convert("L" if channels == 1 else "RGB"))  # (C, H, W) uint8
    if size is not None and tuple(x.shape[-2:]) != size:
        x = TF.resize(x, list(size), InterpolationMode.BICUBIC, antialias=True)
    return x.to(torch.float32).div(127.5).sub(1.0)


def write_image(image: Tensor, path: Path) -> None:
    """(C, H, W) in [-1, 1] -> a grey (C = 1) or RGB (C = 3) PNG, values rounded as `to_uint8`."""
    from PIL import Image

    from lit_gans.metrics.extractors import to_uint8

    pixels = to_uint8(image.detach().float().cpu()).permute(1, 2, 0).numpy()  # (H, W, C)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path)


@torch.no_grad()
def translate_files(model: Any, files: list[Path], outputs: list[Path], direction: str = "AtoB", seed: int | None = 0,
                    resize: tuple[int, int] | None = None, batch_size: int = 1) -> list[Path]:
    """Translate image files into PNGs. Every size is checked against the model first (nothing is written when one
    does not fit); images of one size go through the model ``batch_size`` at a time (batch i seeded ``seed + i``)."""
    check_translation_model(model, "translate.py")
    check_direction(model, direction)
    channels, trained_h, _ = model.translation_input_shape(direction)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, path in enumerate(files):
        size = resize or stored_size(path)
        try:
            model.check_translation_size(*size, direction)
        except ValueError as err:
            raise ValueError(f"{path}: {err} Pass resize={trained_h} (or resize=[H,W]) to resize every input to a "
                             "size the model takes.") from None
        groups.setdefault(size, []).append(i)
    written: list[Path] = []
    batch_index = 0
    for indices in groups.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start:start + batch_size]
            x = torch.stack([read_image(files[i], channels, resize) for i in chunk]).to(model.device)
            y = model.translate(x, direction, None if seed is None else seed + batch_index)
            batch_index += 1
            for i, image in zip(chunk, y):
                write_image(image, outputs[i])
                written.append(outputs[i])
    return written
