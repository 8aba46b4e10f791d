"""Per-scale Parzen-window log-likelihood of a Laplacian pyramid model (LAPGAN, Denton et al. 2015, Section 4 and
Table 1): the Gaussian kernel estimate of `lit_gans.metrics.parzen` applied level by level.

A test image I has the pyramid (I_0, h_1, ..., h_K) with low-pass images l_k = u(I_{k−1}) (`lit_gans.pyramid`). The
pyramid is invertible, and LAPGAN generates it level by level, so the paper scores

    log p(I) = log p̂_0(I_0) + Σ_{k=1..K} log p̂_k(h_k | l_k),

    p̂_0(I_0)        = 1/M_0 Σ_i N(I_0; G_0(z_i), σ_0² I)                 (kernels on unconditional level-0 samples)
    p̂_k(h_k | l_k)  = 1/M   Σ_i N(h_k; G_k(z_i, l_k), σ_k² I)            (kernels on samples conditioned on THIS
                                                                           test image's own l_k)

each σ_k the best of a grid on validation images (`select_sigma`'s rule, level by level). Choices the paper does not
state, ours: M (``samples_per_image``) conditional samples per image and level, fresh for every image; σ_k chosen
per level independently (the sum's validation mean is maximised by maximising each term); pixels in [0, 1] as the
whole-image estimator (the residuals h_k then lie in [−1, 1]).

The nats are over the pyramid's coefficients, Σ_k C·s_k² numbers (MNIST 7 → 14 → 28: 49 + 196 + 784 = 1029) for an
image of C·s_K² (784): the Laplacian pyramid is over-complete, so the sum is not a density on image space and its
number is not comparable with the whole-image estimate's except as the paper uses it (model against model).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor

from lit_gans.metrics.parzen import DEFAULT_SIGMAS, ParzenResult, best_sigma, mean_stderr, parzen_log_likelihood

Pyramid = tuple[Tensor, Sequence[Tensor], Sequence[Tensor]]  # (I_0, [h_1..h_K], [l_1..l_K]) as `laplacian_pyramid`
ResidualSampler = Callable[[int, Tensor], Tensor]  # (k, l (n, C, s_k, s_k)) -> one h̃ ~ G_k(z, l) per row, same shape


def conditional_parzen_log_likelihood(x: Tensor, low: Tensor, sample: Callable[[Tensor], Tensor], samples_per_image: int,
                                      sigma: float | Sequence[float], batch_size: int = 1000) -> Tensor:
    """log p̂_σ(x_j | l_j): a Parzen window on ``samples_per_image`` draws of ``sample(l_j)`` for every row j.

    Args:
        x: (N, ...) the points scored (residuals h_j).
        low: (N, ...) the condition of each point (l_j); ``sample`` takes a batch of them and returns one draw per row.
        samples_per_image: M, the kernels of each point's own window.
        sigma: a float gives (N,), a sequence of S widths (S, N).
        batch_size: draws per call of ``sample`` (at least M: the draws of one point are made together).
    """
    if len(x) != len(low):
        raise ValueError(f"{len(x)} points but {len(low)} conditions: one low-pass image per residual.")
    if samples_per_image < 1:
        raise ValueError(f"samples_per_image must be >= 1, got {samples_per_image}.")
    per_call = max(batch_size // samples_per_image, 1)  # points whose M draws are made in one call
    out = []
    for xs, ls in zip(x.split(per_call), low.split(per_call)):
        draws = sample(ls.repeat_interleave(samples_per_image, dim=0))  # (b·M, ...)
        draws = draws.reshape(len(ls), samples_per_image, -1)  # (b, M, D)
        out += [parzen_log_likelihood(xi[None], di, sigma)[..., 0] for xi, di in zip(xs, draws)]  # (S,) or ()
    if not out:
        raise ValueError("no points to score.")
    return torch.stack(out, dim=-1)


@dataclass(frozen=True)
class PyramidParzenResult:
    """The per-image total (mean and standard error, nats) and each level's term (level 0 the coarsest)."""

    mean: float
    stderr: float
    levels: tuple[ParzenResult, ...]

    def logs(self) -> dict[str, float]:
        """``parzen_ll`` (the total), ``parzen_ll_se``, and per level ``parzen_ll_level<k>``, ``parzen_sigma_level<k>``."""
        out = {"parzen_ll": self.mean, "parzen_ll_se": self.stderr}
        for k, level in enumerate(self.levels):
            out |= {f"parzen_ll_level{k}": level.mean, f"parzen_sigma_level{k}": level.sigma}
        return out


def pyramid_parzen_window(coarse_samples: Tensor, sample_residual: ResidualSampler, valid: Pyramid, test: Pyramid,
                          samples_per_image: int = 100, sigmas: Sequence[float] = DEFAULT_SIGMAS,
                          batch_size: int = 1000, chunk_size: int = 1000) -> PyramidParzenResult:
    """Denton et al.'s per-scale estimate: σ_k per level on ``valid``, then the levels' terms and their sum on ``test``.

    Args:
        coarse_samples: (M_0, C, s_0, s_0) unconditional level-0 samples G_0(z), in the pyramids' units.
        sample_residual: draws h̃ ~ G_k(z, l) for a batch of low-pass images l of level k >= 1, in the same units.
        valid, test: (I_0, [h_k], [l_k]) of the validation and test images (`lit_gans.pyramid.laplacian_pyramid`).
        samples_per_image: conditional draws per image and level (each image's own window).
        sigmas: the grid of kernel widths every level chooses from.
        batch_size: draws per call of ``sample_residual``; chunk_size: level-0 test points per distance matrix.
    """
    if len(valid[1]) != len(test[1]):
        raise ValueError(f"valid has {len(valid[1]) + 1} levels but test {len(test[1]) + 1}.")
    grid = tuple(float(s) for s in sigmas)
    levels, test_lls = [], []

    def score(valid_ll: Tensor, test_ll: Callable[[float], Tensor]) -> None:
        sigma, means = best_sigma(valid_ll, grid)  # (S, N_valid) -> σ of the best mean
        ll = test_ll(sigma)  # (N_test,)
        levels.append(ParzenResult(*mean_stderr(ll), sigma, grid, tuple(means.tolist())))
        test_lls.append(ll)

    score(parzen_log_likelihood(valid[0], coarse_samples, grid, chunk_size),
          lambda sigma: parzen_log_likelihood(test[0], coarse_samples, sigma, chunk_size))
    for k, (h_valid, l_valid, h_test, l_test) in enumerate(zip(valid[1], valid[2], test[1], test[2]), start=1):
        sample = partial(sample_residual, k)
        score(conditional_parzen_log_likelihood(h_valid, l_valid, sample, samples_per_image, grid, batch_size),
              lambda sigma: conditional_parzen_log_likelihood(h_test, l_test, sample, samples_per_image, sigma, batch_size))
    mean, stderr = mean_stderr(torch.stack(test_lls).sum(dim=0))  # per image: the sum of its levels' terms
    return PyramidParzenResult(mean, stderr, tuple(levels))
