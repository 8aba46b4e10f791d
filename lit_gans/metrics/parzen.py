"""Gaussian Parzen-window log-likelihood of test data under a generator's samples (Breuleux et al. 2011).

The measure of Goodfellow et al. 2014 (Table 1: MNIST, GAN 225 ± 2 nats) and LAPGAN's model selection and Table 1
(Denton et al. 2015): fit an isotropic Gaussian kernel density on M generated samples μ_i,

    log p̂_σ(x) = log( 1/M Σ_i N(x; μ_i, σ² I) )
               = logsumexp_i( −‖x − μ_i‖² / (2σ²) ) − log M − (D/2) log(2π σ²),

choose σ on a validation set (the σ of a grid with the highest mean validation log-likelihood), and report the mean
over the test images with its standard error std/√N, in nats, images flattened and scaled to [0, 1] (D = 784 for
MNIST). Goodfellow et al.'s parzen_ll.py: M = 10,000 samples, σ from ``logspace(-1, 0, 10)`` chosen on 1,000
images of MNIST's validation split (train[50000:60000]), the whole test set.

The squared distances do not depend on σ, so each chunk of test points is compared with every sample once (one
matrix product, ‖x‖² + ‖μ‖² − 2 x·μ in float64) and every σ of the grid is scored from it: 10,000 × 10,000 × 784
costs one 10⁴ × 784 × 10⁴ product, in memory chunk_size × M at a time.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

# Goodfellow et al.'s grid: numpy.logspace(-1, 0, num=10) (images in [0, 1])
DEFAULT_SIGMAS: tuple[float, ...] = tuple(10.0 ** (-1 + i / 9) for i in range(10))


def parzen_log_likelihood(x: Tensor, samples: Tensor, sigma: float | Sequence[float] | Tensor,
                          chunk_size: int = 1000, dtype: torch.dtype = torch.float64) -> Tensor:
    """log p̂_σ(x_j) for every row of ``x``, in nats, for one σ or a grid of them.

    Args:
        x: (N, ...) points to score; flattened to (N, D).
        samples: (M, ...) the kernel centres μ_i (generated samples); flattened to (M, D).
        sigma: the kernel width: a float gives (N,), a sequence / 1-D tensor of S widths gives (S, N).
        chunk_size: rows of ``x`` compared with all M samples at once (memory: chunk_size × M numbers).
        dtype: of the distances and sums (float64: ‖x‖² + ‖μ‖² − 2x·μ loses digits in float32).

    Returns:
        (N,) or (S, N) log-likelihoods, in ``dtype``.

    >>> samples, x = torch.tensor([[0.0], [2.0]]), torch.tensor([[1.0]])  # equal mixture of N(0, 1) and N(2, 1)
    >>> round(parzen_log_likelihood(x, samples, 1.0).item(), 6)  # log N(1; 0, 1) = −1/2 − log(2π)/2
    -1.418939
    """
    x, samples = x.flatten(1).to(dtype), samples.flatten(1).to(dtype)
    if x.shape[1] != samples.shape[1]:
        raise ValueError(f"x has {x.shape[1]} dimensions per point but samples have {samples.shape[1]}.")
    if not len(samples):
        raise ValueError("the Parzen window needs at least one sample.")
    single = not isinstance(sigma, (Sequence, Tensor)) or (isinstance(sigma, Tensor) and sigma.dim() == 0)
    sigmas = torch.as_tensor(sigma, dtype=dtype, device=x.device).reshape(-1)  # (S,)
    if (sigmas <= 0).any():
        raise ValueError(f"sigma must be > 0, got {sigmas.tolist()}.")
    m, d = samples.shape
    norm = math.log(m) + 0.5 * d * torch.log(2 * math.pi * sigmas**2)  # (S,)
    sample_sq = samples.pow(2).sum(1)  # (M,)
    out = []
    for part in x.split(chunk_size):
        sq = (part.pow(2).sum(1, keepdim=True) + sample_sq - 2 * part @ samples.T).clamp_min_(0)  # (n, M)
        # (S, n): one logsumexp over the samples per σ
        out.append(torch.stack([torch.logsumexp(sq / (-2 * s**2), dim=1) for s in sigmas]) - norm[:, None])
    lls = torch.cat(out, dim=1) if out else torch.empty(len(sigmas), 0, dtype=dtype)
    return lls[0] if single else lls


@dataclass(frozen=True)
class ParzenResult:
    """The test log-likelihood (mean and its standard error, nats), the chosen σ and the validation curve."""

    mean: float
    stderr: float
    sigma: float
    sigmas: tuple[float, ...]
    valid_ll: tuple[float, ...]  # mean validation log-likelihood per σ of the grid


def select_sigma(samples: Tensor, valid: Tensor, sigmas: Sequence[float] = DEFAULT_SIGMAS,
                 chunk_size: int = 1000) -> tuple[float, Tensor]:
    """(the σ of ``sigmas`` with the highest mean log-likelihood of ``valid``, the mean per σ (S,))."""
    if not len(valid):
        raise ValueError("choosing σ needs at least one validation point.")
    return best_sigma(parzen_log_likelihood(valid, samples, list(sigmas), chunk_size), sigmas)


def best_sigma(valid_ll: Tensor, sigmas: Sequence[float]) -> tuple[float, Tensor]:
    """(the σ whose row of ``valid_ll`` (S, N) has the highest mean, the mean per σ (S,))."""
    means = valid_ll.mean(dim=1)
    return float(sigmas[int(means.argmax())]), means


def mean_stderr(ll: Tensor) -> tuple[float, float]:
    """(mean, std/√N) of per-point log-likelihoods (N,): numpy's std (no correction), as parzen_ll.py."""
    return float(ll.mean()), float(ll.std(correction=0) / math.sqrt(len(ll)))


def parzen_window(samples: Tensor, valid: Tensor, test: Tensor, sigmas: Sequence[float] = DEFAULT_SIGMAS,
                  chunk_size: int = 1000) -> ParzenResult:
    """Choose σ on ``valid``, then score ``test`` (all three in the same scale, e.g. [0, 1])."""
    sigma, means = select_sigma(samples, valid, sigmas, chunk_size)
    mean, stderr = mean_stderr(parzen_log_likelihood(test, samples, sigma, chunk_size))
    return ParzenResult(mean, stderr, sigma, tuple(float(s) for s in sigmas), tuple(means.tolist()))
