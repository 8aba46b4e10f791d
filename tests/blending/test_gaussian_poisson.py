"""GP-GAN's Gaussian-Poisson solver against dense matrices: the DCT, the operators it diagonalises, each objective's
optimum against a dense least-squares solve on a tiny image, and the two limits the issue names (β = 0: the
prescribed gradients; gradient weight 0: the colour constraint)."""

import numpy as np
import pytest
import scipy.fft
import torch
from torch.testing import assert_close

from lit_gans.blending import (
    composite_gradients,
    dct,
    dct2,
    divergence_rhs,
    forward_gradients,
    gaussian_filter3,
    gaussian_poisson,
    gp_blend,
    idct,
    idct2,
)
from lit_gans.blending.poisson import gaussian_taps

H, W = 4, 5


def difference_matrix(n: int) -> np.ndarray:
    """(n - 1, n) forward differences."""
    d = np.zeros((n - 1, n))
    d[np.arange(n - 1), np.arange(n - 1)], d[np.arange(n - 1), np.arange(1, n)] = -1, 1
    return d


def blur_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n) 3-tap Gaussian with the half-sample mirror boundary (x[-1] = x[0], x[n] = x[n-1])."""
    g0, g1 = gaussian_taps(sigma)
    m = np.zeros((n, n))
    for i in range(n):
        m[i, i] += g0
        m[i, max(i - 1, 0)] += g1
        m[i, min(i + 1, n - 1)] += g1
    return m


def operators(sigma: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dense D_h, D_v (edges x pixels), L = DᵀD and G (pixels x pixels) on row-major H x W images."""
    d_h = np.kron(np.eye(H), difference_matrix(W))
    d_v = np.kron(difference_matrix(H), np.eye(W))
    lap = d_h.T @ d_h + d_v.T @ d_v
    return d_h, d_v, lap, np.kron(blur_matrix(H, sigma), blur_matrix(W, sigma))


def test_dct_is_scipys_orthonormal_dct_and_inverts() -> None:
    for n in (1, 2, 5, 8):
        x = torch.randn(3, n, dtype=torch.float64)
        assert_close(dct(x), torch.from_numpy(scipy.fft.dct(x.numpy(), norm="ortho")))
        assert_close(idct(dct(x)), x)
    x = torch.randn(2, 3, 7, 6, dtype=torch.float64)
    assert_close(dct2(x), torch.from_numpy(scipy.fft.dctn(x.numpy(), axes=(-2, -1), norm="ortho")))
    assert_close(idct2(dct2(x)), x)


def test_gradients_divergence_and_blur_are_the_dense_operators() -> None:
    d_h, d_v, lap, g = operators()
    x = torch.randn(H, W, dtype=torch.float64)
    gh, gv = forward_gradients(x)
    assert_close(gh[:, :-1].reshape(-1).numpy(), d_h @ x.reshape(-1).numpy())
    assert_close(gv[:-1].reshape(-1).numpy(), d_v @ x.reshape(-1).numpy())
    assert (gh[:, -1] == 0).all() and (gv[-1] == 0).all()
    v_h, v_v = torch.randn(H, W, dtype=torch.float64), torch.randn(H, W, dtype=torch.float64)
    expected = d_h.T @ v_h[:, :-1].reshape(-1).numpy() + d_v.T @ v_v[:-1].reshape(-1).numpy()
    assert_close(divergence_rhs(v_h, v_v).reshape(-1).numpy(), expected)
    assert_close(divergence_rhs(*forward_gradients(x)).reshape(-1).numpy(), lap @ x.reshape(-1).numpy())
    assert_close(gaussian_filter3(x, 0.5).reshape(-1).numpy(), g @ x.reshape(-1).numpy())


def test_gaussian_taps_are_the_authors_3x3_crop_of_the_sigma_half_gaussian() -> None:
    g0, g1 = gaussian_taps(0.5)
    total = 1 + 2 * np.exp(-2) + 2 * np.exp(-8)  # radius round(4 · 0.5) = 2
    assert_close((g0, g1), (1 / total, np.exp(-2) / total))
    assert gaussian_taps(0.0) == (1.0, 0.0)


@pytest.mark.parametrize("objective", ["paper", "gradient", "authors"])
@pytest.mark.parametrize("beta", [1.0, 0.3])
def test_solver_is_the_dense_least_squares_optimum(objective: str, beta: float) -> None:
    torch.manual_seed(0)
    d_h, d_v, lap, g = operators()
    v_h, v_v = torch.randn(H, W, dtype=torch.float64), torch.randn(H, W, dtype=torch.float64)
    c = torch.rand(H, W, dtype=torch.float64)
    b = divergence_rhs(v_h, v_v)
    x = gaussian_poisson(b, c, beta=beta, sigma=0.5, objective=objective).reshape(-1).numpy()
    vh, vv, cc, bb = (t.numpy() for t in (v_h[:, :-1].reshape(-1), v_v[:-1].reshape(-1), c.reshape(-1), b.reshape(-1)))
    s = np.sqrt(beta)
    if objective == "paper":  # min ‖Lx − b‖² + β‖Gx − c‖²  (‖div v − Δx‖² + β‖g(x) − x^l‖²)
        expected = np.linalg.lstsq(np.vstack([lap, s * g]), np.concatenate([bb, s * cc]), rcond=None)[0]
    elif objective == "gradient":  # min ‖Dx − v‖² + β‖Gx − c‖²
        expected = np.linalg.lstsq(np.vstack([d_h, d_v, s * g]), np.concatenate([vh, vv, s * cc]), rcond=None)[0]
    else:  # the authors' linear system (L + βG) x = b + βc
        expected = np.linalg.solve(lap + beta * g, bb + beta * cc)
    assert_close(x, expected)


