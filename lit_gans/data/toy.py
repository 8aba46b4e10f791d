"""Low-dimensional Gaussian mixtures for measuring mode collapse, sampled from a seed."""

import math
from collections.abc import Sequence

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from lit_gans.data.batched import Batch, BatchedTensorDataset, batched_loader


class GaussianMixture:
    """Mixture of isotropic Gaussians.

    Component k has mean `centers[k]` (K, D), standard deviation `stds[k]` and weight `weights[k]`
    (normalised to sum to 1).
    """

    def __init__(self, centers: Tensor, stds: Tensor, weights: Tensor) -> None:
        k = len(centers)
        if centers.dim() != 2 or stds.shape != (k,) or weights.shape != (k,):
            raise ValueError("need centers (K, D), stds (K,) and weights (K,)")
        if (stds <= 0).any() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError("stds must be positive and weights non-negative with a positive sum")
        self.centers = centers.to(torch.float32)
        self.stds = stds.to(torch.float32)
        self.weights = (weights / weights.sum()).to(torch.float32)

    @property
    def num_components(self) -> int:
        return len(self.centers)

    @property
    def dim(self) -> int:
        return self.centers.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Return `n` points (n, D) float32 and the component each was drawn from (n,) int64."""
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator)
        return self.centers[component] + self.stds[component, None] * noise, component

    def mean(self) -> Tensor:
        """Analytic mean (D,)."""
        return self.weights @ self.centers

    def variance(self) -> Tensor:
        """Analytic per-dimension variance (D,): sum_k w_k (mu_k^2 + s_k^2) - mean^2."""
        second_moment = self.weights @ (self.centers**2 + self.stds[:, None] ** 2)
        return second_moment - self.mean() ** 2


class Ring(GaussianMixture):
    """Equal-weight Gaussians evenly spaced on a circle.

    Defaults are the 2-D ring of Metz et al. 2016, "Unrolled Generative Adversarial Networks":
    8 modes on a circle of radius 2, each with standard deviation 0.02.
    """

    def __init__(self, num_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> None:
        angles = torch.arange(num_modes, dtype=torch.float64) * (2 * math.pi / num_modes)
        centers = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
        super().__init__(centers, torch.full((num_modes,), std), torch.ones(num_modes))


class Grid(GaussianMixture):
    """Equal-weight Gaussians on a square grid.

    Defaults are the 2-D grid of Srivastava et al. 2017, "VEEGAN" (also used by Lin et al. 2018,
    "PacGAN"): 25 modes at {-4, -2, 0, 2, 4}^2, each with standard deviation 0.05.
    """

    def __init__(self, side: int = 5, spacing: float = 2.0, std: float = 0.05) -> None:
        axis = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
        centers = torch.cartesian_prod(axis, axis)
        super().__init__(centers, torch.full((side * side,), std), torch.ones(side * side))


class GaussianMixture1D(GaussianMixture):
    """A 1-D mixture with the given means, standard deviations and (unnormalised) weights."""

    def __init__(
        self,
        means: Sequence[float] = (-2.0, 2.0),
        stds: Sequence[float] = (0.5, 0.5),
        weights: Sequence[float] = (0.5, 0.5),
    ) -> None:
        # float() per item so that Hydra's ListConfig (not a list) is accepted too.
        super().__init__(
            torch.tensor([[float(m)] for m in means]),
            torch.tensor([float(s) for s in stds]),
            torch.tensor([float(w) for w in weights]),
        )


class ParallelLine:
    """P_θ of the WGAN paper's Example 1 (Arjovsky et al. 2017, "learning parallel lines"): the law of
    (θ, Z) ∈ R², Z ~ U[0, 1], i.e. uniform on the vertical unit segment at x = θ. P_0 is the real data.

    Not a Gaussian mixture, but it serves `ToyDataModule` the same way (``dim``, ``num_components``,
    ``sample``); it has no mixture centres, so mode-coverage metrics do not apply.
    """

    dim = 2
    num_components = 1

    def __init__(self, theta: float = 0.0) -> None:
        self.theta = float(theta)

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Return `n` points (n, 2) float32 and their component (n,) int64 (all 0)."""
        z = torch.rand(n, generator=generator)  # (n,) ~ U[0, 1)
        points = torch.stack([torch.full_like(z, self.theta), z], dim=1)  # (n, 2)
        return points, torch.zeros(n, dtype=torch.int64)


TOY_DISTRIBUTIONS: dict[str, type[GaussianMixture]] = {
    "ring8": Ring,
    "grid25": Grid,
    "mog1d": GaussianMixture1D,
}


