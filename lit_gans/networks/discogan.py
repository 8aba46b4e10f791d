"""DiscoGAN's networks (Kim et al. 2017, Section 4 and Figure 2; the authors' ``model.py``): an encoder-decoder
generator and a convolutional discriminator, for square images (64 px in the paper).

G: k 4x4 stride-2 convs (64, 128, 256, 512 for 64 px; batch norm from the second on, LeakyReLU 0.2) down to 4x4
(`discogan_depth`: 7x7 for 28 px), then k 4x4 stride-2 transposed convs back (batch norm, ReLU), Tanh on the last (the authors' code: sigmoid, images
in [0, 1]; here [-1, 1] as every lit_gans model). D: the same k convs down to 4x4, then a 4x4 valid conv (the bottleneck's size) to one
logit (the authors' sigmoid is in the loss: BCE with logits). Init N(0, 0.02) as DCGAN.
"""

import math

from torch import Tensor, nn

from lit_gans.networks.layers import dcgan_init_


def discogan_depth(size: int) -> int:
    """Stride-2 levels: halve the side while it is even and above 4 — 4 for the paper's 64 px (4x4 bottleneck),
    3 for 32 px, 2 for 28 px (7x7 bottleneck)."""
    depth, side = 0, size
    while side % 2 == 0 and side > 4:
        side, depth = side // 2, depth + 1
    if depth == 0:
        raise ValueError(f"DiscoGAN's networks halve the image side at least once; got a side of {size}. Use an even "
                         "side above 4 such as 28, 32 or 64 (data.image_size / data.crop_size).")
    return depth


def _down(c_in: int, c_out: int, norm: bool) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm), *([nn.BatchNorm2d(c_out)] if norm else []), nn.LeakyReLU(0.2, True)]


class DiscoGANGenerator(nn.Module):
    """G: (B, C, S, S) -> (B, C_out, S, S) in [-1, 1].

    Example:
        >>> import torch
        >>> tuple(DiscoGANGenerator((3, 32, 32), ngf=8)(torch.zeros(2, 3, 32, 32)).shape)
        (2, 3, 32, 32)
    """

    def __init__(self, in_shape: tuple[int, int, int] | list[int], out_channels: int | None = None, ngf: int = 64,
                 output_activation: str = "tanh") -> None:
        super().__init__()
        if output_activation not in ("tanh", "sigmoid"):
            raise ValueError(f"output_activation must be 'tanh' (images in [-1, 1]) or 'sigmoid' (the authors' [0, 1]), "
                             f"got {output_activation!r}.")
        channels, height, width = (int(v) for v in in_shape)
        if height != width:
            raise ValueError(f"DiscoGAN's networks take square images; got {height}x{width}.")
        depth = discogan_depth(height)
        widths = [ngf * min(2**i, 8) for i in range(depth)]
        layers: list[nn.Module] = []
        for i, w in enumerate(widths):
            layers += _down(channels if i == 0 else widths[i - 1], w, norm=i > 0)
        for i in reversed(range(depth)):
            target = (out_channels or channels) if i == 0 else widths[i - 1]
            layers.append(nn.ConvTranspose2d(widths[i], target, 4, 2, 1, bias=i == 0))
            last = nn.Tanh() if output_activation == "tanh" else nn.Sigmoid()
            layers += [last] if i == 0 else [nn.BatchNorm2d(target), nn.ReLU(True)]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class DiscoGANDiscriminator(nn.Module):
    """D: (B, C, S, S) -> (B, 1, 1, 1) logits.

    Example:
        >>> import torch
        >>> tuple(DiscoGANDiscriminator(3, in_size=32, ndf=8)(torch.zeros(2, 3, 32, 32)).shape)
        (2, 1, 1, 1)
    """

    def __init__(self, in_channels: int, in_size: int = 64, ndf: int = 64) -> None:
        super().__init__()
        depth = discogan_depth(in_size)
        widths = [ndf * min(2**i, 8) for i in range(depth)]
        layers: list[nn.Module] = []
        for i, w in enumerate(widths):
            layers += _down(in_channels if i == 0 else widths[i - 1], w, norm=i > 0)
        layers.append(nn.Conv2d(widths[-1], 1, in_size >> depth, 1, 0))  # the bottleneck (4x4 at 64 px) -> 1x1
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def features(self, x: Tensor) -> list[Tensor]:
        """The activations feature matching compares (the authors' ``relu2, relu3, relu4``): the output of every
        normalised down block (the second on), (B, C_l, H_l, W_l) each."""
        out: list[Tensor] = []
        for i, layer in enumerate(self.net):
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU) and isinstance(self.net[i - 1], nn.BatchNorm2d):
                out.append(x)
        return out
