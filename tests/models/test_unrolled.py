"""Unrolled GAN: K = 0 is the plain GAN, the second-order term matters, the real D and its BatchNorm
statistics are untouched, and the inner updates repeat torch's SGD and Adam exactly."""

import copy
from typing import Any

import pytest
import torch
from torch.testing import assert_close

from lit_gans.models import GAN, UnrolledGAN

TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 3, "out_shape": [2], "hidden": [16], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [16], "activation": "tanh"}
CONV_G = {"_target_": "lit_gans.networks.DCGANGenerator", "latent_dim": 3, "out_shape": [1, 28, 28], "base_channels": 4}
CONV_D = {"_target_": "lit_gans.networks.DCGANDiscriminator", "in_shape": [1, 28, 28], "base_channels": 4}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.05, "betas": [0.5, 0.999]}
SGD = {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.1, "momentum": 0.9, "nesterov": True}


def unrolled(**overrides: Any) -> UnrolledGAN:
    torch.manual_seed(0)
    kw = dict(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=3)
    return UnrolledGAN(**{**kw, **overrides})


def batch(model: UnrolledGAN, n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    shape = model.generator.out_shape
    return torch.randn(n, *shape) + 1.0, torch.randn(n, 3)


def d_optimizer(model: UnrolledGAN, warm_steps: int = 2) -> torch.optim.Optimizer:
    """D's optimizer after a few real steps (so Adam's moments / SGD's momentum are non-trivial)."""
    opt = model.configure_optimizers()[1]
    real, z = batch(model)
    for _ in range(warm_steps):
        opt.zero_grad()
        loss, _ = model.discriminator_loss(real, model.generator(z).detach())
        loss.backward()
        opt.step()
    return opt


def generator_grads(model: UnrolledGAN, opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    real, z = batch(model)
    loss, _ = model.unrolled_generator_loss(real, model.generator(z), opt)
    return list(torch.autograd.grad(loss, list(model.generator.parameters())))


def test_zero_unroll_steps_is_the_plain_gan() -> None:
    model = unrolled(unroll_steps=0)
    opt = d_optimizer(model)
    real, z = batch(model)
    plain, _ = GAN.generator_loss(model, real, model.generator(z))
    expected = torch.autograd.grad(plain, list(model.generator.parameters()))
    for got, want in zip(generator_grads(model, opt), expected):
        assert_close(got, want)


def test_second_order_term_changes_the_generator_gradient() -> None:
    full, first = unrolled(unroll_steps=3), unrolled(unroll_steps=3, unroll_second_order=False)
    full_grads = generator_grads(full, d_optimizer(full))
    first_grads = generator_grads(first, d_optimizer(first))
    assert all(torch.isfinite(g).all() for g in full_grads)
    difference = sum((a - b).norm() for a, b in zip(full_grads, first_grads))
    assert difference > 1e-3 * sum(b.norm() for b in first_grads)


@pytest.mark.parametrize("optimizer", [ADAM, SGD], ids=["adam", "sgd"])
def test_inner_updates_repeat_the_real_optimizer(optimizer: dict) -> None:
    """Without the second-order term, θ_D^K equals K steps of the real torch optimizer on a copy of D
    (same batch, same G samples), starting from the optimizer's current state."""
    model = unrolled(unroll_steps=3, unroll_second_order=False, optimizer_d=optimizer)
    opt = d_optimizer(model)
    real, z = batch(model)
    fake = model.generator(z).detach()
    params, _ = model.unroll(real, fake, opt)

    reference = copy.deepcopy(model)
    ref_opt = type(opt)(reference.discriminator.parameters(), **{k: v for k, v in opt.defaults.items()})
    ref_opt.load_state_dict(opt.state_dict())
    for _ in range(3):
        ref_opt.zero_grad()
        loss, _ = reference.discriminator_loss(real, fake)
        loss.backward()
        ref_opt.step()
    for name, p in reference.discriminator.named_parameters():
        assert_close(params[name], p, rtol=1e-5, atol=1e-6)


def test_unrolling_leaves_the_real_discriminator_and_its_batchnorm_statistics_alone() -> None:
    model = unrolled(generator=CONV_G, discriminator=CONV_D, unroll_steps=2)
    opt = d_optimizer(model, warm_steps=1)
    before = copy.deepcopy(model.discriminator.state_dict())
    moments = {k: v.clone() for k, v in opt.state[next(model.discriminator.parameters())].items()}
    grads = generator_grads(model, opt)
    assert any(g.abs().sum() > 0 for g in grads)
    for name, value in model.discriminator.state_dict().items():  # parameters and running_mean / var / count
        assert torch.equal(value, before[name]), name
    for key, value in opt.state[next(model.discriminator.parameters())].items():
        assert torch.equal(value, moments[key]), key


def test_refusals() -> None:
    with pytest.raises(ValueError, match="unroll_steps must be >= 0"):
        unrolled(unroll_steps=-1)
    with pytest.raises(ValueError, match="supported"):
        unrolled(optimizer_d={"_target_": "torch.optim.RMSprop", "_partial_": True, "lr": 1e-3})


MINIMAX = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.minimax_generator_loss"}
PLAIN_SGD = {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.5}


def test_saddle_objective_is_minus_the_discriminator_loss_after_k_sgd_steps_by_hand() -> None:
    """Eq. (5)-(6) with plain SGD, K = 2, written out: θ1 = θ0 − η∇L_D(θ0), θ2 = θ1 − η∇L_D(θ1) and
    f_K = −L_D(θ2) = E log D_θ2(x) + E log(1 − D_θ2(G(z))), real-data term included; value and G's gradient."""
    model = unrolled(loss=MINIMAX, optimizer_d=PLAIN_SGD, unroll_steps=2)
    assert model.saddle  # "auto" with the minimax loss
    opt = model.configure_optimizers()[1]
    real, z = batch(model)

    def d_loss(theta: dict, fake: torch.Tensor) -> torch.Tensor:
        d_real = torch.func.functional_call(model.discriminator, theta, (real,))
        d_fake = torch.func.functional_call(model.discriminator, theta, (fake,))
        return torch.nn.functional.softplus(-d_real).mean() + torch.nn.functional.softplus(d_fake).mean()

    fake = model.generator(z)
    theta = dict(model.discriminator.named_parameters())
    for _ in range(2):
        grads = torch.autograd.grad(d_loss(theta, fake), list(theta.values()), create_graph=True)
        theta = {n: p - 0.5 * g for (n, p), g in zip(theta.items(), grads)}
    by_hand = -d_loss(theta, fake)
    want = torch.autograd.grad(by_hand, list(model.generator.parameters()))

    got_loss, _ = model.unrolled_generator_loss(real, model.generator(z), opt)
    assert_close(got_loss, by_hand)
    for got, w in zip(torch.autograd.grad(got_loss, list(model.generator.parameters())), want):
        assert_close(got, w)


def test_the_real_data_term_reaches_the_generator_only_through_the_unrolled_discriminator() -> None:
    # K = 0: E log D(x) does not depend on θ_G, so the saddle's G gradient is the plain minimax one ...
    k0 = unrolled(loss=MINIMAX, unroll_steps=0)
    opt = d_optimizer(k0)
    real, z = batch(k0)
    plain, _ = GAN.generator_loss(k0, real, k0.generator(z))
    for got, want in zip(generator_grads(k0, opt),
                         torch.autograd.grad(plain, list(k0.generator.parameters()))):
        assert_close(got, want)
    # ... with K > 0 it does: the saddle differs from G's own loss at θ_D^K.
    saddle, own = unrolled(loss=MINIMAX, unroll_steps=3), unrolled(loss=MINIMAX, unroll_steps=3, unroll_objective="generator")
    assert saddle.saddle and not own.saddle
    a, b = generator_grads(saddle, d_optimizer(saddle)), generator_grads(own, d_optimizer(own))
    assert sum((x - y).norm() for x, y in zip(a, b)) > 1e-3 * sum(y.norm() for y in b)


def test_unroll_objective_choices() -> None:
    assert not unrolled().saddle  # non-saturating: no value function, G's own loss
    assert unrolled(unroll_objective="saddle").saddle
    with pytest.raises(ValueError, match="Unknown unroll_objective 'value'"):
        unrolled(unroll_objective="value")
    with pytest.raises(ValueError, match="unroll_objective=generator with feature matching"):
        unrolled(loss=MINIMAX, feature_matching="net.1")
