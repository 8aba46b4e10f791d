"""The VAE-GAN's convolutional encoder, decoder and discriminator (Larsen et al. 2016, Appendix / Table 1, CelebA
64 px; the authors' code, ``architectures.img64x64`` / ``img32x32``), for 28, 32 and 64 px images.

All convolutions are 5×5; "↓" / "↑" is stride 2. The paper's 64 px networks:
    Enc: 64 conv↓ BN ReLU, 128 conv↓ BN ReLU, 256 conv↓ BN ReLU, FC 2048 BN ReLU, then FC μ and FC log σ².
    Dec: FC 8·8·256 BN ReLU, 256 conv↑ BN ReLU, 128 conv↑ BN ReLU, 32 conv↑ BN ReLU, C conv, tanh.
    Dis: 32 conv ReLU, 128 conv↓ BN ReLU, 256 conv↓ BN ReLU, 256 conv↓ BN ReLU, FC 512 BN ReLU, FC 1 (sigmoid).
The same layers serve every size: three ↓ stages take 28 → 14 → 7 → 4 (32 → 4, 64 → 8). The decoder starts from
side/8 (32, 64 px: three ↑ stages, as the paper); 28 px starts from 7·7 and its third block (32 filters) keeps
stride 1 (7 → 14 → 28 → 28). The authors' code uses FC 1024 in the encoder and 192 filters in its 32 px decoder;
we keep the paper's widths. Dis_l, the layer whose output measures reconstructions, is the fourth convolution
(before its BN), as ``recon_depth=9`` in the authors' code: ``features(x)``.
"""

from collections.abc import Sequence

from torch import Tensor, nn

SIZES = (28, 32, 64)


def _side(shape: Sequence[int], role: str) -> int:
    shape = tuple(shape)
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in SIZES:
        raise ValueError(f"The VAE-GAN {role} supports square images of size {list(SIZES)} (shape (C, H, W)); the data has "
                         f"shape {shape}. Set data.image_size to one of {list(SIZES)}, or give model.{role} another network.")
    return shape[1]


def _conv(c_in: int, c_out: int, stride: int = 2, bn: bool = True) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 5, stride, 2, bias=not bn), *([nn.BatchNorm2d(c_out)] if bn else []), nn.ReLU(True)]


def _up(c_in: int, c_out: int, stride: int = 2) -> list[nn.Module]:
    # k5 s2 p2 with output_padding 1 doubles the side exactly (the code's 'same' backward convolution)
    conv = nn.ConvTranspose2d(c_in, c_out, 5, stride, 2, output_padding=stride - 1, bias=False)
    return [conv, nn.BatchNorm2d(c_out), nn.ReLU(True)]


class VAEGANEncoder(nn.Module):
    """x (B, C, H, W) -> (B, out_features): the VAE-GAN sets out_features = 2·latent_dim, [μ, log σ²] of q(z|x);
    ``channels`` of the three ↓ convs, ``hidden`` the FC layer's width."""

    def __init__(self, in_shape: Sequence[int], out_features: int, channels: Sequence[int] = (64, 128, 256),
                 hidden: int = 2048) -> None:
        super().__init__()
        side = _side(in_shape, "encoder")
        layers: list[nn.Module] = []
        c = in_shape[0]
        for out in channels:
            layers += _conv(c, out)
            c, side = out, (side + 1) // 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * side * side, hidden, bias=False),
                                 nn.BatchNorm1d(hidden), nn.ReLU(True), nn.Linear(hidden, out_features))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, out_features)


class VAEGANDecoder(nn.Module):
    """z (B, latent_dim) -> image (B, C, H, W) in [-1, 1] (tanh); the model's ``generator``."""

    def __init__(self, latent_dim: int, out_shape: Sequence[int], channels: Sequence[int] = (256, 128, 32),
                 start_channels: int = 256) -> None:
        super().__init__()
        side = _side(out_shape, "generator")
        self.latent_dim, self.out_shape = latent_dim, tuple(out_shape)
        strides = (2, 2, 1) if side == 28 else (2, 2, 2)
        self.start = (start_channels, side // 4 if side == 28 else side // 8)
        s = self.start[1]
        layers: list[nn.Module] = []
        c = start_channels
        for out, stride in zip(channels, strides, strict=True):
            layers += _up(c, out, stride)
            c = out
        self.fc = nn.Sequential(nn.Linear(latent_dim, start_channels * s * s, bias=False),
                                nn.BatchNorm1d(start_channels * s * s), nn.ReLU(True))
        self.net = nn.Sequential(*layers, nn.Conv2d(c, self.out_shape[0], 5, 1, 2), nn.Tanh())

    def forward(self, z: Tensor) -> Tensor:
        c, s = self.start
        return self.net(self.fc(z.flatten(1)).view(-1, c, s, s))  # (B, C, H, W)


class VAEGANDiscriminator(nn.Module):
    """x (B, C, H, W) -> logit (B,); ``features(x)``: Dis_l(x), the fourth convolution's output (B, F) before its BN."""

    def __init__(self, in_shape: Sequence[int], channels: Sequence[int] = (32, 128, 256, 256), hidden: int = 512) -> None:
        super().__init__()
        side = _side(in_shape, "discriminator")
        self.in_shape = tuple(in_shape)
        first, *rest = channels
        body: list[nn.Module] = [nn.Conv2d(in_shape[0], first, 5, 1, 2), nn.ReLU(True)]
        c = first
        for out in rest[:-1]:
            body += _conv(c, out)
            c, side = out, (side + 1) // 2
        self.body = nn.Sequential(*body)
        self.feature_conv = nn.Conv2d(c, rest[-1], 5, 2, 2, bias=False)  # Dis_l
        side = (side + 1) // 2
        self.feature_dim = rest[-1] * side * side
        self.head = nn.Sequential(nn.BatchNorm2d(rest[-1]), nn.ReLU(True), nn.Flatten(),
                                  nn.Linear(self.feature_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(True),
                                  nn.Linear(hidden, 1))

    def features(self, x: Tensor) -> Tensor:
        """Dis_l(x) (B, feature_dim)."""
        return self.feature_conv(self.body(x)).flatten(1)

    def features_and_score(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Dis_l(x) (B, feature_dim) and the logit (B,) from one pass."""
        h = self.feature_conv(self.body(x))
        return h.flatten(1), self.head(h).squeeze(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.features_and_score(x)[1]
