"""A Gaussian as a generator: x = μ + σ ⊙ z, z ~ N(0, I) (f-GAN, Nowozin et al. 2016, Section 4.1:
θ = (μ, σ) of a single Gaussian fitted to a mixture, so each divergence's best fit can be read off)."""

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn


class AffineGenerator(nn.Module):
    """z (B, D) -> μ + σ z (B, *out_shape) with D = prod(out_shape). σ is a free parameter, so it may
    turn negative during training: the model's standard deviation is |σ| (`std`)."""

    def __init__(self, latent_dim: int, out_shape: Sequence[int], mean: float = 0.0, std: float = 1.0) -> None:
        super().__init__()
        self.out_shape = tuple(out_shape)
        dim = math.prod(self.out_shape)
        if latent_dim != dim:
            raise ValueError(f"AffineGenerator maps z elementwise, so latent_dim ({latent_dim}) must equal the data "
                             f"dimension {dim}: set model.latent_dim={dim}.")
        self.mu = nn.Parameter(torch.full((dim,), float(mean)))
        self.sigma = nn.Parameter(torch.full((dim,), float(std)))

    @property
    def std(self) -> Tensor:
        return self.sigma.detach().abs()

    def forward(self, z: Tensor) -> Tensor:
        return (self.mu + self.sigma * z).view(-1, *self.out_shape)
