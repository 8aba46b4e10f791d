import math

import pytest
import torch

from lit_gans.data import GaussianMixture1D, Grid, Ring, ToyDataModule

N = 20_000


def _samples(name: str, seed: int = 0, n: int = N) -> tuple[torch.Tensor, torch.Tensor]:
    dm = ToyDataModule(name, num_samples=n, seed=seed)
    dm.setup("fit")
    return dm.train_set.data, dm.train_set.labels


def test_ring8_centers_on_circle():
    ring = Ring()
    assert ring.centers.shape == (8, 2)
    torch.testing.assert_close(ring.centers.norm(dim=1), torch.full((8,), 2.0))
    angles = torch.atan2(ring.centers[:, 1], ring.centers[:, 0]).remainder(2 * math.pi)
    torch.testing.assert_close(angles, torch.arange(8) * (math.pi / 4))
    torch.testing.assert_close(ring.stds, torch.full((8,), 0.02))


def test_ring8_samples_per_component():
    ring = ToyDataModule("ring8").distribution
    x, k = _samples("ring8")
    assert x.shape == (N, 2) and x.dtype == torch.float32 and k.dtype == torch.int64
    assert set(k.tolist()) == set(range(8))
    for c in range(8):
        offsets = x[k == c] - ring.centers[c]
        assert abs(offsets.std(dim=0) - 0.02).max() < 0.002  # ~2500 draws: std error ~1.5 %
        assert offsets.mean(dim=0).abs().max() < 0.002
    counts = torch.bincount(k, minlength=8).float()
    assert (counts / N - 1 / 8).abs().max() < 0.015  # equal weights


def test_seed_reproducibility():
    a, ka = _samples("ring8", seed=3)
    b, kb = _samples("ring8", seed=3)
    c, _ = _samples("ring8", seed=4)
    assert torch.equal(a, b) and torch.equal(ka, kb)
    assert not torch.equal(a, c)


def test_grid25_centers_and_std():
    grid = Grid()
    expected = {(float(i), float(j)) for i in (-4, -2, 0, 2, 4) for j in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in grid.centers.tolist()} == expected and len(grid.centers) == 25
    x, k = _samples("grid25", n=50_000)
    assert set(k.tolist()) == set(range(25))
    offsets = x - grid.centers[k]
    assert abs(offsets.std() - 0.05) < 0.002


def test_mog1d_defaults_and_moments():
    dm = ToyDataModule("mog1d", num_samples=100_000)
    assert dm.shape == (1,) and dm.num_classes == 2
    dm.setup("fit")
    x = dm.train_set.data
    assert x.shape == (100_000, 1)
    mixture = dm.distribution
    # mean 0, variance 0.25 + 4 = 4.25 for the defaults
    torch.testing.assert_close(mixture.mean(), torch.tensor([0.0]))
    torch.testing.assert_close(mixture.variance(), torch.tensor([4.25]))
    assert abs(x.mean() - mixture.mean()) < 0.03  # std error sqrt(4.25/1e5) ~ 0.0065
    assert abs(x.var() - mixture.variance()) / mixture.variance() < 0.02


def test_mog1d_custom_mixture_moments():
    means, stds = torch.tensor([-1.0, 0.5, 3.0]), torch.tensor([0.1, 0.3, 1.0])
    mixture = GaussianMixture1D(means.tolist(), stds.tolist(), weights=[1, 2, 1])
    w = torch.tensor([0.25, 0.5, 0.25])  # weights are normalised
    mean = (w * means).sum()
    var = (w * (means**2 + stds**2)).sum() - mean**2
    torch.testing.assert_close(mixture.mean(), mean[None])
    torch.testing.assert_close(mixture.variance(), var[None])
    x, _ = mixture.sample(200_000, torch.Generator().manual_seed(0))
    assert abs(x.mean() - mean) < 0.02 and abs(x.var() - var) / var < 0.02


def test_datamodule_takes_distribution_object_and_shuffles():
    dm = ToyDataModule(Grid(side=3, spacing=1.0), num_samples=1000, batch_size=100)
    assert dm.shape == (2,) and dm.num_classes == 9
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert len(batches) == 10 and batches[0][0].shape == (100, 2)
    served = torch.cat([x for x, _ in batches])
    assert not torch.equal(served, dm.train_set.data)  # shuffled order
    torch.testing.assert_close(served.sort(dim=0).values, dm.train_set.data.sort(dim=0).values)


def test_unknown_name():
    with pytest.raises(ValueError, match="grid25.*mog1d.*ring8"):
        ToyDataModule("spiral")
