"""The orthonormal 2-D DCT-II and its inverse over the last two dimensions, via torch's FFT (batched, CPU or GPU).

The DCT-II basis diagonalises the operators of an image with Neumann (mirror) boundaries: the 5-point Laplacian with
zero normal derivative and any symmetric 3-tap filter with half-sample-symmetric padding. That is why the
Gaussian-Poisson equation of GP-GAN has a closed-form solution "in the frequency domain" (Wu et al. 2017, Section
3.2; the authors' ``gp_gan.py`` solves it with ``scipy.fftpack.dct``).

1-D DCT-II by one complex FFT of length N (Makhoul 1980, "A fast cosine transform in one and two dimensions"):
v = (x_0, x_2, x_4, ..., x_5, x_3, x_1), V = FFT(v), y_k = 2 Re(exp(-iπk/2N) V_k) = 2 Σ_n x_n cos(πk(2n+1)/2N);
the orthonormal scaling multiplies y_0 by sqrt(1/4N) and y_k by sqrt(1/2N). The inverse undoes each step:
exp(-iπk/2N) V_k = (y_k - i y_{N-k}) / 2 with y_N = 0, v = IFFT(V), then the even/odd interleave.
"""

import math

import torch
from torch import Tensor


def _scale(n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """(n,) orthonormal scaling of scipy's unnormalised DCT-II: sqrt(1/4N) for k = 0, sqrt(1/2N) otherwise."""
    scale = torch.full((n,), math.sqrt(1.0 / (2 * n)), dtype=dtype, device=device)
    scale[0] = math.sqrt(1.0 / (4 * n))
    return scale


def _twiddle(n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """(n,) exp(-iπk/2N)."""
    k = torch.arange(n, dtype=dtype, device=device)
    return torch.polar(torch.ones_like(k), -math.pi * k / (2 * n))


def dct(x: Tensor) -> Tensor:
    """Orthonormal DCT-II over the last dimension (``scipy.fft.dct(x, norm="ortho")``)."""
    n = x.shape[-1]
    v = torch.cat([x[..., ::2], x[..., 1::2].flip(-1)], dim=-1)
    y = 2 * (torch.fft.fft(v, dim=-1) * _twiddle(n, x.dtype, x.device)).real
    return y * _scale(n, x.dtype, x.device)


def idct(y: Tensor) -> Tensor:
    """Orthonormal DCT-III over the last dimension, the inverse of `dct` (``scipy.fft.idct(y, norm="ortho")``)."""
    n = y.shape[-1]
    y = y / _scale(n, y.dtype, y.device)  # back to the unnormalised coefficients
    reversed_ = torch.cat([torch.zeros_like(y[..., :1]), y[..., 1:].flip(-1)], dim=-1)  # y_{N-k}, y_N = 0
    w_v = torch.complex(y, -reversed_) / 2  # exp(-iπk/2N) V_k
    v = torch.fft.ifft(w_v / _twiddle(n, y.dtype, y.device), dim=-1).real
    x = torch.empty_like(v)
    half = (n + 1) // 2
    x[..., ::2] = v[..., :half]
    x[..., 1::2] = v[..., half:].flip(-1)
    return x


def dct2(x: Tensor) -> Tensor:
    """Orthonormal 2-D DCT-II over the last two dimensions (H, W)."""
    return dct(dct(x).transpose(-1, -2)).transpose(-1, -2)


def idct2(y: Tensor) -> Tensor:
    """Inverse of `dct2`."""
    return idct(idct(y).transpose(-1, -2)).transpose(-1, -2)
