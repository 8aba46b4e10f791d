"""GP-GAN's blending GAN networks (Wu et al. 2017, Section 3.1; the authors' ``model.py``).

The generator is an encoder-decoder, "similar to the context encoder" (Pathak et al. 2016): a DCGAN discriminator
body down to 4x4, a 4x4 convolution to a ``bottleneck``-wide (4000) code, batch norm and LeakyReLU(0.2), then a
DCGAN generator back up. The critic is the DCGAN discriminator (no sigmoid: WGAN), with the authors' widths: 64
filters doubled at every stride-2 stage, no biases in any convolution, batch norm except on the first and last layer,
DCGAN init (N(0, 0.02) weights, N(1, 0.02) norm scales).

``max_channels`` caps the widths (None: the authors' doubling without a cap; 512 equals it at 64 px, and keeps a
256 px instance from growing to 2048 filters and a 131 M-weight bottleneck).
"""

from collections.abc import Sequence
from itertools import pairwise

from torch import Tensor, nn

from lit_gans.networks.layers import dcgan_init_


def _widths(image_size: int, base: int, max_channels: int | None, role: str) -> list[int]:
    """Filters of the stride-2 stages from image_size down to 4x4: base, 2·base, ... (capped)."""
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"GP-GAN's {role} takes square images whose side is a power of two >= 8 (the authors: 64); "
                         f"got {image_size}. Resize the data (data.image_size=64).")
    widths, size = [], image_size
    while size > 4:
        widths.append(base * 2 ** len(widths))
        size //= 2
    return [min(w, max_channels) if max_channels else w for w in widths]


def _down(image_size: int, in_channels: int, base: int, out_channels: int, max_channels: int | None,
          role: str) -> nn.Sequential:
    """The authors' DCGAN_D: conv4x4/2 + LeakyReLU(0.2), then conv4x4/2 + BN + LeakyReLU(0.2) down to 4x4, then a
    4x4 convolution to ``out_channels`` x 1 x 1. No biases."""
    widths = _widths(image_size, base, max_channels, role)
    layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    for c_in, c_out in pairwise(widths):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
    layers.append(nn.Conv2d(widths[-1], out_channels, 4, 1, 0, bias=False))
    return nn.Sequential(*layers)


class BlendingGenerator(nn.Module):
    """Composite (B, C, S, S) in [-1, 1] -> well-blended image (B, C_out, S, S) in [-1, 1].

    Args:
        in_shape: (C, S, S) of the composites (S a power of two >= 8; the authors' 64).
        out_channels: channels of the output (None: as the input; the authors' --nc 3).
        nef, ngf: base filters of the encoder and the decoder (--nef, --ngf: 64).
        bottleneck: channels of the 1x1 code (--nBottleneck: 4000).
        max_channels: cap on the stage widths (None: the authors' uncapped doubling).
    """

    def __init__(self, in_shape: Sequence[int], out_channels: int | None = None, nef: int = 64, ngf: int = 64,
                 bottleneck: int = 4000, max_channels: int | None = None) -> None:
        super().__init__()
        c, h, w = (int(v) for v in in_shape)
        if h != w:
            raise ValueError(f"GP-GAN's blending GAN takes square composites; got {h}x{w}. Set data.image_size.")
        self.in_shape, self.image_size = (c, h, w), h
        out_channels = out_channels or c
        self.encoder = _down(h, c, nef, bottleneck, max_channels, "generator")
        self.bottleneck = nn.Sequential(nn.BatchNorm2d(bottleneck), nn.LeakyReLU(0.2))
        widths = _widths(h, ngf, max_channels, "generator")[::-1]  # 4x4 first
        layers: list[nn.Module] = [nn.ConvTranspose2d(bottleneck, widths[0], 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(widths[0]), nn.ReLU()]
        for c_in, c_out in pairwise(widths):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        layers += [nn.ConvTranspose2d(widths[-1], out_channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.decoder = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(f"the blending GAN was built for {self.in_shape} composites, got {tuple(x.shape[1:])}: "
                             f"resize them to {self.image_size}x{self.image_size} first.")
        return self.decoder(self.bottleneck(self.encoder(x)))  # (B, C, S, S) -> (B, bottleneck, 1, 1) -> (B, C, S, S)


class BlendingCritic(nn.Module):
    """The authors' DCGAN_D with one output: image (B, C, S, S) -> critic score (B,) (no sigmoid).

    Args:
        image_size: S (a power of two >= 8). in_channels: set by the model (the images' channels).
        ndf: base filters (--ndf: 64). max_channels: cap on the stage widths (None: uncapped).
    """

    def __init__(self, image_size: int, in_channels: int = 3, ndf: int = 64, max_channels: int | None = None) -> None:
        super().__init__()
        self.net = _down(int(image_size), int(in_channels), ndf, 1, max_channels, "critic")
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).flatten()  # (B, 1, 1, 1) -> (B,); the authors average it over the batch in the loss
