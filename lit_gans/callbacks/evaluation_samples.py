"""The fixed, seeded set of generated images that evaluation callbacks score (`GeneratorMetrics`, `ParzenLikelihood`).

Batch b of an evaluation set is ``sample_images`` with a CPU generator seeded ``seed * 1_000_000 + b``: every process
and every evaluation draws the same images, so scores move only with G, and DDP ranks can split the batches.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lightning as L
import torch
from torch import Tensor

from lit_gans.callbacks.ema import ema_weights


@contextmanager
def evaluation_mode(trainer: L.Trainer | None, pl_module: Any) -> Iterator[None]:
    """The module in eval mode (BatchNorm's running statistics: an evaluation must not move them), G holding the
    generator average when the run keeps one; the training mode restored afterwards."""
    was_training = pl_module.training
    pl_module.eval()
    try:
        with ema_weights(trainer, pl_module):
            yield
    finally:
        pl_module.train(was_training)


def num_batches(num_samples: int, batch_size: int) -> int:
    return (num_samples + batch_size - 1) // batch_size


def batch_sizes(num_samples: int, batch_size: int) -> list[int]:
    """The size of each evaluation batch: ``batch_size``, the last one shorter."""
    return [min(batch_size, num_samples - b * batch_size) for b in range(num_batches(num_samples, batch_size))]


def seeded_fake_batch(pl_module: Any, b: int, num_samples: int, batch_size: int, seed: int) -> Tensor:
    """Batch ``b`` of the ``num_samples`` evaluation images, ``batch_size`` per batch (the last one shorter)."""
    n = batch_sizes(num_samples, batch_size)[b]
    return pl_module.sample_images(n, generator=torch.Generator().manual_seed(seed * 1_000_000 + b))
