"""Cramér GAN losses: hand-computed values, sign conventions, the energy distance they estimate
(against scipy), and the penalty on the surrogate critic f."""

import math

import pytest
import torch
from scipy.stats import energy_distance
from torch.testing import assert_close

from lit_gans.losses.cramer import (
    cramer_critic_loss,
    cramer_gradient_penalty,
    cramer_surrogate,
    energy_distance_estimate,
    energy_distance_generator_loss,
)

R2 = math.sqrt(2.0)


def t(*rows: tuple[float, ...]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


# features (B=2, K=2) of x_r, x_g, x'_g
H_REAL, H_FAKE, H_FAKE2 = t((3.0, 4.0), (0.0, 0.0)), t((0.0, 0.0), (1.0, 0.0)), t((0.0, 4.0), (0.0, 1.0))


def test_surrogate_critic_values() -> None:
    # f(x) = ‖h(x) − h(x'_g)‖ − ‖h(x)‖
    # real: ‖(3, 0)‖ − 5 = −2, ‖(0, −1)‖ − 0 = 1; fake: ‖(0, −4)‖ − 0 = 4, ‖(1, −1)‖ − 1
    assert_close(cramer_surrogate(H_REAL, H_FAKE2), torch.tensor([-2.0, 1.0], dtype=torch.float64))
    assert_close(cramer_surrogate(H_FAKE, H_FAKE2), torch.tensor([4.0, R2 - 1], dtype=torch.float64))


def test_critic_and_generator_loss_values() -> None:
    # −L_surrogate = E f(x_g) − E f(x_r) = (3 + √2)/2 − (−1/2)
    assert_close(cramer_critic_loss(H_REAL, H_FAKE, H_FAKE2), torch.tensor(2 + R2 / 2, dtype=torch.float64))
    # L_g rows: 5 + 3 − 4 = 4 and 1 + 1 − √2
    assert_close(energy_distance_generator_loss(H_REAL, H_FAKE, H_FAKE2), torch.tensor(3 - R2 / 2, dtype=torch.float64))
    # the logged estimate subtracts the real-real term on distinct pairs: ‖(3, 4) − (0, 0)‖ = 5 both ways
    assert_close(energy_distance_estimate(H_REAL, H_FAKE, H_FAKE2), torch.tensor(3 - R2 / 2 - 5, dtype=torch.float64))


def test_losses_refuse_scalar_scores() -> None:
    with pytest.raises(AssertionError, match=r"features \(B, K\)"):
        energy_distance_generator_loss(torch.zeros(4), torch.zeros(4), torch.zeros(4))


def test_a_better_critic_lowers_its_loss() -> None:
    """Real data at +2, fakes at −2 (1-D): the identity critic separates them, a constant one does not."""
    real, fake, fake2 = torch.full((4, 1), 2.0), torch.full((4, 1), -2.0), torch.full((4, 1), -2.0)
    separating = cramer_critic_loss(real, fake, fake2)  # f_r = 4 − 2, f_g = 0 − 2: −(2 − (−2))
    blind = cramer_critic_loss(0 * real, 0 * fake, 0 * fake2)
    assert_close(separating, torch.tensor(-4.0))
    assert_close(blind, torch.tensor(0.0))


def test_generator_loss_drops_as_fakes_approach_the_data() -> None:
    real = t((2.0,), (2.5,))
    far = energy_distance_generator_loss(real, t((0.0,), (0.5,)), t((0.5,), (0.0,)))  # rows 2+1.5−.5, 2+2.5−.5
    near = energy_distance_generator_loss(real, t((1.5,), (2.0,)), t((2.0,), (1.5,)))  # rows .5+0−.5, .5+1−.5
    assert_close((far, near), (torch.tensor(3.5, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)))


def test_generator_loss_is_unbiased_for_the_energy_distance_of_1d_point_sets() -> None:
    """h = identity, 1-D. Averaging L_g over *every* triple (x_r, x_g, x'_g) drawn independently from
    the empirical sets u, v, v gives its exact expectation 2E|X − Y| − E|Y − Y'|. Adding the real-real
    term E|X − X'| must give the energy distance, which scipy returns as its square root:
    scipy.stats.energy_distance(u, v) = (2E|X − Y| − E|X − X'| − E|Y − Y'|)^½ (Székely & Rizzo)."""
    u = torch.tensor([0.3, -1.2, 2.5, 0.9], dtype=torch.float64)
    v = torch.tensor([1.7, -0.4, 3.1], dtype=torch.float64)
    i, j, k = torch.cartesian_prod(torch.arange(4), torch.arange(3), torch.arange(3)).T
    expected_l_g = energy_distance_generator_loss(u[i, None], v[j, None], v[k, None])
    real_real = (u[:, None] - u[None, :]).abs().mean()
    assert_close(expected_l_g - real_real, torch.tensor(energy_distance(u.numpy(), v.numpy()) ** 2, dtype=torch.float64))


@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_logged_estimate_matches_scipy_on_a_large_batch(shift: float) -> None:
    """The logged estimate is unbiased for the energy distance itself: ~0 when G matches the data
    (while L_g is then ~E|X − X'| = 2/√π for N(0, 1)), scipy's value otherwise."""
    g = torch.Generator().manual_seed(0)
    n = 100_000
    real, fake, fake2 = (torch.randn(n, 1, generator=g, dtype=torch.float64) for _ in range(3))
    fake, fake2 = fake + shift, fake2 + shift
    target = energy_distance(real.squeeze(1).numpy(), fake.squeeze(1).numpy()) ** 2
    assert energy_distance_estimate(real, fake, fake2).item() == pytest.approx(target, abs=0.02)
    if shift == 0:
        assert energy_distance_generator_loss(real, fake, fake2).item() == pytest.approx(2 / math.sqrt(math.pi), abs=0.02)


def test_penalty_value_for_a_linear_critic() -> None:
    """h(x) = W x: ∇_x̂ f(x̂) = Wᵀ[(W x̂ − h(x'_g)) / ‖W x̂ − h(x'_g)‖ − W x̂ / ‖W x̂‖], by hand."""
    torch.manual_seed(0)
    W = torch.randn(3, 2, dtype=torch.float64)
    real, fake = torch.randn(5, 2, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    h_fake2 = torch.randn(5, 3, dtype=torch.float64)
    eps = torch.rand(5, dtype=torch.float64)
    x_hat = eps[:, None] * real + (1 - eps[:, None]) * fake
    a, b = x_hat @ W.T - h_fake2, x_hat @ W.T
    grad = (a / a.norm(dim=1, keepdim=True) - b / b.norm(dim=1, keepdim=True)) @ W  # (B, 2)
    expected = ((grad.norm(dim=1) - 1) ** 2).mean()
    assert_close(cramer_gradient_penalty(lambda x: x @ W.T, real, fake, h_fake2, eps=eps), expected)
    one_sided = ((grad.norm(dim=1) - 1).clamp(min=0) ** 2).mean()
    assert_close(cramer_gradient_penalty(lambda x: x @ W.T, real, fake, h_fake2, one_sided=True, eps=eps), one_sided)


def test_penalty_gradient_reaches_the_critic_also_through_the_reference_features() -> None:
    torch.manual_seed(0)
    h = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    real, fake, fake2 = torch.randn(6, 2), torch.randn(6, 2), torch.randn(6, 2)
    cramer_gradient_penalty(h, real, fake, h(fake2)).backward()
    attached = [p.grad.clone() for p in h.parameters()]
    assert all(g.abs().sum() > 0 for g in attached)  # every critic parameter gets a gradient
    h.zero_grad()
    cramer_gradient_penalty(h, real, fake, h(fake2).detach()).backward()
    # the path through h(x'_g) is part of ∂L_critic/∂θ_h: dropping it changes the gradient
    assert any(not torch.allclose(a, p.grad) for a, p in zip(attached, h.parameters()))
