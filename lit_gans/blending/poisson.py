"""The Gaussian-Poisson equation of GP-GAN (Wu et al. 2017, Section 3.2), solved in closed form with the DCT.

Notation (per channel of an H x W image, all operators with Neumann boundaries):
    D = (D_h, D_v)   forward differences, (D_h x)[i, j] = x[i, j+1] - x[i, j] (the authors' "normal" kernel
                     [0, -1, 1]); the last column (row) has no difference and counts as 0.
    L = DᵀD = -Δ     the 5-point Laplacian [[0,-1,0],[-1,4,-1],[0,-1,0]] with zero normal derivative.
    v = (v_h, v_v)   the target gradient field (the composite's gradients); b = Dᵀv = -div v.
    G                the Gaussian filter g of the paper (3x3, σ = 0.5), with mirror boundaries.
    c                the colour constraint x^l (the blending GAN's output, upsampled to this level).

The paper minimises H(x) = P(x) + β G(x), with the Poisson term P(x) = ‖div v − Δx‖² and the Gaussian
term G(x) = ‖g(x) − x^l‖² (Section 3.2), and solves the optimum in closed form through the DCT. Every operator
above is diagonal in the DCT-II basis (`lit_gans.blending.dct`): at frequency (k, l) of an H x W image

    λ(k, l) = (2 − 2 cos(π l / W)) + (2 − 2 cos(π k / H))       eigenvalues of L
    ĝ(k, l) = (g₀ + 2 g₁ cos(π l / W)) (g₀ + 2 g₁ cos(π k / H))   eigenvalues of G, taps (g₁, g₀, g₁)

so each objective is solved by one division per frequency (w = ``gradient_weight``, ^ = DCT):

    "paper"     min w‖Lx − b‖² + β‖Gx − c‖²   ->  x̂ = (w λ b̂ + β ĝ ĉ) / (w λ² + β ĝ²)
    "gradient"  min w‖Dx − v‖² + β‖Gx − c‖²   ->  x̂ = (w b̂ + β ĝ ĉ) / (w λ + β ĝ²)
    "authors"   the authors' code (gp_gan.py, gaussian_poisson_editing): x̂ = (w b̂ + β ĉ) / (w λ + β ĝ)

All three have the same two limits: β = 0 gives the Poisson solution Lx = b (x has the prescribed gradients when v
is a gradient field, up to a constant, which then comes from the mean of c), and w = 0 gives g(x) = c (x equals the
colour constraint, deblurred). At the frequency where the denominator vanishes (the mean, when β = 0) x takes the
mean of c.
"""

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.blending.dct import dct2, idct2

OBJECTIVES = ("paper", "gradient", "authors")


def gaussian_taps(sigma: float, truncate: float = 4.0) -> tuple[float, float]:
    """(g₀, g₁): the centre and side taps of the 3x3 Gaussian filter, as the authors build it (``gaussian_param``:
    scikit-image's σ-Gaussian, normalised over its radius round(truncate·σ), cropped to 3x3: at σ = 0.5 its taps sum
    to 0.9989 per axis). σ = 0: the identity (1, 0)."""
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}.")
    if sigma == 0:
        return 1.0, 0.0
    radius = max(int(truncate * sigma + 0.5), 1)
    weights = [math.exp(-0.5 * (d / sigma) ** 2) for d in range(-radius, radius + 1)]
    total = sum(weights)
    return weights[radius] / total, weights[radius + 1] / total


def laplacian_eigenvalues(height: int, width: int, dtype: torch.dtype = torch.float64,
                          device: torch.device | str = "cpu") -> Tensor:
    """(H, W) eigenvalues λ of L = −Δ (Neumann) in the DCT-II basis (the authors' ``laplacian_param``)."""
    k = torch.arange(height, dtype=dtype, device=device)[:, None]
    l = torch.arange(width, dtype=dtype, device=device)[None, :]
    return (2 - 2 * torch.cos(math.pi * l / width)) + (2 - 2 * torch.cos(math.pi * k / height))


def gaussian_eigenvalues(height: int, width: int, sigma: float, dtype: torch.dtype = torch.float64,
                         device: torch.device | str = "cpu") -> Tensor:
    """(H, W) eigenvalues ĝ of the 3x3 Gaussian filter with mirror boundaries (the authors' ``gaussian_param``)."""
    g0, g1 = gaussian_taps(sigma)
    k = torch.arange(height, dtype=dtype, device=device)[:, None]
    l = torch.arange(width, dtype=dtype, device=device)[None, :]
    return (g0 + 2 * g1 * torch.cos(math.pi * l / width)) * (g0 + 2 * g1 * torch.cos(math.pi * k / height))


def _replicate(x: Tensor, dim: int) -> Tensor:
    """x with its first and last slice along ``dim`` repeated once on each side (any number of leading dims)."""
    n = x.shape[dim]
    return torch.cat([x.narrow(dim, 0, 1), x, x.narrow(dim, n - 1, 1)], dim=dim)


