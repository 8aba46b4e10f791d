"""GP-GAN's high-resolution blend (Wu et al. 2017, Section 3.2 and Algorithm 1; the authors' ``gp_gan.py``).

The blending GAN sees the composite at ``image_size`` (64 px) and returns a low-resolution, well-blended x^l. The
Gaussian-Poisson equation then climbs a pyramid: source and destination are smoothed (Gaussian, ``smooth_sigma``)
and resized to image_size·2^i for i = max_level − 1, ..., 0 (max_level = ⌈log₂(max(H, W) / image_size)⌉), the
full-resolution images on top. At the coarsest level the colour constraint is x^l; at every level the solution of
the Gaussian-Poisson equation (the composite's gradients there, β times the colour), clipped to [0, 1], is
upsampled (bicubic) to become the next level's colour constraint. As in the authors' code, the lower levels are
square (the aspect ratio is restored at the top level) and the mask is resized with nearest neighbours.

Without a blending GAN (``low=None``) the coarsest colour constraint is the copy-and-paste composite itself: the
"Poisson-only" blend, the same equation and pyramid with nothing learned.
"""

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.blending.poisson import (
    composite_gradients,
    divergence_rhs,
    gaussian_poisson,
)


def gaussian_blur(x: Tensor, sigma: float, truncate: float = 4.0) -> Tensor:
    """(B, C, H, W) separable Gaussian blur with edge replication (scikit-image's ``gaussian``, mode "nearest")."""
    if sigma <= 0:
        return x
    radius = max(int(truncate * sigma + 0.5), 1)
    d = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (d / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def resize(x: Tensor, size: tuple[int, int], mode: str = "bicubic") -> Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode=mode, align_corners=False) if mode != "nearest" else F.interpolate(x, size=size, mode="nearest")


def pyramid_sizes(height: int, width: int, image_size: int) -> list[tuple[int, int]]:
    """The level sizes, coarsest first: (image_size·2^i)² for i = 0 .. max_level − 1, then (H, W)."""
    max_level = max(math.ceil(math.log2(max(height, width) / image_size)), 0)
    return [(image_size * 2**i, image_size * 2**i) for i in range(max_level)] + [(height, width)]


def gaussian_pyramid(x: Tensor, sizes: list[tuple[int, int]], smooth_sigma: float) -> list[Tensor]:
    """x at every size of `pyramid_sizes` (coarsest first): smoothed then resized from the next finer level."""
    levels = [x]
    for size in reversed(sizes[:-1]):
        levels.append(resize(gaussian_blur(levels[-1], smooth_sigma), size))
    return levels[::-1]


def check_blend_inputs(source: Tensor, destination: Tensor, mask: Tensor) -> None:
    """Shapes that name the fix: (B, C, H, W) images of one size and a (B, 1, H, W) mask of the same H, W."""
    if source.dim() != 4 or source.shape != destination.shape:
        raise ValueError(f"source {tuple(source.shape)} and destination {tuple(destination.shape)} must be (B, C, H, W) "
                         "images of one size: resize one of them to the other's size first.")
    if mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[0] != source.shape[0] or mask.shape[-2:] != source.shape[-2:]:
        raise ValueError(f"the mask {tuple(mask.shape)} must be (B, 1, H, W) with the images' B, H, W "
                         f"{(source.shape[0], 1, *source.shape[-2:])}: resize the mask to the images' size "
                         f"({source.shape[-1]}x{source.shape[-2]}) and give it one channel.")


def copy_paste(source: Tensor, destination: Tensor, mask: Tensor) -> Tensor:
    """The composite: source inside the mask, destination outside."""
    return mask * source + (1 - mask) * destination


def gp_blend(source: Tensor, destination: Tensor, mask: Tensor, low: Tensor | None = None, image_size: int = 64,
             beta: float = 1.0, sigma: float = 0.5, smooth_sigma: float = 1.0, objective: str = "paper") -> Tensor:
    """GP-GAN's blend of ``source`` pasted onto ``destination`` inside ``mask``.

    Args:
        source, destination: (B, C, H, W) in [0, 1].
        mask: (B, 1, H, W), 1 where the source goes (binary, or soft in [0, 1]).
        low: (B, C, image_size, image_size) in [0, 1], the blending GAN's output x^l for the composite at that size;
            None: the Poisson-only blend (the composite itself as the colour constraint).
        beta, sigma: the Gaussian term's weight and filter width (the authors: 1 and 0.5); objective: see
            `lit_gans.blending.poisson.gaussian_poisson`. smooth_sigma: the pyramid's smoothing (the authors: 1).
    Returns:
        (B, C, H, W) in [0, 1].
    """
    check_blend_inputs(source, destination, mask)
    sizes = pyramid_sizes(*source.shape[-2:], image_size)
    sources, destinations = gaussian_pyramid(source, sizes, smooth_sigma), gaussian_pyramid(destination, sizes, smooth_sigma)
    mask0 = resize(mask, sizes[0], "nearest")
    if low is None:
        low = copy_paste(sources[0], destinations[0], mask0)
    elif tuple(low.shape) != (source.shape[0], source.shape[1], *sizes[0]):
        raise ValueError(f"low {tuple(low.shape)} must be the blending GAN's output at the coarsest level, "
                         f"{(source.shape[0], source.shape[1], *sizes[0])} (image_size={image_size}).")
    x = low.clamp(0, 1)
    for size, src, dst in zip(sizes, sources, destinations):
        m = resize(mask, size, "nearest")
        b = divergence_rhs(*composite_gradients(src, dst, m))
        x = gaussian_poisson(b, resize(x, size), beta=beta, sigma=sigma, objective=objective).clamp(0, 1)
    return x
