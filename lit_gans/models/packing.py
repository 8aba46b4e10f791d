"""PacGAN packing (Lin et al. 2018, "PacGAN: The power of two samples in generative adversarial networks").

The discriminator scores *packs* of m samples instead of single samples: m real samples concatenated
along the channel axis give one input with m·C channels and one score, m generated samples likewise
(Section 3; the authors' code concatenates on TensorFlow's channel axis). G is unchanged. A pack of
generated samples carries m independent draws, so a generator that covers few modes makes packs that
look unlike packs of data — the paper's remedy for mode collapse at the cost of D's first layer only.

Layout: samples i·m, …, i·m + m − 1 (consecutive in the batch) form pack i, sample i·m + j in channels
j·C … (j + 1)·C − 1. For vectors (B, d) (toy data, MLPs) the pack is the concatenation (B/m, m·d).
"""

from collections.abc import Mapping
from typing import Any

from torch import Tensor


def pack_samples(x: Tensor, m: int) -> Tensor:
    """(B, C, ...) -> (B/m, m·C, ...): consecutive groups of m samples concatenated on dim 1.

    Example:
        >>> import torch
        >>> pack_samples(torch.arange(4.0).view(4, 1), 2)
        tensor([[0., 1.],
                [2., 3.]])
    """
    if m == 1:
        return x
    if len(x) % m:
        raise ValueError(f"PacGAN packs the discriminator's input in groups of model.pack={m} samples, but a batch has "
                         f"{len(x)}: set batch_size to a multiple of {m} (and keep data.drop_last=true so the last "
                         "batch is full).")
    return x.reshape(len(x) // m, m * x.shape[1], *x.shape[2:])  # (B/m, m·C, ...)


def packed_discriminator_config(cfg: Mapping[str, Any], m: int) -> dict[str, Any]:
    """D's config with ``in_shape[0]`` (channels, or the vector size) multiplied by m: the packed input."""
    cfg = dict(cfg)
    if m == 1:
        return cfg
    shape = cfg.get("in_shape")
    if not shape:
        raise ValueError(f"model.pack={m} needs a discriminator config with in_shape (C, ...) to widen to m·C; "
                         f"{cfg.get('_target_')} has none.")
    return {**cfg, "in_shape": [int(shape[0]) * m, *shape[1:]]}