def gaussian_filter3(x: Tensor, sigma: float) -> Tensor:
    """G x: the 3x3 Gaussian filter with half-sample mirror padding (the operator ĝ diagonalises), (..., H, W).
    One replicated pixel on each side is the half-sample mirror d c b a | a b c d."""
    g0, g1 = gaussian_taps(sigma)
    h = _replicate(x, -1)
    x = g1 * h[..., :-2] + g0 * h[..., 1:-1] + g1 * h[..., 2:]
    v = _replicate(x, -2)
    return g1 * v[..., :-2, :] + g0 * v[..., 1:-1, :] + g1 * v[..., 2:, :]


def forward_gradients(x: Tensor) -> tuple[Tensor, Tensor]:
    """(D_h x, D_v x), each (..., H, W): forward differences, 0 in the last column / row (no neighbour there)."""
    return F.pad(x[..., :, 1:] - x[..., :, :-1], (0, 1)), F.pad(x[..., 1:, :] - x[..., :-1, :], (0, 0, 0, 1))


def divergence_rhs(v_h: Tensor, v_v: Tensor) -> Tensor:
    """b = Dᵀv = −div v (backward differences; the last column / row of v is not a difference and is ignored)."""
    h, v = v_h[..., :, :-1], v_v[..., :-1, :]
    return F.pad(h, (1, 0)) - F.pad(h, (0, 1)) + F.pad(v, (0, 0, 1, 0)) - F.pad(v, (0, 0, 0, 1))


def composite_gradients(source: Tensor, destination: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """The composite's gradient field v: the source's differences inside the mask, the destination's outside (the
    authors' ``gradient_feature`` mixed by the mask). An edge between two pixels takes the mean of their mask values
    (the authors average the two pixels' mixed features, ``(X[..,1] + roll(X[..,3], -1)) / 2``), so an edge across
    the mask's border is half one, half the other. source, destination (B, C, H, W); mask (B, 1, H, W) in [0, 1]."""
    if mask.shape[-2:] != source.shape[-2:] or source.shape != destination.shape:
        raise ValueError(f"source {tuple(source.shape)}, destination {tuple(destination.shape)} and mask "
                         f"{tuple(mask.shape)} must share (H, W), and source and destination their whole shape.")
    s_h, s_v = forward_gradients(source)
    d_h, d_v = forward_gradients(destination)
    m_h = (mask + torch.cat([mask[..., :, 1:], mask[..., :, -1:]], dim=-1)) / 2  # mean of the edge's two pixels
    m_v = (mask + torch.cat([mask[..., 1:, :], mask[..., -1:, :]], dim=-2)) / 2
    return m_h * s_h + (1 - m_h) * d_h, m_v * s_v + (1 - m_v) * d_v


def gaussian_poisson(b: Tensor, color: Tensor, beta: float = 1.0, sigma: float = 0.5, gradient_weight: float = 1.0,
                     objective: str = "paper") -> Tensor:
    """The closed-form optimum of the Gaussian-Poisson equation (module docstring), batched over leading dims.

    Args:
        b: (..., H, W) −div v, the divergence of the target gradient field (`divergence_rhs`).
        color: (..., H, W) the colour constraint c = x^l.
        beta: β ≥ 0, the weight of the Gaussian (colour) term; the paper and the authors use 1.
        sigma: σ of the Gaussian filter g (0.5 in the authors' code; 0: no filter, x itself matches c).
        gradient_weight: w ≥ 0, the weight of the Poisson (gradient) term (1 in the paper).
        objective: "paper", "gradient" or "authors" (module docstring).
    Returns:
        x (..., H, W), computed in float64 and cast back to ``color``'s dtype.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}.")
    if beta < 0 or gradient_weight < 0 or beta + gradient_weight == 0:
        raise ValueError(f"beta={beta} and gradient_weight={gradient_weight} must be >= 0 and not both 0.")
    if b.shape != color.shape:
        raise ValueError(f"b {tuple(b.shape)} and color {tuple(color.shape)} must have one shape.")
    height, width = color.shape[-2:]
    lam = laplacian_eigenvalues(height, width, device=color.device)
    g = gaussian_eigenvalues(height, width, sigma, device=color.device)
    b_hat, c_hat = dct2(b.double()), dct2(color.double())
    w = gradient_weight
    if objective == "paper":
        numerator, denominator = w * lam * b_hat + beta * g * c_hat, w * lam**2 + beta * g**2
    elif objective == "gradient":
        numerator, denominator = w * b_hat + beta * g * c_hat, w * lam + beta * g**2
    else:
        numerator, denominator = w * b_hat + beta * c_hat, w * lam + beta * g
    zero = denominator.abs() < 1e-12  # the mean when beta = 0: taken from c (c's mean, deblurred)
    x_hat = torch.where(zero, c_hat / torch.where(g.abs() < 1e-12, torch.ones_like(g), g),
                        numerator / torch.where(zero, torch.ones_like(denominator), denominator))
    return idct2(x_hat).to(color.dtype)
