"""The MNIST networks of InfoGAN (Chen et al. 2016, Appendix C, Table 1).

D / Q share: conv 64 4x4 s2 lReLU -> conv 128 4x4 s2 BN lReLU -> FC 1024 BN lReLU; D's output is
an FC on those 1024 features, Q's head (`lit_gans.networks.heads.QHead`) reads them too.
G: FC 1024 BN ReLU -> FC 7x7x128 BN ReLU -> up-conv 64 4x4 s2 BN ReLU -> up-conv 1 4x4 s2.
The output is Tanh (our data lives in [-1, 1]) where the paper's images were in [0, 1].
``pixel_range="unit"`` works as the authors' released code does (openai/InfoGAN): G's last layer
is a sigmoid (the mean of their Bernoulli output) and D reads images in [0, 1]; both convert at
the boundary, so the data, metrics and samples stay in [-1, 1].
"""

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lit_gans.networks.improved import MinibatchDiscrimination
from lit_gans.networks.layers import dcgan_init_


def _check_mnist_shape(shape: Sequence[int], role: str) -> tuple[int, int, int]:
    shape = tuple(shape)
    if len(shape) != 3 or shape[1:] != (28, 28):
        raise ValueError(f"The InfoGAN MNIST {role} is built for (C, 28, 28) images, the data has shape {shape}; "
                         f"use net/{role}@model.{role}=dcgan for other sizes.")
    return shape


PIXEL_RANGES = ("symmetric", "unit")


def _check_pixel_range(pixel_range: str) -> str:
    if pixel_range not in PIXEL_RANGES:
        raise ValueError(f"pixel_range must be one of {PIXEL_RANGES}, got {pixel_range!r}.")
    return pixel_range


class InfoGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, out_shape: Sequence[int], pixel_range: str = "symmetric") -> None:
        super().__init__()
        self.latent_dim, self.out_shape = latent_dim, _check_mnist_shape(out_shape, "generator")
        self.pixel_range = _check_pixel_range(pixel_range)
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, 1024, bias=False), nn.BatchNorm1d(1024), nn.ReLU(True),
            nn.Linear(1024, 128 * 7 * 7, bias=False), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(True),
        )
        self.conv = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.ConvTranspose2d(64, self.out_shape[0], 4, 2, 1),
        )
        dcgan_init_(self)

    def forward(self, z: Tensor) -> Tensor:
        logits = self.conv(self.fc(z).view(-1, 128, 7, 7))  # (B, C, 28, 28)
        if self.pixel_range == "unit":  # Bernoulli mean p in [0, 1], shown as 2p − 1
            return 2 * torch.sigmoid(logits) - 1
        return torch.tanh(logits)


class InfoGANDiscriminator(nn.Module):
    """image (B, C, 28, 28) -> score (B,); ``features_and_score`` also returns the shared
    1024-d layer that Q reads.

    ``minibatch_kernels`` B > 0 puts minibatch discrimination (Salimans et al. 2016, Section 3.2; B
    kernels of ``minibatch_kernel_dim``) between those features and D's score, not in Q's path: D
    then sees how often each kind of sample occurs in a batch (a code that draws a digit twice
    as often as the data has it), which a per-sample D cannot."""

    feature_dim = 1024

    def __init__(self, in_shape: Sequence[int], leaky_slope: float = 0.1, pixel_range: str = "symmetric",
                 minibatch_kernels: int = 0, minibatch_kernel_dim: int = 5) -> None:
        super().__init__()
        self.in_shape = _check_mnist_shape(in_shape, "discriminator")
        self.pixel_range = _check_pixel_range(pixel_range)
        slope = leaky_slope  # 0.1 in the paper's Table 1; the authors' released code uses 0.01
        self.body = nn.Sequential(
            nn.Conv2d(self.in_shape[0], 64, 4, 2, 1), nn.LeakyReLU(slope, True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(slope, True),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1024, bias=False), nn.BatchNorm1d(1024), nn.LeakyReLU(slope, True),
        )
        if minibatch_kernels > 0:
            self.head = nn.Sequential(MinibatchDiscrimination(1024, minibatch_kernels, minibatch_kernel_dim),
                                      nn.Linear(1024 + minibatch_kernels, 1))
        else:
            self.head = nn.Linear(1024, 1)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.features_and_score(x)[1]

    def features_and_score(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.pixel_range == "unit":  # data in [-1, 1] -> the [0, 1] the authors' D reads
            x = (x + 1) / 2
        features = self.body(x)
        return features, self.head(features).squeeze(1)
