"""LSGAN and hinge losses: hand-computed values, sign conventions, LSGAN's optimal discriminator."""

import math

import pytest
import torch
from torch.testing import assert_close

from helpers import t
from lit_gans.losses import (
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
)


def test_least_squares_values() -> None:
    real, fake = t(1.0, 3.0), t(0.0, 2.0)
    # a, b = 0, 1: ½·mean(0, 4) + ½·mean(0, 4) = 2
    assert_close(least_squares_discriminator_loss(real, fake), t(2.0)[0])
    # a, b = −1, 1: ½·mean(0, 4) + ½·mean(1, 9) = 1 + 2.5
    assert_close(least_squares_discriminator_loss(real, fake, a=-1.0, b=1.0), t(3.5)[0])
    assert_close(least_squares_generator_loss(fake), t(0.5)[0])  # c = 1: ½·mean(1, 1)
    assert_close(least_squares_generator_loss(fake, c=0.0), t(1.0)[0])  # ½·mean(0, 4)


def test_least_squares_better_discriminator_lowers_its_loss_and_g_is_pulled_back() -> None:
    assert least_squares_discriminator_loss(t(0.9), t(0.1)) < least_squares_discriminator_loss(t(0.5), t(0.5))
    # a fake scored *beyond* the real target still gets a gradient back toward c (Mao et al., Section 3.1)
    d_fake = torch.tensor([3.0], requires_grad=True)
    (grad,) = torch.autograd.grad(least_squares_generator_loss(d_fake), d_fake)
    assert grad.item() == pytest.approx(2.0)  # d/dD ½(D − 1)² = D − 1


@pytest.mark.parametrize("a, b", [(0.0, 1.0), (-1.0, 1.0)])
def test_least_squares_optimal_discriminator_is_the_papers(a: float, b: float) -> None:
    """Eq. (4): for fixed G, D*(x) = (b p_data(x) + a p_g(x)) / (p_data(x) + p_g(x)). Minimise the loss
    over a free D value per point of a 3-point space, with samples in the proportions p_data, p_g."""
    p_data, p_g = t(0.5, 0.3, 0.2), t(0.1, 0.3, 0.6)
    real_idx = torch.repeat_interleave(torch.arange(3), (p_data * 10).long())  # 10 samples each
    fake_idx = torch.repeat_interleave(torch.arange(3), (p_g * 10).long())
    d = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([d], max_iter=100, tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = least_squares_discriminator_loss(d[real_idx], d[fake_idx], a=a, b=b)
        loss.backward()
        return loss

    opt.step(closure)
    assert_close(d.detach(), (b * p_data + a * p_g) / (p_data + p_g))


def test_hinge_values_and_margins() -> None:
    # real: relu(1 − 2) = 0, relu(1 − 0) = 1 → ½; fake: relu(1 − 3) = 0, relu(1 + 1) = 2 → 1
    assert_close(hinge_discriminator_loss(t(2.0, 0.0), t(-3.0, 1.0)), t(1.5)[0])
    assert_close(hinge_generator_loss(t(-3.0, 1.0)), t(1.0)[0])
    assert hinge_discriminator_loss(t(1.0, 5.0), t(-1.0, -7.0)) == 0  # every margin met: nothing to pay
    assert hinge_discriminator_loss(t(0.8), t(-0.8)) < hinge_discriminator_loss(t(0.0), t(0.0))


def test_hinge_ignores_samples_beyond_the_margin() -> None:
    d_real = torch.tensor([2.0, 0.5], requires_grad=True)
    d_fake = torch.tensor([-2.0, -0.5], requires_grad=True)
    g_real, g_fake = torch.autograd.grad(hinge_discriminator_loss(d_real, d_fake), (d_real, d_fake))
    assert_close(g_real, torch.tensor([0.0, -0.5]))  # only the real sample inside the margin pushes up
    assert_close(g_fake, torch.tensor([0.0, 0.5]))
    (g_gen,) = torch.autograd.grad(hinge_generator_loss(d_fake), d_fake)
    assert_close(g_gen, torch.tensor([-0.5, -0.5]))  # G is never saturated


def test_least_squares_targets_come_from_the_config(compose_cfg) -> None:  # noqa: ANN001
    from hydra.utils import instantiate

    cfg = compose_cfg("model=lsgan", "loss.params.a=-1", "loss.params.c=0")
    model = instantiate(cfg.model, _recursive_=False)
    assert model.objective.params == {"a": -1, "b": 1.0, "c": 0, "scale": 0.5}
    real, fake = t(1.0), t(-1.0)
    assert model.objective.discriminator(real, fake) == 0  # a = −1, b = 1 met exactly
    assert_close(model.objective.generator(fake), t(0.5)[0])  # c = 0: ½(−1)²


def test_least_squares_scale_gives_cyclegans_plain_squared_errors() -> None:
    real, fake = t(0.0, 1.0), t(1.0, 3.0)  # D: mean((x - 1)^2) = 0.5, mean(f^2) = 5; G: mean((f - 1)^2) = 2
    assert_close(least_squares_discriminator_loss(real, fake, scale=1.0), t(5.5)[0])
    assert_close(least_squares_discriminator_loss(real, fake), t(2.75)[0])  # eq. (2)'s ½
    assert_close(least_squares_generator_loss(fake, scale=1.0), t(2.0)[0])


def test_one_sided_label_smoothing() -> None:
    """Salimans et al. 2016, Section 3.4: real target α, fake target 0. With D(x) = 3/4, D(G(z)) = 1/4 and
    α = 0.9: −0.9 log 3/4 − 0.1 log 1/4 − log 3/4."""
    from lit_gans.losses import minimax_discriminator_loss

    ln3 = math.log(3.0)
    loss = minimax_discriminator_loss(t(ln3), t(-ln3), real_label=0.9)
    expected = -0.9 * math.log(0.75) - 0.1 * math.log(0.25) - math.log(0.75)
    assert_close(loss, t(expected)[0])
    assert_close(minimax_discriminator_loss(t(ln3), t(-ln3), real_label=1.0), t(-2 * math.log(0.75))[0])
    # the smoothed optimum for a real-only point is D(x) = α, not 1: the loss grows past it
    d = torch.tensor([math.log(0.9 / 0.1)], requires_grad=True)  # logit of 0.9
    (grad,) = torch.autograd.grad(minimax_discriminator_loss(d, torch.tensor([-50.0]), real_label=0.9), d)
    assert abs(grad.item()) < 1e-6


def test_label_smoothing_from_the_config(compose_cfg) -> None:  # noqa: ANN001
    from hydra.utils import instantiate

    model = instantiate(compose_cfg("model=dcgan", "loss.params.real_label=0.9").model, _recursive_=False)
    ln3 = math.log(3.0)
    expected = -0.9 * math.log(0.75) - 0.1 * math.log(0.25) - math.log(0.75)
    assert_close(model.objective.discriminator(t(ln3), t(-ln3)), t(expected)[0])