@pytest.mark.parametrize("objective", ["paper", "gradient", "authors"])
def test_beta_zero_gives_the_prescribed_gradients(objective: str) -> None:
    """v = ∇y of some image y: with β = 0 the solution has exactly y's gradients (Neumann boundary: no boundary
    error for a gradient field), and its mean comes from the colour constraint."""
    y = torch.rand(2, 3, 9, 12, dtype=torch.float64)
    c = torch.rand(2, 3, 9, 12, dtype=torch.float64)
    x = gaussian_poisson(divergence_rhs(*forward_gradients(y)), c, beta=0.0, objective=objective)
    for got, want in zip(forward_gradients(x), forward_gradients(y)):
        assert_close(got, want)
    g0, g1 = gaussian_taps(0.5)
    assert_close(x.mean((-2, -1)), c.mean((-2, -1)) / (g0 + 2 * g1) ** 2)  # g(x) has c's mean


@pytest.mark.parametrize("objective", ["paper", "gradient", "authors"])
def test_gradient_weight_zero_gives_the_colour_constraint(objective: str) -> None:
    b = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    c = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    x = gaussian_poisson(b, c, beta=1.0, sigma=0.5, gradient_weight=0.0, objective=objective)
    assert_close(gaussian_filter3(x, 0.5), c)  # g(x) = x^l
    assert_close(gaussian_poisson(b, c, beta=2.0, sigma=0.0, gradient_weight=0.0, objective=objective), c)


def test_solver_is_batched_and_keeps_the_dtype() -> None:
    b, c = torch.randn(3, 2, 6, 7), torch.rand(3, 2, 6, 7)
    x = gaussian_poisson(b, c)
    assert x.dtype == torch.float32 and x.shape == c.shape
    assert_close(x[1, 0], gaussian_poisson(b[1, 0], c[1, 0]))


def test_solver_refuses_bad_options() -> None:
    b = torch.zeros(4, 4)
    with pytest.raises(ValueError, match="objective must be one of"):
        gaussian_poisson(b, b, objective="nope")
    with pytest.raises(ValueError, match="not both 0"):
        gaussian_poisson(b, b, beta=0.0, gradient_weight=0.0)
    with pytest.raises(ValueError, match="one shape"):
        gaussian_poisson(b, torch.zeros(4, 5))


def test_composite_gradients_take_the_source_inside_and_the_destination_outside() -> None:
    src, dst = torch.rand(1, 3, 6, 6), torch.rand(1, 3, 6, 6)
    mask = torch.zeros(1, 1, 6, 6)
    mask[..., 1:4, 1:4] = 1
    v_h, v_v = composite_gradients(src, dst, mask)
    s_h, s_v = forward_gradients(src)
    d_h, d_v = forward_gradients(dst)
    assert_close(v_h[..., 1:4, 1:3], s_h[..., 1:4, 1:3])  # both ends inside
    assert_close(v_h[..., 0, :], d_h[..., 0, :])  # both ends outside
    assert_close(v_v[..., 4:, :], d_v[..., 4:, :])
    assert_close(v_h[..., 2, 3], (s_h[..., 2, 3] + d_h[..., 2, 3]) / 2)  # across the border: half each
    assert_close(v_v[..., 1:3, 2], s_v[..., 1:3, 2])


def test_blend_of_an_image_with_itself_returns_it() -> None:
    """source = destination: no seam to hide; the pyramid must give the image back up to the smoothing of its
    coarsest colour constraint (small), at any size, also not square and not a power of two."""
    torch.manual_seed(0)
    y = torch.nn.functional.interpolate(torch.rand(2, 3, 12, 15), size=(90, 130), mode="bilinear")
    mask = torch.zeros(2, 1, 90, 130)
    mask[..., 20:60, 30:90] = 1
    out = gp_blend(y, y, mask, image_size=32)
    assert out.shape == y.shape
    assert (out - y).abs().mean() < 0.02


def test_blend_refuses_a_mask_of_another_size_naming_the_fix() -> None:
    y = torch.rand(1, 3, 64, 64)
    with pytest.raises(ValueError, match="resize the mask to the images' size"):
        gp_blend(y, y, torch.ones(1, 1, 32, 32))
    with pytest.raises(ValueError, match="images of one size"):
        gp_blend(y, torch.rand(1, 3, 32, 32), torch.ones(1, 1, 64, 64))
    with pytest.raises(ValueError, match="output at the coarsest level"):
        gp_blend(y, y, torch.ones(1, 1, 64, 64), low=torch.rand(1, 3, 32, 32))
