"""LAPGAN's networks (Denton et al. 2015): a generator and a discriminator per pyramid level, and the chain that
samples the pyramid from the coarsest level. They know nothing about training.

Level k ≥ 1 (Section 4, "Subsequent scales", and the authors' ``train_cifar_coarse_to_fine.lua``):
  G_k(z_k, l_k) -> h̃_k: the noise z_k is one extra image plane beside the low-pass image l_k ("presented as a 4th
    colour plane"); three 'same' convolutions 7x7, 7x7, 5x5 with ReLUs between and a linear output.
  D_k(h, l_k) -> logit: l_k is added to h ("explicitly added to h_k or h̃_k before the first convolution layer"),
    then conv 5x5, ReLU, conv 5x5 stride 2, ReLU, dropout, linear.
Class conditioning (CC-LAPGAN, ``train_cifar_coarse_to_fine_classcond.lua``): the one-hot class goes through a
linear layer and a ReLU to one H x W plane, concatenated with the input planes of G_k and D_k.
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gans.pyramid import check_sizes, upsample

COMBINE = ("add", "concat")


class ClassPlane(nn.Module):
    """labels (B,) -> (B, 1, size, size): ReLU(Linear(one_hot(y))) reshaped to a plane (the authors' CC-LAPGAN)."""

    def __init__(self, num_classes: int, size: int) -> None:
        super().__init__()
        self.num_classes, self.size = num_classes, size
        self.linear = nn.Linear(num_classes, size * size)

    def forward(self, labels: Tensor) -> Tensor:
        one_hot = F.one_hot(labels, self.num_classes).to(self.linear.weight.dtype)
        return F.relu(self.linear(one_hot)).view(-1, 1, self.size, self.size)


def _check_labels(num_classes: int, labels: Tensor | None, owner: str) -> None:
    if (labels is None) != (num_classes == 0):
        raise ValueError(f"{owner} was built with num_classes={num_classes}: pass labels exactly when num_classes > 0.")


class LaplacianLevelGenerator(nn.Module):
    """G_k(z, l[, y]) -> h̃ (B, C, size, size), the band-pass residual of level k.

    Args:
        channels: C of the images. size: the level's side. hidden: feature maps of the hidden layers (authors: 128).
        kernels: the kernel size of each convolution (authors: 7, 7, 5; padding keeps the size).
        num_classes: > 0 for CC-LAPGAN (a class plane joins the input).
    """

    def __init__(self, channels: int, size: int, hidden: int = 128, kernels: Sequence[int] = (7, 7, 5),
                 num_classes: int = 0) -> None:
        super().__init__()
        if any(k % 2 == 0 for k in kernels) or len(kernels) < 1:
            raise ValueError(f"kernels must be odd sizes ('same' padding), got {list(kernels)}.")
        self.channels, self.size, self.num_classes = channels, size, num_classes
        self.class_plane = ClassPlane(num_classes, size) if num_classes else None
        widths = [1 + (1 if num_classes else 0) + channels] + [hidden] * (len(kernels) - 1) + [channels]
        layers: list[nn.Module] = []
        for i, k in enumerate(kernels):
            layers.append(nn.Conv2d(widths[i], widths[i + 1], k, padding=k // 2))
            if i < len(kernels) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    @property
    def noise_dim(self) -> int:
        """Entries of z this level reads: one plane."""
        return self.size * self.size

    def forward(self, z: Tensor, low: Tensor, labels: Tensor | None = None) -> Tensor:
        _check_labels(self.num_classes, labels, type(self).__name__)
        planes = [z.reshape(-1, 1, self.size, self.size)]  # (B, 1, H, W)
        if self.class_plane is not None:
            planes.append(self.class_plane(labels))
        return self.net(torch.cat([*planes, low], dim=1))  # (B, C, H, W)


class LaplacianLevelDiscriminator(nn.Module):
    """D_k(h, l[, y]) -> logit (B,): is h a real band-pass residual of the image whose low-pass part is l?

    Args:
        channels, size: as the generator. hidden: feature maps (authors: 128). dropout: before the linear layer
        (authors: 0.5). combine: "add" feeds h + l (the paper and the authors' code), "concat" feeds [h, l] as
        2C planes. num_classes: > 0 for CC-LAPGAN.
    """

    def __init__(self, channels: int, size: int, hidden: int = 128, dropout: float = 0.5, combine: str = "add",
                 num_classes: int = 0) -> None:
        super().__init__()
        if combine not in COMBINE:
            raise ValueError(f"combine must be one of {COMBINE}, got {combine!r}.")
        out = ((size - 4) - 5) // 2 + 1  # conv 5x5 (valid), then conv 5x5 stride 2 (valid)
        if out < 1:
            raise ValueError(f"LaplacianLevelDiscriminator needs levels of at least 9x9 pixels, got {size}.")
        self.size, self.combine, self.num_classes = size, combine, num_classes
        self.class_plane = ClassPlane(num_classes, size) if num_classes else None
        width = channels * (2 if combine == "concat" else 1) + (1 if num_classes else 0)
        self.features = nn.Sequential(nn.Conv2d(width, hidden, 5), nn.ReLU(), nn.Conv2d(hidden, hidden, 5, stride=2),
                                      nn.ReLU(), nn.Flatten(), nn.Dropout(dropout))
        self.head = nn.Linear(hidden * out * out, 1)

    def forward(self, h: Tensor, low: Tensor, labels: Tensor | None = None) -> Tensor:
        _check_labels(self.num_classes, labels, type(self).__name__)
        x = h + low if self.combine == "add" else torch.cat([h, low], dim=1)
        if self.class_plane is not None:
            x = torch.cat([x, self.class_plane(labels)], dim=1)
        return self.head(self.features(x)).squeeze(1)


class OneHotConditioned(nn.Module):
    """inner([flatten(x), one_hot(y)]) (the coarsest level's MLPs in CC-LAPGAN); with num_classes = 0, inner(x)."""

    def __init__(self, inner: nn.Module, num_classes: int = 0) -> None:
        super().__init__()
        self.inner, self.num_classes = inner, num_classes

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        _check_labels(self.num_classes, labels, "the coarsest level's network")
        if not self.num_classes:
            return self.inner(x)
        return self.inner(torch.cat([x.flatten(1), F.one_hot(labels, self.num_classes).to(x.dtype)], dim=1))


class LaplacianPyramidGenerator(nn.Module):
    """The sampling chain of LAPGAN (Section 3): x_0 = G_0(z_0); x_k = u(x_{k-1}) + G_k(z_k, u(x_{k-1})).

    One flat z (B, latent_dim) holds every level's noise, [z_0 (coarse_latent_dim) | z_1 plane | ... | z_K plane],
    so G is one deterministic function of z: seeded draws, fixed sample-grid latents, interpolation and exports
    work as for every generator of the collection.

    Args:
        coarse: G_0, z_0 (B, coarse_latent_dim) [, y] -> (B, C, sizes[0], sizes[0]).
        levels: G_1..G_K (`LaplacianLevelGenerator`), one per finer size.
        sizes: the pyramid's sides from the coarsest, e.g. (7, 14, 28).
        coarse_latent_dim: the size of z_0.
    """

    def __init__(self, coarse: nn.Module, levels: Sequence[nn.Module], sizes: Sequence[int], coarse_latent_dim: int) -> None:
        super().__init__()
        check_sizes(sizes)
        if len(levels) != len(sizes) - 1:
            raise ValueError(f"{len(sizes)} pyramid sizes need {len(sizes) - 1} level generators, got {len(levels)}.")
        self.coarse, self.levels = coarse, nn.ModuleList(levels)
        self.sizes, self.coarse_latent_dim = tuple(sizes), coarse_latent_dim

    @property
    def latent_dim(self) -> int:
        return self.coarse_latent_dim + sum(s * s for s in self.sizes[1:])

    def split_latent(self, z: Tensor) -> list[Tensor]:
        """[z_0 (B, coarse_latent_dim), z_1 (B, s_1²), ..., z_K (B, s_K²)]."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"LAPGAN's z is (B, {self.latent_dim}) = z_0 ({self.coarse_latent_dim}) + one noise plane per "
                             f"finer level {[s * s for s in self.sizes[1:]]}, got {tuple(z.shape)}.")
        return list(z.split([self.coarse_latent_dim] + [s * s for s in self.sizes[1:]], dim=1))

    def pyramid(self, z: Tensor, labels: Tensor | None = None) -> tuple[list[Tensor], list[Tensor]]:
        """Every level of the chain: ([x_0, ..., x_K] the images, [h̃_1, ..., h̃_K] the generated residuals)."""
        noise = self.split_latent(z)
        images, residuals = [self.coarse(noise[0], labels)], []
        for level, z_k, size in zip(self.levels, noise[1:], self.sizes[1:]):
            low = upsample(images[-1], size)
            residuals.append(level(z_k, low, labels))
            images.append(low + residuals[-1])
        return images, residuals

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.pyramid(z, labels)[0][-1]
