"""Label-conditioned wrappers around any generator / discriminator (they know nothing about training).

Mirza & Osindero 2014 feed the label to both players. The generator reads [z, embed(y)]. The
discriminator either reads [x, embed(y)] ("concat", the paper's MLP form, for flat inputs) or
adds a projection of its last features onto embed(y) to its score ("projection", Miyato &
Koyama 2018: score(x, y) = ψ(φ(x)) + <embed(y), φ(x)>), the usual way for convolutional nets.
"""

import torch
from torch import Tensor, nn

DISCRIMINATOR_MODES = ("concat", "projection")


class ConditionalGenerator(nn.Module):
    """G(z, y) = inner([z, embed(y)]); ``inner`` must take latent vectors of size d_z + embed_dim."""

    def __init__(self, inner: nn.Module, num_classes: int, embed_dim: int) -> None:
        super().__init__()
        self.inner, self.embed = inner, nn.Embedding(num_classes, embed_dim)

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return self.inner(_cat(z, self.embed(labels)))


class ConditionalDiscriminator(nn.Module):
    """D(x, y) -> score (B,). "concat": ``inner`` reads [flatten(x), embed(y)] (an MLP built for
    that width); "projection": ``inner`` reads x and exposes ``features_and_score``."""

    def __init__(self, inner: nn.Module, num_classes: int, mode: str = "projection", embed_dim: int = 10) -> None:
        super().__init__()
        if mode not in DISCRIMINATOR_MODES:
            raise ValueError(f"conditioning must be one of {DISCRIMINATOR_MODES}, got {mode!r}.")
        if mode == "projection" and not hasattr(inner, "features_and_score"):
            raise ValueError(f"{type(inner).__name__} exposes no features to project; use conditioning=concat with an MLP.")
        self.inner, self.mode = inner, mode
        self.embed = nn.Embedding(num_classes, inner.feature_dim if mode == "projection" else embed_dim)
        if mode == "projection":
            # N(0, 1) rows over thousands of features would make <embed(y), φ(x)> dwarf the score
            # and hand D an easy win; start as the unconditional D and let the label term grow.
            nn.init.zeros_(self.embed.weight)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        if self.mode == "concat":
            return self.inner(_cat(x.flatten(1), self.embed(labels)))
        features, score = self.inner.features_and_score(x)
        return score + (self.embed(labels) * features).sum(dim=1)


def _cat(a: Tensor, b: Tensor) -> Tensor:
    return torch.cat([a, b.to(a.dtype)], dim=1)

