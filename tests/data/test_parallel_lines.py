"""The WGAN paper's Example 1 pieces: the data P_θ = law of (θ, Z), Z ~ U[0, 1], and g_θ(z) = (θ, z)."""

import pytest
import torch
from torch.testing import assert_close

from lit_gans.data import ToyDataModule
from lit_gans.data.toy import ParallelLine
from lit_gans.networks.shift import ParallelLineGenerator


def test_parallel_line_samples_lie_on_the_segment_uniformly() -> None:
    n = 40_000
    points, components = ParallelLine(theta=-0.5).sample(n, torch.Generator().manual_seed(0))
    assert points.shape == (n, 2) and points.dtype == torch.float32
    assert torch.equal(points[:, 0], torch.full((n,), -0.5))  # exactly on the vertical line x = θ
    height = points[:, 1]
    assert 0 <= height.min() and height.max() < 1
    # U[0, 1]: mean 1/2 and variance 1/12 (standard errors ~0.0015 and ~0.0007 for 40k draws)
    assert abs(height.mean() - 0.5) < 0.006 and abs(height.var() - 1 / 12) < 0.003
    assert (torch.histc(height, bins=4, min=0, max=1) > 0.24 * n).all()  # no empty quarter
    assert torch.equal(components, torch.zeros(n, dtype=torch.int64))


def test_parallel_line_is_reproducible_and_served_by_the_toy_datamodule() -> None:
    a, _ = ParallelLine().sample(100, torch.Generator().manual_seed(3))
    b, _ = ParallelLine().sample(100, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and torch.equal(a[:, 0], torch.zeros(100))  # P_0 by default
    dm = ToyDataModule(ParallelLine(), num_samples=256, batch_size=64, num_val_samples=64)
    assert dm.shape == (2,) and dm.num_classes == 1
    dm.setup("fit")
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (64, 2) and torch.equal(x[:, 0], torch.zeros(64)) and torch.equal(y, torch.zeros(64, dtype=torch.int64))


def test_generator_is_a_shift_of_the_line_by_theta() -> None:
    g = ParallelLineGenerator(theta=0.75)
    assert [name for name, _ in g.named_parameters()] == ["theta"]  # θ is its only parameter
    z = torch.tensor([[-1.0], [0.0], [0.5], [1.0]])  # the uniform prior's range [-1, 1] ...
    assert_close(g(z), torch.tensor([[0.75, 0.0], [0.75, 0.5], [0.75, 0.75], [0.75, 1.0]]))  # ... onto [0, 1]
    g(z).sum().backward()
    assert_close(g.theta.grad, torch.tensor(4.0))  # each of the 4 points moves one-for-one with θ


def test_generator_samples_have_the_law_of_parallel_line() -> None:
    gen = torch.Generator().manual_seed(0)
    fake = ParallelLineGenerator(theta=0.3)(torch.rand(50_000, 1, generator=gen) * 2 - 1)  # z ~ U[-1, 1]
    real, _ = ParallelLine(theta=0.3).sample(50_000, gen)
    quantiles = torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9])
    assert_close(fake[:, 1].quantile(quantiles), real[:, 1].quantile(quantiles), atol=0.01, rtol=0)
    assert_close(fake[:, 1].quantile(quantiles), quantiles, atol=0.01, rtol=0)
    assert torch.equal(fake[:, 0], real[:, 0])


def test_generator_names_the_fix_for_a_wrong_latent_size() -> None:
    with pytest.raises(ValueError, match="model.latent_dim=1"):
        ParallelLineGenerator(latent_dim=100, out_shape=(2,))
    with pytest.raises(ValueError, match="data=parallel_lines"):
        ParallelLineGenerator(latent_dim=1, out_shape=(1,))
