"""Loss functions against hand-computed values."""

import math

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from torch.testing import assert_close

from helpers import CONF, t
from lit_gans.losses import (
    Objective,
    em_estimate,
    gradient_penalty,
    js_divergence_estimate,
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

LN3 = math.log(3.0)  # a logit of ln 3 is D = sigmoid(ln 3) = 3/4


def test_minimax_discriminator_loss_is_binary_cross_entropy() -> None:
    # D(x) = 1/2, 3/4 on real; D(G(z)) = 1/2, 1/4 on fake:
    # -mean log D(x) - mean log(1 - D(G(z))) = 2 * (ln 2 + ln 4/3) / 2 = ln 8/3
    loss = minimax_discriminator_loss(t(0.0, LN3), t(0.0, -LN3))
    assert_close(loss, torch.tensor(math.log(8 / 3), dtype=torch.float64))


def test_generator_losses() -> None:
    d_fake = t(LN3)  # D(G(z)) = 3/4
    assert_close(minimax_generator_loss(d_fake), torch.tensor(math.log(1 / 4), dtype=torch.float64))
    assert_close(non_saturating_generator_loss(d_fake), torch.tensor(math.log(4 / 3), dtype=torch.float64))


def test_gan_losses_stay_finite_for_confident_discriminators() -> None:
    d = t(-200.0, 200.0)
    for value in (minimax_discriminator_loss(d, d), minimax_generator_loss(d), non_saturating_generator_loss(d)):
        assert torch.isfinite(value)


def test_non_saturating_gradient_does_not_vanish_when_d_rejects_fakes() -> None:
    # The reason for the -log D trick (Goodfellow et al. 2014, Section 3).
    d_fake = torch.tensor([-10.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(minimax_generator_loss(d_fake), d_fake)
    (g_ns,) = torch.autograd.grad(non_saturating_generator_loss(d_fake), d_fake)
    assert g_mm.abs() < 1e-4 < 0.99 < g_ns.abs()


def test_js_estimate_is_zero_for_an_undecided_discriminator_and_log2_for_a_perfect_one() -> None:
    assert_close(js_divergence_estimate(t(0.0, 0.0), t(0.0, 0.0)), torch.tensor(0.0, dtype=torch.float64))
    assert_close(js_divergence_estimate(t(50.0), t(-50.0)), torch.tensor(math.log(2), dtype=torch.float64))


def test_wasserstein_losses() -> None:
    real, fake = t(1.0, 2.0, 3.0), t(0.0, -1.0)
    assert_close(wasserstein_critic_loss(real, fake), torch.tensor(-2.5, dtype=torch.float64))
    assert_close(em_estimate(real, fake), torch.tensor(2.5, dtype=torch.float64))
    assert_close(wasserstein_generator_loss(fake), torch.tensor(0.5, dtype=torch.float64))


class LinearCritic(nn.Module):
    """f(x) = <w, x>: its gradient norm is ‖w‖ everywhere."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) * self.w).sum(1)


@pytest.mark.parametrize("norm, two_sided, one_sided", [(3.0, 4.0, 4.0), (0.5, 0.25, 0.0), (1.0, 0.0, 0.0)])
def test_gradient_penalty_on_a_critic_with_known_gradient_norm(norm: float, two_sided: float, one_sided: float) -> None:
    w = torch.zeros(1, 2, 2, dtype=torch.float64)
    w[0, 0, 0] = norm
    critic = LinearCritic(w.flatten())
    real, fake = torch.randn(8, 1, 2, 2, dtype=torch.float64), torch.randn(8, 1, 2, 2, dtype=torch.float64)
    assert_close(gradient_penalty(critic, real, fake), torch.tensor(two_sided, dtype=torch.float64))
    assert_close(gradient_penalty(critic, real, fake, one_sided=True), torch.tensor(one_sided, dtype=torch.float64))


def test_gradient_penalty_interpolates_and_is_differentiable_in_the_critic() -> None:
    # f(x) = ½‖x‖² has ∇f(x̂) = x̂, so with ε fixed the penalty is mean((‖x̂‖ - 1)²).
    real = torch.tensor([[3.0, 4.0], [0.0, 2.0]], dtype=torch.float64)
    fake = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    eps = torch.tensor([0.5, 0.25], dtype=torch.float64)
    x_hat = torch.tensor([[2.0, 2.0], [0.0, 0.5]], dtype=torch.float64)
    expected = ((x_hat.norm(dim=1) - 1) ** 2).mean()
    assert_close(gradient_penalty(lambda x: 0.5 * (x**2).sum(1), real, fake, eps=eps), expected)

    # d/dw (‖w‖ - 1)² = 2(‖w‖ - 1) w / ‖w‖ reaches the critic's parameters (create_graph=True).
    critic = LinearCritic(torch.tensor([3.0, 4.0], dtype=torch.float64))
    gradient_penalty(critic, real, fake).backward()
    assert_close(critic.w.grad, 2 * (5 - 1) * torch.tensor([3.0, 4.0], dtype=torch.float64) / 5)


def test_objective_from_config_resolves_functions_and_rejects_typos() -> None:
    obj = Objective.from_config(
        {
            "name": "x",
            "discriminator": "lit_gans.losses.minimax_discriminator_loss",
            "generator": {"_target_": "lit_gans.losses.non_saturating_generator_loss"},
        }
    )
    assert obj.discriminator is minimax_discriminator_loss
    assert_close(obj.generator(t(LN3)), non_saturating_generator_loss(t(LN3)))
    with pytest.raises(ValueError, match="gp_wieght"):
        Objective.from_config({"discriminator": "a.b", "generator": "a.b", "gp_wieght": 1})


def test_objective_behaviour_ignores_spelling_but_not_maths() -> None:
    """A loss config that moved a function default into ``params`` still describes the same objective
    (so checkpoints written before keep resuming); a changed value does not."""
    old = {"name": "non_saturating", "discriminator": "lit_gans.losses.minimax_discriminator_loss",
           "generator": "lit_gans.losses.non_saturating_generator_loss", "logits": True}
    new = {**old, "params": {"real_label": 1.0},
           "discriminator": {"_target_": "lit_gans.losses.minimax_discriminator_loss", "_partial_": True, "real_label": 1.0}}
    smoothed = {**new, "discriminator": {**new["discriminator"], "real_label": 0.9}}
    assert Objective.from_config(old).behaviour() == Objective.from_config(new).behaviour()
    assert Objective.from_config(old).behaviour() != Objective.from_config(smoothed).behaviour()
    assert Objective.from_config(old).behaviour() != Objective.from_config({**old, "gp_weight": 10.0}).behaviour()


@pytest.mark.parametrize("loss, zero_sum", [("minimax", True), ("wasserstein", True), ("wasserstein_gp", True),
                                            ("non_saturating", False), ("hinge", False), ("least_squares", False)])
def test_objective_zero_sum_names_the_games_with_one_value_function(loss: str, zero_sum: bool) -> None:
    """Unrolled GAN's G descends −L_D exactly for these (eq. (5)'s saddle objective)."""
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / "loss" / f"{loss}.yaml"), resolve=True)
    assert Objective.from_config(cfg).zero_sum is zero_sum
