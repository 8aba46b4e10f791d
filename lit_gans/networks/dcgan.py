"""DCGAN networks (Radford et al. 2016) for 28x28, 32x32 and 64x64 images.

The architecture guidelines: strided (transposed) convolutions instead of pooling,
BatchNorm in G and D (except G's output and D's input layer), ReLU in G with a Tanh
output, LeakyReLU(0.2) in D, no fully connected hidden layers. The number of up/down
sampling stages follows the image size: 4x4 -> 64 takes four, 4x4 -> 32 three, 7x7 -> 28 two.
"""

from collections.abc import Sequence

from torch import Tensor, nn

from lit_gans.networks.improved import MinibatchDiscrimination
from lit_gans.networks.layers import dcgan_init_

# image size -> (spatial size of the first feature map, number of x2 stages)
STAGES = {28: (7, 2), 32: (4, 3), 64: (4, 4)}
NORMS = ("batch", "layer", "none")


def _stages(shape: Sequence[int], role: str) -> tuple[int, int]:
    shape = tuple(shape)
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in STAGES:
        raise ValueError(
            f"The DCGAN {role} supports square images of size {sorted(STAGES)} (shape (C, H, W)); "
            f"the data has shape {shape}. Set data.image_size to one of {sorted(STAGES)}, or pick "
            f"another network, e.g. net/{role}@model.{role}=mlp (vectors and toy data use mlp/toy)."
        )
    return STAGES[shape[1]]


def norm2d(kind: str, channels: int) -> list[nn.Module]:
    if kind not in NORMS:
        raise ValueError(f"Unknown norm {kind!r}; choose one of {NORMS}.")
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    if kind == "layer":  # LayerNorm over (C, H, W) with per-channel affine, as WGAN-GP allows
        return [nn.GroupNorm(1, channels)]
    return []


class DCGANGenerator(nn.Module):
    """z (B, latent_dim) -> image (B, C, H, W) in [-1, 1].

    The hidden layers halve the number of filters at every x2 stage, down to ``base_channels``;
    ``constant_width=True`` gives every hidden layer ``base_channels`` filters instead (the WGAN paper's
    Figure 6 generator, with ``batch_norm=False``: at 64 px and 64 filters, about 12x fewer parameters).
    """

    def __init__(
        self,
        latent_dim: int,
        out_shape: Sequence[int],
        base_channels: int = 64,
        batch_norm: bool = True,
        constant_width: bool = False,
    ) -> None:
        super().__init__()
        start, n_up = _stages(out_shape, "generator")
        self.latent_dim, self.out_shape = latent_dim, tuple(out_shape)
        width = base_channels if constant_width else base_channels * 2 ** (n_up - 1)
        norm = "batch" if batch_norm else "none"
        layers: list[nn.Module] = [  # project z to (width, start, start)
            nn.ConvTranspose2d(latent_dim, width, start, 1, 0, bias=not batch_norm),
            *norm2d(norm, width),
            nn.ReLU(True),
        ]
        for _ in range(n_up - 1):
            out = width if constant_width else width // 2
            layers += [
                nn.ConvTranspose2d(width, out, 4, 2, 1, bias=not batch_norm),
                *norm2d(norm, out),
                nn.ReLU(True),
            ]
            width = out
        layers += [nn.ConvTranspose2d(width, self.out_shape[0], 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))  # (B, C, H, W)


class DCGANDiscriminator(nn.Module):
    """image (B, C, H, W) -> score (B,); ``norm`` is "batch" (DCGAN), "layer" or "none"
    (WGAN-GP's critic must not use BatchNorm). With ``out_features`` K > 1 the last conv has
    K channels and the output is (B, K) (the Cramér GAN critic h). ``minibatch_kernels`` B > 0 replaces
    the last conv by minibatch discrimination on the flattened features (Salimans et al. 2016, Section 3.2;
    B kernels of dimension ``minibatch_kernel_dim``, the paper's images: 100 x 5) and a Linear."""

    def __init__(
        self, in_shape: Sequence[int], base_channels: int = 64, norm: str = "batch", out_features: int = 1,
        minibatch_kernels: int = 0, minibatch_kernel_dim: int = 5,
    ) -> None:
        super().__init__()
        end, n_down = _stages(in_shape, "discriminator")
        self.in_shape, self.out_features = tuple(in_shape), out_features
        use_bias = norm == "none"
        layers: list[nn.Module] = [nn.Conv2d(self.in_shape[0], base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        width = base_channels
        for _ in range(n_down - 1):
            layers += [
                nn.Conv2d(width, width * 2, 4, 2, 1, bias=use_bias),
                *norm2d(norm, width * 2),
                nn.LeakyReLU(0.2, True),
            ]
            width *= 2
        self.feature_dim = width * end * end
        if minibatch_kernels > 0:  # (B, width, end, end) -> (B, feature_dim) -> [f, o(f)] -> (B, K)
            mbd = MinibatchDiscrimination(self.feature_dim, minibatch_kernels, minibatch_kernel_dim)
            head: list[nn.Module] = [nn.Flatten(), mbd, nn.Linear(mbd.out_features, out_features)]
        else:
            head = [nn.Conv2d(width, out_features, end, 1, 0)]  # (B, K, 1, 1)
        self.net = nn.Sequential(*layers, *head)  # flat, so the default keeps its state_dict keys
        self._head = len(head)
        dcgan_init_(self)

    def _out(self, y: Tensor) -> Tensor:
        return y.flatten() if self.out_features == 1 else y.flatten(1)  # (B,) or (B, K)

    def forward(self, x: Tensor) -> Tensor:
        return self._out(self.net(x))

    def features_and_score(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The last feature map flattened (B, feature_dim) — what InfoGAN's Q head and AC-GAN's
        classifier read — and the score (B,), from one pass."""
        h = self.net[: -self._head](x)
        return h.flatten(1), self._out(self.net[-self._head :](h))
