"""pix2pix's networks (Isola et al. 2017, Section 3.2 and Appendix 6.1.1): the U-Net generator and the PatchGAN
discriminator, as the authors' code builds them (``models/networks.py``: ``UnetGenerator``, ``NLayerDiscriminator``).

Norms as the authors': "batch" = BatchNorm2d with affine and running statistics, convolutions without bias;
"instance" = InstanceNorm2d without affine or running statistics, convolutions with bias; "none". Init: conv
weights N(0, 0.02), norm scales N(1, 0.02), biases 0.
"""

import math

import torch
from torch import Tensor, nn

from lit_gans.networks.layers import dcgan_init_

NORMS = ("batch", "instance", "none")
MAX_UNET_DEPTH = 8  # the authors' unet_256: 8 downsamplings take 256 px to 1x1
MAX_BOTTLENECK = 8  # a derived depth must shrink the image at least this far (28 px: 7x7 after 2 levels)


def norm_layer(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}.")


def unet_depth(size: int) -> int:
    """Levels of a U-Net for square images of side ``size``: halve until the side is odd or 1, at most 8 (the
    paper's 256 px -> 1x1). 256 -> 8, 128 -> 7, 32 -> 5, 28 -> 2 (7x7 bottleneck)."""
    depth = 0
    while size % 2 == 0 and size > 1 and depth < MAX_UNET_DEPTH:
        size, depth = size // 2, depth + 1
    return depth


