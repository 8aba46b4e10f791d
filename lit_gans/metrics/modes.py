"""Mode coverage on Gaussian-mixture toy data (ring8, grid25): the numbers of VEEGAN Table 1
and PacGAN Table 1.

Each generated sample is assigned to its nearest mixture centre. It is *high quality* when it
lies within ``n_std`` standard deviations of that centre (three in both papers). A mode is
*covered* when at least ``min_count`` high-quality samples fall in it: VEEGAN counts any
(``min_count=1``); PacGAN counts a mode as lost with fewer than 20 of 2,500 samples
(``min_count=20`` with 2,500 samples).
"""

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric


@dataclass(frozen=True)
class ModeCoverage:
    modes_covered: int
    high_quality_fraction: float  # share of samples within n_std of their nearest centre
    reverse_kl: float  # KL(q || p) of the high-quality mode histogram q vs the mixture weights p
    counts: Tensor  # (K,) high-quality samples per mode

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {
            f"{prefix}modes_covered": float(self.modes_covered),
            f"{prefix}high_quality_pct": 100.0 * self.high_quality_fraction,
            f"{prefix}reverse_kl": self.reverse_kl,
        }


def mode_coverage(
    samples: Tensor,
    centers: Tensor,
    stds: Tensor,
    weights: Tensor | None = None,
    n_std: float = 3.0,
    min_count: int = 1,
) -> ModeCoverage:
    """Modes covered, % high-quality samples and reverse KL of generated ``samples`` (N, D)
    against a mixture with ``centers`` (K, D), isotropic ``stds`` (K,) and ``weights`` (K,)
    (uniform when omitted).

    The reverse KL sums over modes that received samples (0·log 0 = 0); a model that puts every
    high-quality sample in one of K equal modes scores log K. With no high-quality sample at all
    it is +inf.

    Example:
        >>> c = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
        >>> r = mode_coverage(torch.tensor([[0.1, 0.0], [0.0, 0.2], [5.0, 5.0]]), c, torch.ones(2))
        >>> r.modes_covered, round(r.high_quality_fraction, 3), round(r.reverse_kl, 4)
        (1, 0.667, 0.6931)
    """
    samples = samples.double()
    nearest, high_quality = assign_modes(samples, centers, stds, n_std)
    counts = torch.bincount(nearest[high_quality], minlength=len(centers))
    return coverage_from_counts(counts, int(high_quality.sum()), len(samples), weights, min_count)


def assign_modes(samples: Tensor, centers: Tensor, stds: Tensor, n_std: float = 3.0) -> tuple[Tensor, Tensor]:
    """Nearest centre of each sample (N,) and whether it lies within ``n_std`` of its std (N,)."""
    samples, centers, stds = samples.double(), centers.double().to(samples.device), stds.double().to(samples.device)
    nearest_distance, nearest = torch.cdist(samples, centers).min(dim=1)
    return nearest, nearest_distance <= n_std * stds[nearest]


def coverage_from_counts(
    counts: Tensor, n_high_quality: int, n_samples: int, weights: Tensor | None = None, min_count: int = 1
) -> ModeCoverage:
    """`ModeCoverage` from per-mode high-quality counts (K,): also what the DDP-synced metric uses."""
    counts = counts.cpu()
    k = len(counts)
    p = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else weights.double().cpu() / weights.sum()
    if n_high_quality == 0:
        reverse_kl = float("inf")
    else:
        q = counts.double() / n_high_quality
        seen = q > 0
        reverse_kl = float((q[seen] * (q[seen] / p[seen]).log()).sum())
    return ModeCoverage(
        modes_covered=int((counts >= min_count).sum()),
        high_quality_fraction=n_high_quality / n_samples if n_samples else 0.0,
        reverse_kl=reverse_kl,
        counts=counts,
    )


class MixtureModes(Metric):
    """`mode_coverage` as a torchmetrics metric: per-mode counts summed across DDP processes.
    ``update(samples)`` takes generated points (N, D); ``compute()`` returns `ModeCoverage.as_dict`."""

    full_state_update = False

    def __init__(self, centers: Tensor, stds: Tensor, weights: Tensor | None = None, n_std: float = 3.0,
                 min_count: int = 1) -> None:
        super().__init__()
        self.centers, self.stds, self.weights = centers.double(), stds.double(), weights
        self.n_std, self.min_count = n_std, min_count
        self.add_state("counts", torch.zeros(len(centers), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("n_high_quality", torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("n_samples", torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")

    def update(self, samples: Tensor) -> None:
        nearest, high_quality = assign_modes(samples, self.centers, self.stds, self.n_std)
        self.counts += torch.bincount(nearest[high_quality], minlength=len(self.centers))
        self.n_high_quality += high_quality.sum()
        self.n_samples += len(samples)

    def compute(self) -> dict[str, float]:
        coverage = coverage_from_counts(self.counts, int(self.n_high_quality), int(self.n_samples), self.weights,
                                        self.min_count)
        return coverage.as_dict()


def mode_mapping(source_modes: Tensor, translated: Tensor, centers: Tensor, stds: Tensor, n_source: int,
                 n_std: float = 3.0, min_fraction: float = 0.05) -> dict[str, Any]:
    """Which target modes a translation sends each source mode to (DiscoGAN's toy, Kim et al. 2017, Figure 3).

    Args:
        source_modes: (N,) the mixture component each source point was drawn from (0..n_source-1).
        translated: (N, D) the translations of those points.
        centers, stds: the target mixture's (K, D) centres and (K,) standard deviations.
        n_source: the number of source modes.
        n_std: a translation counts for its nearest target mode when within n_std of its std (else "off mode").
        min_fraction: a target mode is *covered* when it receives at least this share of a source mode's points.

    Returns:
        ``counts`` (n_source, K + 1) points of each source mode per target mode, last column off mode;
        ``majority`` (n_source,) the target mode most of each source mode's in-mode points go to (-1: none);
        ``modes_covered``: target modes covered; ``distinct``: how many different target modes the source modes'
        majorities are (n_source = a one-to-one map); ``in_mode``: the share of translations within n_std of a mode.
    """
    nearest, within = assign_modes(translated, centers, stds, n_std)
    k = len(centers)
    target = torch.where(within, nearest, torch.full_like(nearest, k))
    counts = torch.zeros(n_source, k + 1, dtype=torch.long)
    counts.index_put_((source_modes.long().cpu(), target.cpu()), torch.ones(len(target), dtype=torch.long), accumulate=True)
    in_mode = counts[:, :k]
    majority = torch.where(in_mode.sum(1) > 0, in_mode.argmax(1), torch.full((n_source,), -1))
    share = in_mode.double() / counts.sum(1, keepdim=True).clamp_min(1)
    covered = int((share >= min_fraction).any(0).sum())
    distinct = len({int(m) for m in majority if m >= 0})
    return {"counts": counts, "majority": majority, "modes_covered": covered, "distinct": distinct,
            "in_mode": float(within.double().mean())}
