"""Laplacian pyramids of image batches (Burt & Adelson 1983), as LAPGAN uses them (Denton et al. 2015, Section 3).

Levels are indexed from the coarsest, as LAPGAN samples them: ``sizes = (7, 14, 28)`` for MNIST. The Gaussian
pyramid is I_K = x and I_{k-1} = d(I_k); the band-pass residuals are h_k = I_k − u(I_{k-1}) for k ≥ 1, so the
pyramid (I_0, h_1, ..., h_K) rebuilds x exactly by I_k = u(I_{k-1}) + h_k — the recursion LAPGAN's sampler runs
with generated residuals.

d(·) blurs and decimates (bilinear with antialiasing: a triangle filter before subsampling), u(·) is bilinear
upsampling, as the authors' code (``image.scale``, bilinear) does. Pure functions; nothing here is learned.
"""

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor


def downsample(x: Tensor, size: int) -> Tensor:
    """d(x): (B, C, H, W) -> (B, C, size, size), blurred then decimated."""
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def upsample(x: Tensor, size: int) -> Tensor:
    """u(x): (B, C, h, w) -> (B, C, size, size), bilinear."""
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def check_sizes(sizes: Sequence[int]) -> None:
    """A pyramid needs at least two strictly increasing square sizes."""
    if len(sizes) < 2 or any(not isinstance(s, int) or s < 1 for s in sizes) or any(a >= b for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"pyramid sizes must be >= 2 increasing positive integers from the coarsest, e.g. [7, 14, 28], got {list(sizes)}.")


def gaussian_pyramid(x: Tensor, sizes: Sequence[int]) -> list[Tensor]:
    """[I_0, ..., I_K] with I_K = x (its size must be ``sizes[-1]``) and I_{k-1} = d(I_k, sizes[k-1])."""
    check_sizes(sizes)
    if tuple(x.shape[-2:]) != (sizes[-1], sizes[-1]):
        raise ValueError(f"the pyramid's finest level is {sizes[-1]}x{sizes[-1]} but the images are "
                         f"{x.shape[-2]}x{x.shape[-1]}: set the pyramid sizes to end at the image size.")
    levels = [x]
    for size in reversed(sizes[:-1]):
        levels.append(downsample(levels[-1], size))
    return levels[::-1]


def laplacian_pyramid(x: Tensor, sizes: Sequence[int]) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """Decompose x: (I_0, [h_1, ..., h_K], [l_1, ..., l_K]) where l_k = u(I_{k-1}) is the low-pass image level k's
    residual h_k = I_k − l_k is conditioned on (LAPGAN's D_k sees the pair (h_k, l_k))."""
    images = gaussian_pyramid(x, sizes)
    lows = [upsample(coarse, size) for coarse, size in zip(images[:-1], sizes[1:])]
    return images[0], [fine - low for fine, low in zip(images[1:], lows)], lows


def reconstruct(coarsest: Tensor, residuals: Sequence[Tensor]) -> Tensor:
    """I_K from I_0 and [h_1, ..., h_K]: I_k = u(I_{k-1}) + h_k (each residual's size is its level's)."""
    x = coarsest
    for h in residuals:
        x = upsample(x, h.shape[-1]) + h
    return x
