"""CycleGAN's ResNet generator (Zhu et al. 2017, Section 4 and Appendix 7.2; Johnson et al. 2016's architecture),
as the authors' code builds it (``models/networks.py``: ``ResnetGenerator``, ``ResnetBlock``).

c7s1-ngf, d(2ngf), d(4ngf), R(4ngf) x n_blocks, u(2ngf), u(ngf), c7s1-C: a reflection-padded 7x7 conv, two
stride-2 3x3 downsamplings, residual blocks of two reflection-padded 3x3 convs, two stride-2 transposed convs
(k3 s2 p1 output_padding 1), a reflection-padded 7x7 conv and Tanh. 9 blocks at 256 px, 6 at 128 (the paper);
norms as `lit_gans.networks.pix2pix.norm_layer` (the authors' CycleGAN default: instance norm, no affine);
convs carry a bias only when the norm is not batch norm. Init N(0, 0.02).
"""

from torch import Tensor, nn

from lit_gans.networks.layers import dcgan_init_
from lit_gans.networks.pix2pix import norm_layer

DOWNSAMPLINGS = 2  # the authors' n_downsampling: sides must be divisible by 2^2 = 4


def check_resnet_size(height: int, width: int, where: str = "the image") -> None:
    """Two stride-2 downsamplings and two x2 upsamplings give back the input size only for sides divisible by 4."""
    step = 2**DOWNSAMPLINGS
    if height % step or width % step:
        bad = height if height % step else width
        near = f"{bad // step * step} or {(bad // step + 1) * step}" if bad > step else str(step)
        raise ValueError(f"CycleGAN's ResNet generator takes sides divisible by {step} (two stride-2 downsamplings); "
                         f"{where} is {height}x{width}. Use a size such as {near} (data.crop_size / data.image_size).")


class ResnetBlock(nn.Module):
    """x + [pad, conv3x3, norm, ReLU, (dropout), pad, conv3x3, norm](x)."""

    def __init__(self, channels: int, norm: str, dropout: float, bias: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
                                   norm_layer(norm, channels), nn.ReLU(True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """G: (B, C, H, W) -> (B, C_out, H, W) in [-1, 1]; H and W divisible by 4.

    Args:
        in_shape: (C, H, W) of the input images (H, W: checked to be divisible by 4).
        out_channels: channels of the output (None: as the input).
        ngf: width of the first layer (64 in the paper); the residual blocks run at 4·ngf.
        n_blocks: residual blocks (9 for 256 px, 6 for 128 px in the paper).
        norm: "instance" (CycleGAN's) | "batch" | "none".
        dropout: in each residual block (the authors' --no_dropout is the CycleGAN default: 0).

    Example:
        >>> import torch
        >>> g = ResnetGenerator((3, 32, 32), ngf=8, n_blocks=2)
        >>> tuple(g(torch.zeros(2, 3, 32, 32)).shape)
        (2, 3, 32, 32)
    """

    def __init__(self, in_shape: tuple[int, int, int] | list[int], out_channels: int | None = None, ngf: int = 64,
                 n_blocks: int = 9, norm: str = "instance", dropout: float = 0.0) -> None:
        super().__init__()
        in_channels, height, width = (int(v) for v in in_shape)
        check_resnet_size(height, width, f"the data ({height}x{width})")
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}.")
        out_channels = in_channels if out_channels is None else out_channels
        norm_layer(norm, 1)  # check the name
        bias = norm != "batch"
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=bias),
                                   norm_layer(norm, ngf), nn.ReLU(True)]
        width_i = ngf
        for _ in range(DOWNSAMPLINGS):  # (B, ngf·2^i, H / 2^i, W / 2^i)
            layers += [nn.Conv2d(width_i, 2 * width_i, 3, 2, 1, bias=bias), norm_layer(norm, 2 * width_i), nn.ReLU(True)]
            width_i *= 2
        layers += [ResnetBlock(width_i, norm, dropout, bias) for _ in range(n_blocks)]
        for _ in range(DOWNSAMPLINGS):
            layers += [nn.ConvTranspose2d(width_i, width_i // 2, 3, 2, 1, output_padding=1, bias=bias),
                       norm_layer(norm, width_i // 2), nn.ReLU(True)]
            width_i //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.n_blocks = n_blocks
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        check_resnet_size(x.shape[-2], x.shape[-1], f"the input ({x.shape[-2]}x{x.shape[-1]})")
        return self.net(x)
