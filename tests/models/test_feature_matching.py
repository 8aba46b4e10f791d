"""Feature matching (Salimans et al. 2016, Section 3.1): the loss equals the formula on a toy D, only G
gets its gradient, and it is refused where it cannot apply."""

from typing import Any

import pytest
import torch
from torch.testing import assert_close

from lit_gans.models import GAN, InfoGAN, UnrolledGAN

TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 3, "out_shape": [2], "hidden": [8], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [6, 4], "activation": "tanh"}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}


def kwargs(**overrides: Any) -> dict[str, Any]:
    return {**dict(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=3), **overrides}


def test_feature_matching_loss_is_the_squared_distance_of_mean_features() -> None:
    torch.manual_seed(0)
    model = GAN(**kwargs(feature_matching="net.2"))  # Flatten, Linear(2, 6), Tanh: the first hidden activations
    real, fake = torch.randn(16, 2) + 2, model.generator(torch.randn(16, 3))
    first_layer = model.discriminator.net[:3]
    expected = (first_layer(real).mean(0) - first_layer(fake).mean(0)).pow(2).sum()
    loss, logs = model.generator_loss(real, fake)
    assert_close(loss, expected)
    assert_close(logs["train/feature_matching"], expected)
    g_grads = torch.autograd.grad(loss, list(model.generator.parameters()), retain_graph=True)
    assert all(g.abs().sum() > 0 for g in g_grads)
    # the real half is a constant target: no graph through D on real data
    assert loss.grad_fn is not None and not real.requires_grad


def test_feature_matching_pulls_generated_features_toward_the_data() -> None:
    torch.manual_seed(0)
    model = GAN(**kwargs(feature_matching="net.2"))
    opt = torch.optim.Adam(model.generator.parameters(), lr=1e-2)
    real = torch.randn(256, 2) * 0.3 + torch.tensor([2.0, -1.0])
    first, _ = model.generator_loss(real, model.generator(torch.randn(256, 3)))
    for _ in range(200):
        loss, _ = model.generator_loss(real, model.generator(torch.randn(256, 3)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss < 0.05 * first


def test_unrolled_gan_matches_features_of_the_unrolled_discriminator() -> None:
    torch.manual_seed(0)
    model = UnrolledGAN(**kwargs(feature_matching="net.2", unroll_steps=2))
    opt = model.configure_optimizers()[1]
    real, fake = torch.randn(16, 2) + 2, model.generator(torch.randn(16, 3))
    unrolled, _ = model.unrolled_generator_loss(real, fake, opt)
    plain, _ = GAN.generator_loss(model, real, fake)  # the current D's features
    assert torch.isfinite(unrolled) and not torch.allclose(unrolled, plain)


def test_feature_matching_refusals() -> None:
    with pytest.raises(ValueError, match="not a layer of the discriminator; choose one of"):
        GAN(**kwargs(feature_matching="net.99"))
    infogan_g = {**TOY_G}
    with pytest.raises(ValueError, match="generator loss of its own"):
        InfoGAN(**kwargs(generator=infogan_g, feature_matching="net.2", categorical_codes=[2], continuous_codes=0))
