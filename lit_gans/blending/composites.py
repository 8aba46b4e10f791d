"""Copy-and-paste composites from one photograph: GP-GAN's training pairs, built offline.

GP-GAN's blending GAN learns from "same scene, different condition" pairs (the Transient Attributes database: one
webcam, many times of day, weathers and seasons): the authors' ``BlendingDataset`` crops one window from two images of
a scene, pastes the centre square (half the side) of one onto the other and asks for the other back. Here the second
condition is synthetic: a photometrically changed copy of the same photograph (brightness, contrast and colour
temperature, the changes between the conditions of a scene), so any photograph makes pairs. The photographs are the
colour ones scikit-image ships (`PHOTOS`); everything is a function of the seed.
"""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

# scikit-image's colour photographs (skimage.data), offline: name -> loader
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right", "hubble_deep_field")
REGIONS = ("center", "random")
# the ranges the photometric changes are drawn from (uniformly)
BRIGHTNESS = (-0.2, 0.2)  # added, in [0, 1] units
CONTRAST = (0.6, 1.4)  # factor around the image's mean
TEMPERATURE = (-0.2, 0.2)  # red gain 1 + t, blue gain 1 − t (warmer / cooler light)


def load_photo(name: str) -> Tensor:
    """(3, H, W) uint8 photograph ``name`` of `PHOTOS` (scikit-image's data, no download)."""
    if name not in PHOTOS:
        raise ValueError(f"unknown photograph {name!r}; scikit-image ships {PHOTOS}.")
    import skimage.data  # imported here: only the offline composites need it

    if name.startswith("motorcycle_"):
        left, right, _ = skimage.data.stereo_motorcycle()
        image = left if name.endswith("left") else right
    else:
        image = getattr(skimage.data, name)()
    return torch.from_numpy(np.ascontiguousarray(image[..., :3])).permute(2, 0, 1).contiguous()


class Composites(NamedTuple):
    """uint8 source (the changed copy), destination (the photograph, the target) (N, 3, S, S); mask (N, 1, S, S)
    uint8 in {0, 1}, 1 where the source is pasted. The composite is mask·source + (1 − mask)·destination."""

    source: Tensor
    destination: Tensor
    mask: Tensor

    def composite(self) -> Tensor:
        return torch.where(self.mask.bool(), self.source, self.destination)


def photometric_change(x: Tensor, brightness: Tensor, contrast: Tensor, temperature: Tensor) -> Tensor:
    """(N, 3, H, W) in [0, 1] -> the same scene in another light: contrast c around each image's mean, brightness b
    added, the red channel times 1 + t and the blue one times 1 − t; clipped to [0, 1]. Each parameter (N,)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    y = (x - mean) * contrast.view(-1, 1, 1, 1) + mean + brightness.view(-1, 1, 1, 1)
    gains = torch.stack([1 + temperature, torch.ones_like(temperature), 1 - temperature], dim=1)
    return (y * gains.view(-1, 3, 1, 1)).clamp(0, 1)


def _shrink(image: Tensor, shorter: int) -> Tensor:
    """(3, H, W) resized (antialiased) so that its shorter side is ``shorter``, if it is longer."""
    height, width = image.shape[-2:]
    if min(height, width) <= shorter:
        return image
    factor = shorter / min(height, width)
    size = (max(round(height * factor), shorter), max(round(width * factor), shorter))
    return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]


def _uniform(n: int, bounds: tuple[float, float], generator: torch.Generator) -> Tensor:
    return bounds[0] + (bounds[1] - bounds[0]) * torch.rand(n, generator=generator)


def make_composites(photos: Sequence[str], n: int, size: int, seed: int, region: str = "center", ratio: float = 0.5,
                    min_scale: float = 0.3) -> Composites:
    """``n`` composites of ``size``² from ``photos``: a random square window (side ``min_scale``..1 of the photo's
    shorter side) of a random photo, resized; its changed copy pasted inside a square of ``ratio``·size: centred (the
    authors' BlendingDataset) or at a random place (``region="random"``). Deterministic in ``seed``."""
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, got {region!r}.")
    if not 0 < ratio < 1 or not 0 < min_scale <= 1 or size < 4 or n < 1 or not photos:
        raise ValueError(f"need photos, n >= 1, size >= 4, 0 < ratio < 1 and 0 < min_scale <= 1; got {len(photos)} "
                         f"photos, n={n}, size={size}, ratio={ratio}, min_scale={min_scale}.")
    g = torch.Generator().manual_seed(seed)
    # each photo once at the smallest size at which its smallest window still has ``size`` pixels (fast crops)
    images = [_shrink(load_photo(name).float() / 255, int(np.ceil(size / min_scale))) for name in photos]
    which = torch.randint(len(images), (n,), generator=g)
    scales = _uniform(n, (min_scale, 1.0), g)
    destination = torch.empty(n, 3, size, size)
    for i in range(n):
        image = images[int(which[i])]
        height, width = image.shape[-2:]
        side = max(round(float(scales[i]) * min(height, width)), 1)
        top = int(torch.randint(height - side + 1, (), generator=g))
        left = int(torch.randint(width - side + 1, (), generator=g))
        crop = image[None, :, top: top + side, left: left + side]
        destination[i] = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False,
                                       antialias=side > size)[0]
    destination = destination.clamp(0, 1)
    source = photometric_change(destination, _uniform(n, BRIGHTNESS, g), _uniform(n, CONTRAST, g),
                                _uniform(n, TEMPERATURE, g))
    side = max(int(size * ratio), 1)
    if region == "center":
        tops = lefts = torch.full((n,), size // 2 - side // 2)
    else:
        tops, lefts = torch.randint(size - side + 1, (n,), generator=g), torch.randint(size - side + 1, (n,), generator=g)
    mask = torch.zeros(n, 1, size, size, dtype=torch.uint8)
    for i in range(n):
        mask[i, :, tops[i]: tops[i] + side, lefts[i]: lefts[i] + side] = 1
    to_uint8 = lambda x: (x * 255).round().to(torch.uint8)
    return Composites(to_uint8(source), to_uint8(destination), mask)