def valid_sizes(depth: int, near: int) -> str:
    step = 2**depth
    below, above = max(step, near // step * step), (near // step + 1) * step
    return f"{below} or {above}" if below != above else str(above)


def check_unet_size(height: int, width: int, depth: int, where: str = "the image") -> None:
    """Each of ``depth`` stride-2 levels halves the sides and the decoder doubles them back: both sides must be
    multiples of 2^depth, or the skip connections cannot be concatenated."""
    step = 2**depth
    if height % step or width % step:
        bad = height if height % step else width
        raise ValueError(
            f"A U-Net of {depth} levels takes sides divisible by 2^{depth} = {step}; {where} is {height}x{width}. "
            f"Use a size such as {valid_sizes(depth, bad)} (data.crop_size / data.image_size), or a generator built for "
            f"this size (model.generator.depth=null derives the depth from model.generator.image_size).")


class UNetGenerator(nn.Module):
    """G: x -> y, an encoder-decoder with skip connections between mirrored levels (Isola et al. 2017, Fig. 3).

    Level i (0 = outermost) down: [LeakyReLU(0.2)] Conv4x4/s2 (width ngf·min(2^i, 8)) [norm]; up: ReLU
    ConvTranspose4x4/s2 on [down_i output, up_{i+1} output] concatenated on channels, norm (the outermost: Tanh
    instead), dropout on the ``dropout_blocks`` decoder levels just outside the innermost (the authors' unet_256:
    three 512-channel levels). No norm on the outermost down conv nor on the innermost level's down path (a 1x1
    bottleneck has no statistics to normalise). Dropout is pix2pix's only noise (Section 3.1): the model keeps it on
    at test time.

    Args:
        in_shape: (C, H, W) of the input images (H, W: the training size; the depth is derived from it).
        out_channels: channels of the output (None: as the input).
        image_size: the side the depth is derived from (None: in_shape's H).
        depth: levels (None: `unet_depth`, capped at 8). Sides must be divisible by 2^depth.
        ngf: width of the outermost level (64 in the paper).
        norm: "batch" | "instance" | "none".
        dropout: the probability (0.5) on ``dropout_blocks`` levels (3).

    Example:
        >>> g = UNetGenerator((3, 32, 32), ngf=8)
        >>> g.depth, tuple(g(torch.zeros(2, 3, 32, 32)).shape)
        (5, (2, 3, 32, 32))
    """

    def __init__(self, in_shape: tuple[int, int, int] | list[int], out_channels: int | None = None,
                 image_size: int | None = None, depth: int | None = None, ngf: int = 64, norm: str = "batch",
                 dropout: float = 0.5, dropout_blocks: int = 3) -> None:
        super().__init__()
        in_channels, height, width = (int(v) for v in in_shape)
        out_channels = in_channels if out_channels is None else out_channels
        size = image_size or height
        self.depth = unet_depth(size) if depth is None else depth
        if self.depth < 1:
            raise ValueError(f"A U-Net needs image sides divisible by 2 at least (each level halves them); got {size}. "
                             f"Use a size such as {valid_sizes(5, size)} (data.crop_size / data.image_size).")
        if depth is None and size >> self.depth > MAX_BOTTLENECK:
            raise ValueError(f"A U-Net on {size} px stops after {self.depth} levels at a {size >> self.depth}x"
                             f"{size >> self.depth} bottleneck ({size} = 2^{self.depth}·{size >> self.depth}): use a side with "
                             f"more factors of 2, such as {valid_sizes(5, size)} (data.crop_size / data.image_size), or "
                             f"set model.generator.depth={self.depth} to accept it.")
        check_unet_size(height, width, self.depth, f"the data ({height}x{width})")
        norm_layer(norm, 1)  # check the name
        bias = norm != "batch"  # the authors: a conv before BatchNorm needs no bias
        widths = [ngf * min(2**i, 8) for i in range(self.depth)]
        first_dropout = max(1, self.depth - 1 - dropout_blocks)
        self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
        for i, width_i in enumerate(widths):
            outer = in_channels if i == 0 else widths[i - 1]
            innermost = i == self.depth - 1
            down: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            down.append(nn.Conv2d(outer, width_i, 4, 2, 1, bias=bias))
            if 0 < i < self.depth - 1:
                down.append(norm_layer(norm, width_i))
            self.downs.append(nn.Sequential(*down))
            target = out_channels if i == 0 else outer
            up: list[nn.Module] = [nn.ReLU(), nn.ConvTranspose2d(width_i * (1 if innermost else 2), target, 4, 2, 1,
                                                                  bias=bias or i == 0)]
            up.append(nn.Tanh() if i == 0 else norm_layer(norm, target))
            if dropout > 0 and first_dropout <= i < self.depth - 1:
                up.append(nn.Dropout(dropout))
            self.ups.append(nn.Sequential(*up))
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        check_unet_size(x.shape[-2], x.shape[-1], self.depth, f"the input ({x.shape[-2]}x{x.shape[-1]})")
        skips = []
        for down in self.downs:  # (B, C_i, H / 2^(i+1), W / 2^(i+1))
            x = down(x)
            skips.append(x)
        y = self.ups[-1](skips[-1])
        for i in range(self.depth - 2, -1, -1):
            y = self.ups[i](torch.cat([skips[i], y], dim=1))  # the skip: level i's features beside the decoder's
        return y


class PatchDiscriminator(nn.Module):
    """D: (B, C, H, W) -> (B, 1, H', W') logits, one per overlapping patch (Isola et al. 2017, Section 3.2.2).

    Conv4x4 s2 (ndf) LeakyReLU(0.2); ``n_layers - 1`` more Conv4x4 s2 (width ×2 up to 8·ndf) norm LeakyReLU; one
    Conv4x4 s1 norm LeakyReLU; Conv4x4 s1 -> 1 channel, no sigmoid. ``n_layers=3`` is the paper's 70x70 PatchGAN
    (a 30x30 map on 256 px), 1 its 16x16, 0 a 1x1 PixelGAN (1x1 convs). `receptive_field` computes the size.
    pix2pix's conditional D reads the input and the output concatenated on channels: ``in_channels`` = both.

    Example:
        >>> d = PatchDiscriminator(6)
        >>> receptive_field(d), tuple(d(torch.zeros(1, 6, 256, 256)).shape)
        (70, (1, 1, 30, 30))
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        norm_layer(norm, 1)
        bias = norm != "batch"
        if n_layers == 0:  # the authors' PixelDiscriminator
            layers = [nn.Conv2d(in_channels, ndf, 1), nn.LeakyReLU(0.2), nn.Conv2d(ndf, 2 * ndf, 1, bias=bias),
                      norm_layer(norm, 2 * ndf), nn.LeakyReLU(0.2), nn.Conv2d(2 * ndf, 1, 1, bias=bias)]
        else:
            layers = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
            width = ndf
            for n in range(1, n_layers + 1):
                wider = ndf * min(2**n, 8)
                stride = 2 if n < n_layers else 1
                layers += [nn.Conv2d(width, wider, 4, stride, 1, bias=bias), norm_layer(norm, wider), nn.LeakyReLU(0.2)]
                width = wider
            layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        self.n_layers = n_layers
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def receptive_field(module: nn.Module) -> int:
    """The side of the input window one output cell of a stack of convolutions sees: r = 1, then going back from
    the last layer, r ← (r − 1)·stride + kernel (pointwise layers leave it). 70 for the 3-layer PatchGAN."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    r = 1
    for conv in reversed(convs):
        k, s = conv.kernel_size[0], conv.stride[0]
        r = (r - 1) * s + k
    return r


def patch_count(size: int, n_layers: int) -> int:
    """Side of D's output map for a side-``size`` input (four-pixel kernels, padding 1)."""
    if n_layers == 0:
        return size
    for n in range(n_layers + 2):
        stride = 2 if n < n_layers else 1
        size = math.floor((size + 2 - 4) / stride) + 1
    return size
