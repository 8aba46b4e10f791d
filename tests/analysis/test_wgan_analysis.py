"""lit_gans.analysis: Example 1's exact distances, Spearman's ρ, the median filter and the metrics csv reader."""

import math
from pathlib import Path

import numpy as np
import pytest
from lightning.pytorch.loggers import CSVLogger
from numpy.testing import assert_allclose, assert_array_equal

from lit_gans.analysis import median_filtered, parallel_lines_divergences, read_metrics_csv, spearman


@pytest.mark.parametrize("theta", [-2.0, -0.3, 1e-9, 0.7, 5.0])
def test_parallel_lines_divergences_apart(theta: float) -> None:
    w, js, kl, tv = parallel_lines_divergences(theta)
    assert (w, js, kl, tv) == (abs(theta), math.log(2.0), math.inf, 1.0)  # W = |θ|; JS, KL, TV jump


def test_parallel_lines_divergences_at_zero_and_on_arrays() -> None:
    assert tuple(parallel_lines_divergences(0.0)) == (0.0, 0.0, 0.0, 0.0)
    theta = np.array([-1.0, -1e-6, 0.0, 1e-6, 0.5])
    out = parallel_lines_divergences(theta)
    assert_array_equal(out.w, [1.0, 1e-6, 0.0, 1e-6, 0.5])
    assert_array_equal(out.js, [math.log(2)] * 2 + [0.0] + [math.log(2)] * 2)
    assert_array_equal(out.kl, [math.inf, math.inf, 0.0, math.inf, math.inf])
    assert_array_equal(out.tv, [1.0, 1.0, 0.0, 1.0, 1.0])
    # only W is continuous at θ = 0: a θ a millionth away is a millionth away in W, log 2 in JS
    assert out.w[3] - out.w[2] == 1e-6 and out.js[3] - out.js[2] == math.log(2)


def test_spearman_hand_computed() -> None:
    # ranks differ by d = (-1, 1, -1, 1, 0): ρ = 1 - 6·Σd² / (n(n² - 1)) = 1 - 24/120 = 0.8
    rho, p = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    assert_allclose(rho, 0.8)
    # p: two-sided t-test, t = ρ·sqrt((n-2)/(1-ρ²)) = 4, 3 dof; t/√3 = 4/3 and the t₃ CDF in closed form:
    # p = 1 - (2/π)·(u/(1+u²) + atan(u)) with u = 4/3, i.e. 1 - (2/π)·(12/25 + atan(4/3))
    assert_allclose(p, 1 - (2 / math.pi) * (12 / 25 + math.atan(4 / 3)))
    assert_allclose(p, 0.10408803866, rtol=1e-9)


def test_spearman_ranks_ties_monotone_and_reversed() -> None:
    # b has a tie: ranks (1.5, 1.5, 3, 4) against (1, 2, 3, 4): ρ = 4.5 / sqrt(5 · 4.5) = 3/√10
    assert_allclose(spearman([1, 2, 3, 4], [1, 1, 2, 3])[0], 3 / math.sqrt(10))
    x = np.arange(1.0, 8.0)
    assert_allclose(spearman(x, np.exp(x)), (1.0, 0.0), atol=1e-12)  # any increasing map: ρ = 1
    assert_allclose(spearman(x, -x**3)[0], -1.0)
    with pytest.raises(ValueError, match="same length"):
        spearman([1, 2, 3], [1, 2])


def test_median_filter_hand_computed_with_replicated_edges() -> None:
    # window 3, ends padded by repeating the end value: (0,0,10)->0 (0,10,1)->1 (10,1,2)->2 (1,2,9)->2 (2,9,3)->3 (9,3,3)->3
    assert_array_equal(median_filtered([0, 10, 1, 2, 9, 3], 3), [0, 1, 2, 2, 3, 3])
    # the ends keep their level; zero padding (scipy.signal.medfilt) would give [1, 5, 1]
    assert_array_equal(median_filtered([5.0, 1.0, 6.0], 3), [5, 5, 6])
    # window 5 over 3 1 4 1 5 9 2 padded to 3 3 | 3 1 4 1 5 9 2 | 2 2
    assert_array_equal(median_filtered([3, 1, 4, 1, 5, 9, 2], 5), [3, 3, 3, 4, 4, 2, 2])
    assert_array_equal(median_filtered([1, 1, 100, 1, 1], 3), [1, 1, 1, 1, 1])  # a lone spike is removed
    assert_array_equal(median_filtered([4, 2, 7], 1), [4, 2, 7])


@pytest.mark.parametrize("window", [0, 2, 4])
def test_median_filter_needs_an_odd_window(window: int) -> None:
    with pytest.raises(ValueError, match="odd"):
        median_filtered([1.0, 2.0, 3.0], window)


def test_read_metrics_csv_from_lightning_csv_logger(tmp_path: Path) -> None:
    # what logger=csv writes: <run>/csv/metrics.csv, one row per log call, empty cells for other keys
    logger = CSVLogger(save_dir=tmp_path, name="csv", version="")
    logger.log_metrics({"train/d_loss": 1.5, "train/em_estimate": 0.25, "epoch": 0}, step=4)
    logger.log_metrics({"train/d_loss": 1.25, "epoch": 0}, step=9)
    logger.log_metrics({"val/d_real": -0.5, "epoch": 0}, step=9)
    logger.save()
    for where in (tmp_path, tmp_path / "csv" / "metrics.csv"):
        logs = read_metrics_csv(where)
        assert set(logs) == {"train/d_loss", "train/em_estimate", "val/d_real"}
        assert_array_equal(logs["train/d_loss"][0], [4, 9])
        assert_array_equal(logs["train/d_loss"][1], [1.5, 1.25])
        assert_array_equal(logs["train/em_estimate"][0], [4])
        assert_array_equal(logs["val/d_real"][1], [-0.5])
    with pytest.raises(FileNotFoundError, match="logger=csv"):
        read_metrics_csv(tmp_path / "nothing")
