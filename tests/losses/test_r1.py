"""R1 (Mescheder et al. 2018, Eq. 9): (γ/2) E‖∇_x D(x)‖² on real data, the gradient with respect to the input."""

from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.testing import assert_close

from lit_gans.losses import Objective, minimax_discriminator_loss, r1_penalty
from lit_gans.models import GAN

TINY_D = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()


def tiny_d(x: Tensor) -> Tensor:
    return TINY_D(x).squeeze(1)


def finite_difference_grad_norms(critic: Any, x: Tensor, h: float = 1e-6) -> Tensor:
    """‖∇_x D(x_i)‖² of every sample by central differences, one input coordinate at a time."""
    grads = torch.zeros_like(x)
    with torch.no_grad():
        for j in range(x.shape[1]):
            step = torch.zeros_like(x)
            step[:, j] = h
            grads[:, j] = (critic(x + step) - critic(x - step)) / (2 * h)
    return grads.pow(2).sum(1)


def test_r1_matches_a_finite_difference_gradient_norm_on_a_tiny_discriminator() -> None:
    torch.manual_seed(0)
    x = torch.randn(5, 3, dtype=torch.float64)
    assert_close(r1_penalty(tiny_d, x), finite_difference_grad_norms(tiny_d, x).mean(), rtol=1e-6, atol=1e-9)


def test_r1_is_the_input_gradient_not_the_parameter_gradient() -> None:
    """A linear D(x) = w·x + b: ‖∇_x D‖² = ‖w‖² for every x (the parameter gradient, (x, 1), would depend on x)."""
    w = torch.tensor([1.0, -2.0, 2.0], dtype=torch.float64)
    x = torch.randn(7, 3, dtype=torch.float64) * 10
    assert_close(r1_penalty(lambda v: v @ w + 5.0, x), torch.tensor(9.0, dtype=torch.float64))


def test_r1_trains_the_discriminator_through_double_backprop() -> None:
    """create_graph: the penalty has a gradient in D's weights (and hidden bias); the output bias shifts D(x) without
    changing ∇_x D, so its gradient is zero; x itself gets none (it is detached)."""
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    TINY_D.zero_grad()
    r1_penalty(tiny_d, x).backward()
    *moved, out_bias = TINY_D.parameters()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in moved)
    assert out_bias.grad is None or not out_bias.grad.any()
    assert x.grad is None


def test_r1_on_images_sums_over_every_input_dimension() -> None:
    """(B, C, H, W): D(x) = Σ x² / 2 has ∇_x D = x, so the penalty is the mean of ‖x_i‖²."""
    x = torch.randn(3, 1, 2, 2, dtype=torch.float64)
    assert_close(r1_penalty(lambda v: 0.5 * v.pow(2).flatten(1).sum(1), x), x.flatten(1).pow(2).sum(1).mean())


NS_R1 = {"name": "non_saturating_r1", "discriminator": "lit_gans.losses.minimax_discriminator_loss",
         "generator": "lit_gans.losses.non_saturating_generator_loss", "r1_gamma": 10.0, "logits": True}
TOY = dict(generator={"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [3], "hidden": [8],
                      "output_activation": "none"},
           discriminator={"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [3], "hidden": [8]},
           optimizer_g={"_target_": "torch.optim.Adam", "_partial_": True},
           optimizer_d={"_target_": "torch.optim.Adam", "_partial_": True}, latent_dim=4)


def test_any_gan_takes_r1_as_a_loss_option_and_adds_gamma_half_of_it_to_d_loss() -> None:
    torch.manual_seed(0)
    model = GAN(loss=NS_R1, **TOY).double()
    real, fake = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    loss, logs = model.discriminator_loss(real, fake)
    d_real, d_fake = model.d_scores(real), model.d_scores(fake)
    r1 = r1_penalty(model.discriminator, real)
    assert_close(logs["train/r1_penalty"], r1)
    assert_close(loss, minimax_discriminator_loss(d_real, d_fake) + 5.0 * r1)  # γ/2 = 5
    assert_close(r1, finite_difference_grad_norms(model.discriminator, real).mean(), rtol=1e-5, atol=1e-8)
    _, g_logs = model.generator_loss(real, fake)  # G's loss carries no penalty
    assert "train/r1_penalty" not in g_logs


def test_r1_config_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="r1_gamma"):
        Objective.from_config({**NS_R1, "r1_gamma": -1.0})
    bn = {**TOY, "discriminator": {"_target_": "lit_gans.networks.DCGANDiscriminator", "in_shape": [1, 28, 28]}}
    with pytest.raises(ValueError, match="BatchNorm"):
        GAN(loss=NS_R1, **bn)
    assert Objective.from_config(NS_R1).behaviour() != Objective.from_config({**NS_R1, "r1_gamma": 0.0}).behaviour()


@pytest.mark.parametrize("model", ["bigan", "cgan", "ebgan", "pix2pix"])
def test_models_whose_d_loss_has_no_place_for_r1_refuse_it(compose_cfg: Any, model: str) -> None:
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    data = "mnist_edges" if model == "pix2pix" else "mnist"
    with pytest.raises(InstantiationException, match="loss.r1_gamma=0"):
        instantiate(compose_cfg(f"model={model}", f"data={data}", "loss.r1_gamma=10").model, _recursive_=False)
