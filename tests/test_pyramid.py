"""Laplacian pyramids (lit_gans.pyramid): exact reconstruction, shapes, what d(.) and u(.) do."""

import pytest
import torch
from torch.testing import assert_close

from lit_gans.pyramid import downsample, gaussian_pyramid, laplacian_pyramid, reconstruct, upsample


@pytest.mark.parametrize("sizes", [[7, 14, 28], [8, 16, 32], [4, 9, 18]])
def test_the_pyramid_reconstructs_the_image_exactly(sizes: list[int]) -> None:
    torch.manual_seed(0)
    x = torch.rand(3, 2, sizes[-1], sizes[-1], dtype=torch.float64) * 2 - 1
    coarsest, residuals, lows = laplacian_pyramid(x, sizes)
    assert coarsest.shape == (3, 2, sizes[0], sizes[0])
    assert [h.shape[-1] for h in residuals] == [low.shape[-1] for low in lows] == sizes[1:]
    assert_close(reconstruct(coarsest, residuals), x, rtol=0, atol=1e-14)  # float64: exact up to rounding
    # each level: I_k = l_k + h_k with l_k the upsampled coarser Gaussian level
    images = gaussian_pyramid(x, sizes)
    for k in range(1, len(sizes)):
        assert_close(lows[k - 1], upsample(images[k - 1], sizes[k]), rtol=0, atol=0)
        assert_close(lows[k - 1] + residuals[k - 1], images[k], rtol=0, atol=1e-15)
    x32 = x.float()
    assert_close(reconstruct(*laplacian_pyramid(x32, sizes)[:2]), x32, rtol=0, atol=1e-6)


def test_the_residuals_are_band_pass() -> None:
    """A constant image has no detail at any level: every h_k is 0 and I_0 is the constant (d and u keep means)."""
    x = torch.full((1, 1, 28, 28), 0.3)
    coarsest, residuals, _ = laplacian_pyramid(x, [7, 14, 28])
    assert_close(coarsest, torch.full((1, 1, 7, 7), 0.3))
    for h in residuals:
        assert_close(h, torch.zeros_like(h), rtol=0, atol=1e-6)
    # a checkerboard (the finest frequency) is all detail: blurred away before decimation (away from the border,
    # where the filter is clipped)
    board = (torch.arange(28)[:, None] + torch.arange(28)[None]) % 2 * 2.0 - 1
    assert downsample(board[None, None], 14)[..., 1:-1, 1:-1].abs().max() < 1e-6


def test_a_size_that_is_not_the_images_names_the_fix() -> None:
    with pytest.raises(ValueError, match="end at the image size"):
        laplacian_pyramid(torch.zeros(1, 1, 32, 32), [7, 14, 28])
    with pytest.raises(ValueError, match="increasing"):
        laplacian_pyramid(torch.zeros(1, 1, 28, 28), [14, 7, 28])
    with pytest.raises(ValueError, match=">= 2"):
        laplacian_pyramid(torch.zeros(1, 1, 28, 28), [28])
