"""Translation models (pix2pix; the unpaired CycleGAN family) as translate.py, sample.py and the benchmarks use them.

Everything here goes through the hooks every translation model provides, never through a model's networks:

    translation_directions                  the directions it translates ("AtoB"; unpaired models: both)
    translate(images, direction="AtoB", seed=None) -> Tensor
                                            (B, C, H, W) in [-1, 1] -> its translations; ``seed`` fixes any noise
                                            (pix2pix's test-time dropout) without touching the global random stream
    translation_input_shape(direction)      (C, H, W) of the inputs it was trained on
    check_translation_size(height, width)   raises ValueError naming the sizes it takes
    translation_batch(batch, direction)     a datamodule batch -> `TranslationBatch` (inputs, targets, labels)
    translation_grid(batch, direction, seed) -> (images, nrow): the rows a sample grid shows (pix2pix: input /
                                            translation / target; unpaired models: input / translation /
                                            reconstruction)

A model is a translation model when its ``batch_kind`` (what a training batch carries) is one of
`TRANSLATION_KINDS`.
"""

from collections.abc import Iterable
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
        inputs = item.inputs[:take].to(model.device)
        parts["inputs"].append(inputs.cpu())
        parts["outputs"].append(model.translate(inputs, direction, seed + i).float().cpu())
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