class ToyDataModule(L.LightningDataModule):
    """A fixed sample of a toy mixture served as `(points (B, D) float32, components (B,) int64)`.

    `distribution` is a name from `TOY_DISTRIBUTIONS` (default settings) or a `GaussianMixture`.
    The `num_samples` points are drawn once in `setup` from `torch.Generator().manual_seed(seed)`,
    so the same seed always gives the same data set; the `num_val_samples` held-out points of the
    validation loader come from `seed + 1`.
    """

    def __init__(
        self,
        distribution: str | GaussianMixture,
        num_samples: int = 100_000,
        batch_size: int = 512,
        seed: int = 0,
        num_workers: int = 0,
        drop_last: bool = True,
        num_val_samples: int = 10_000,
    ) -> None:
        super().__init__()
        if isinstance(distribution, str):
            if distribution not in TOY_DISTRIBUTIONS:
                choices = sorted(TOY_DISTRIBUTIONS)
                raise ValueError(f"unknown toy distribution {distribution!r}; choices: {choices}")
            distribution = TOY_DISTRIBUTIONS[distribution]()
        self.distribution = distribution
        self.num_samples, self.batch_size, self.seed = num_samples, batch_size, seed
        self.num_workers, self.drop_last = num_workers, drop_last
        self.shape: tuple[int] = (distribution.dim,)
        self.num_classes: int = distribution.num_components
        self.num_val_samples = num_val_samples
        self.train_set: BatchedTensorDataset | None = None
        self.val_set: BatchedTensorDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        """Draw the data set (once; later calls keep it)."""
        if self.train_set is None:
            generator = torch.Generator().manual_seed(self.seed)
            points, components = self.distribution.sample(self.num_samples, generator)
            self.train_set = BatchedTensorDataset(points, components)
            points, components = self.distribution.sample(self.num_val_samples, torch.Generator().manual_seed(self.seed + 1))
            self.val_set = BatchedTensorDataset(points, components)

    def train_dataloader(self) -> DataLoader[Batch]:
        if self.train_set is None:
            raise RuntimeError("call setup() before train_dataloader()")
        return batched_loader(
            self.train_set,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=self.drop_last,
            num_workers=self.num_workers,
        )

    def val_dataloader(self) -> DataLoader[Batch]:
        if self.val_set is None:
            raise RuntimeError("call setup() before val_dataloader()")
        return batched_loader(self.val_set, batch_size=self.batch_size, shuffle=False, drop_last=False,
                              num_workers=self.num_workers)


class MixturePairsDataModule(L.LightningDataModule):
    """Two 2-D Gaussian mixtures as unpaired domains (DiscoGAN's toy, Kim et al. 2017, Section 4.1 and Figure 3):
    `lit_gans.data.Unpaired` batches of points (B, 2) from A and from B, drawn independently, with the component of
    each kept as its label (for counting which B modes the A modes map to; the models never read them).

    Defaults (the paper's 5 and 10 modes; the layout ours): A, 5 modes on a line, x in {-2, -1, 0, 1, 2}, y = 0;
    B, 10 modes on a circle of radius 2; both with std 0.1. ``num_samples`` points per domain (train, from
    ``seed``; validation ``num_val_samples`` from ``seed + 1``).
    """

    batch_kind = "unpaired"
    domains = ("points", "points")  # not images: no image metrics (FID, digit preservation)

    def __init__(self, a: GaussianMixture | None = None, b: GaussianMixture | None = None, num_samples: int = 20_000,
                 num_val_samples: int = 2_000, batch_size: int = 256, seed: int = 0) -> None:
        super().__init__()
        self.a = a if a is not None else line_mixture(5)
        self.b = b if b is not None else Ring(num_modes=10, radius=2.0, std=0.1)
        if self.a.dim != self.b.dim:
            raise ValueError(f"the domains must have one dimension, got {self.a.dim} and {self.b.dim}")
        self.num_samples, self.num_val_samples, self.batch_size, self.seed = num_samples, num_val_samples, batch_size, seed
        self.shape: tuple[int] = (self.a.dim,)

    def _draw(self, n: int, seed: int) -> list[tuple[Tensor, Tensor, Tensor, Tensor]]:
        generator = torch.Generator().manual_seed(seed)
        (a, la), (b, lb) = self.a.sample(n, generator), self.b.sample(n, generator)
        return list(zip(a, b, la, lb))

    def train_dataloader(self) -> DataLoader:
        from lit_gans.data.unpaired import collate_unpaired

        return DataLoader(self._draw(self.num_samples, self.seed), batch_size=self.batch_size, shuffle=True,
                          drop_last=True, collate_fn=collate_unpaired)

    def val_dataloader(self) -> DataLoader:
        from lit_gans.data.unpaired import collate_unpaired

        return DataLoader(self._draw(self.num_val_samples, self.seed + 1), batch_size=self.batch_size,
                          collate_fn=collate_unpaired)


def line_mixture(num_modes: int = 5, spacing: float = 1.0, std: float = 0.1) -> GaussianMixture:
    """``num_modes`` equal Gaussians on the x axis, centred on 0, ``spacing`` apart (DiscoGAN toy's domain A)."""
    x = (torch.arange(num_modes, dtype=torch.float32) - (num_modes - 1) / 2) * spacing
    centers = torch.stack([x, torch.zeros_like(x)], dim=1)
    return GaussianMixture(centers, torch.full((num_modes,), std), torch.ones(num_modes))
