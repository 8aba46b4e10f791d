"""Mode coverage against hand-counted cases and the real toy distributions."""

import math

import torch
from torch.testing import assert_close

from lit_gans.data import Grid, Ring
from lit_gans.metrics import mode_coverage
from lit_gans.metrics.modes import MixtureModes


def test_counts_on_a_hand_built_sample() -> None:
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    stds = torch.full((4,), 0.5)  # high quality: within 1.5 of a centre
    samples = torch.tensor(
        [[0.0, 1.4], [0.3, 0.0], [-1.0, 0.0],  # mode 0, all high quality
         [10.0, 1.49],                          # mode 1
         [0.0, 8.4],                            # nearest mode 2 but 1.6 away: low quality
         [5.0, 5.0]]                            # far from everything
    )
    r = mode_coverage(samples, centers, stds)
    assert r.counts.tolist() == [3, 1, 0, 0]
    assert r.modes_covered == 2
    assert r.high_quality_fraction == 4 / 6
    # q = (3/4, 1/4, 0, 0) vs p = 1/4 each: KL = 3/4 log 3 + 1/4 log 1
    assert_close(r.reverse_kl, 0.75 * math.log(3.0))
    assert mode_coverage(samples, centers, stds, min_count=2).modes_covered == 1


def test_real_samples_cover_every_mode_with_about_997_permille_quality() -> None:
    gen = torch.Generator().manual_seed(0)
    for dist, k in ((Ring(), 8), (Grid(), 25)):
        x, _ = dist.sample(20_000, gen)
        r = mode_coverage(x, dist.centers, dist.stds, dist.weights)
        assert r.modes_covered == k
        # P(‖N(0, I₂)‖ <= 3) = 1 - exp(-9/2) ≈ 0.9889 in 2-D
        assert abs(r.high_quality_fraction - (1 - math.exp(-4.5))) < 0.005
        assert r.reverse_kl < 0.01


def test_a_collapsed_generator_scores_one_mode_and_log_k() -> None:
    ring = Ring()
    collapsed = ring.centers[3] + 0.01 * torch.randn(500, 2, generator=torch.Generator().manual_seed(0))
    r = mode_coverage(collapsed, ring.centers, ring.stds)
    assert r.modes_covered == 1 and r.high_quality_fraction == 1.0
    assert_close(r.reverse_kl, math.log(8))
    assert mode_coverage(torch.full((5, 2), 50.0), ring.centers, ring.stds).reverse_kl == math.inf


def test_the_synced_metric_equals_mode_coverage_over_any_batching() -> None:
    ring = Ring()
    gen = torch.Generator().manual_seed(5)
    samples = torch.cat([ring.sample(900, gen)[0], torch.randn(100, 2, generator=gen)])  # some low quality
    metric = MixtureModes(ring.centers, ring.stds, min_count=20)
    for chunk in samples.split(333):
        metric.update(chunk)
    direct = mode_coverage(samples, ring.centers, ring.stds, min_count=20)
    assert metric.compute() == direct.as_dict()
    assert direct.as_dict()["modes_covered"] == 8 and 85.0 < direct.as_dict()["high_quality_pct"] < 91.0
