"""Small helpers to analyse training curves and reproduce the WGAN paper's figures (Arjovsky et al. 2017).

* `median_filtered`: the median filter the paper passes its loss curves through (Figures 3, 4 and 8).
* `spearman`: rank correlation between a loss curve and a quality measure (does the loss track quality?).
* `parallel_lines_divergences`: the exact W, JS, KL and TV of Example 1, "learning parallel lines".
* `read_metrics_csv`: a run's ``csv/metrics.csv`` as ``{key: (steps, values)}``.

scipy is imported inside the functions that need it: it is a test (``dev``) dependency, and the rest of
the package must import without it.
"""

import csv
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray


def median_filtered(values: ArrayLike, window: int) -> NDArray[np.float64]:
    """Running median of a 1-D curve over a centred, odd ``window`` (WGAN paper, Figure 3: "the training
    curves were passed through a median filter"; the paper does not give the window).

    Uses ``scipy.ndimage.median_filter(mode="nearest")``: near the ends the window is padded by repeating
    the first / last value. ``scipy.signal.medfilt`` pads with zeros instead, which drags both ends of a
    loss curve towards 0 (a curve that starts at 1.5 would appear to start lower). The output has the
    input's length; ``window=1`` returns the values unchanged.

    >>> median_filtered([5.0, 1.0, 6.0], 3).tolist()  # ends: median(5, 5, 1) and median(1, 6, 6)
    [5.0, 5.0, 6.0]
    """
    from scipy.ndimage import median_filter

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"median_filtered takes a 1-D curve, got shape {values.shape}")
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd number (a centred median), got {window}")
    return median_filter(values, size=window, mode="nearest")


def spearman(a: ArrayLike, b: ArrayLike) -> tuple[float, float]:
    """Spearman's rank correlation ρ of two equally long series and its two-sided p-value
    (``scipy.stats.spearmanr``: ties get average ranks; p from a t-test with n - 2 degrees of freedom).

    >>> round(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])[0], 12)  # 1 - 6·Σd²/(n(n²-1)) = 1 - 6·4/120
    0.8
    """
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 3:
        raise ValueError(f"spearman needs two 1-D series of the same length >= 3, got {a.shape} and {b.shape}")
    result = spearmanr(a, b)
    return float(result.statistic), float(result.pvalue)


class Divergences(NamedTuple):
    """Distances between P_0 and P_θ (floats for a scalar θ, arrays for an array of θ)."""

    w: NDArray[np.float64] | float  # Earth-Mover (Wasserstein-1)
    js: NDArray[np.float64] | float  # Jensen-Shannon, with the ½ (so at most log 2)
    kl: NDArray[np.float64] | float  # KL(P_θ‖P_0) = KL(P_0‖P_θ)
    tv: NDArray[np.float64] | float  # total variation δ = sup_A |P_0(A) - P_θ(A)|


def parallel_lines_divergences(theta: ArrayLike) -> Divergences:
    """The exact distances of the WGAN paper's Example 1 between P_0 = law of (0, Z) and P_θ = law of (θ, Z),
    Z ~ U[0, 1]: W = |θ|; JS = log 2, KL = +∞ and TV = 1 when θ ≠ 0, and all are 0 at θ = 0.

    Only W is continuous in θ (Figure 1). The paper's Section 2 writes JS = KL(P_r‖P_m) + KL(P_g‖P_m)
    without the ½, which would give 2·log 2 here; Example 1's log 2, and the bound ½·V(D, G) + log 2 the
    GAN discriminator estimates (`lit_gans.losses.js_divergence_estimate`), are the usual JS with the ½.

    >>> parallel_lines_divergences(-0.5)
    Divergences(w=0.5, js=0.6931471805599453, kl=inf, tv=1.0)
    """
    t = np.asarray(theta, dtype=np.float64)
    apart = t != 0  # disjoint supports: two parallel segments
    zero, one = np.zeros_like(t), np.ones_like(t)
    out = Divergences(np.abs(t), np.where(apart, math.log(2.0), zero), np.where(apart, math.inf, zero), np.where(apart, one, zero))
    return Divergences(*(float(v) for v in out)) if t.ndim == 0 else out


def read_metrics_csv(run: str | Path) -> dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]]:
    """A run's logged values as ``{key: (steps, values)}``, in file order.

    ``run`` is a run folder (reads ``<run>/csv/metrics.csv``, where ``logger=csv`` writes) or the csv file.
    Lightning's ``CSVLogger`` writes one row per logging call with a column for every key ever logged, so
    most cells are empty: each key keeps only the rows where it has a value. ``step`` is Lightning's
    ``global_step`` (optimizer steps: n_critic + 1 per generator step); the ``epoch`` column is dropped.
    """
    path = Path(run)
    if path.is_dir():
        path = path / "csv" / "metrics.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no metrics csv at {path} (train with logger=csv)")
    columns: dict[str, tuple[list[int], list[float]]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            step = int(row["step"])
            for key, cell in row.items():
                if key in ("step", "epoch") or cell in ("", None):
                    continue
                steps, values = columns.setdefault(key, ([], []))
                steps.append(step)
                values.append(float(cell))
    return {key: (np.asarray(s, dtype=np.int64), np.asarray(v, dtype=np.float64)) for key, (s, v) in columns.items()}
