"""Projection onto the manifold (Zhu et al. 2016, Section 3.1): optimisation, encoder P, hybrid."""

from pathlib import Path

import pytest
import torch

from igan_helpers import TINY_MLP, tiny_model
from lit_gans.manipulation import LatentSpace, encode, load_encoder, optimize, project, save_encoder, train_encoder
from lit_gans.manipulation.projection import encoder_loss


@pytest.fixture
def space(compose_cfg, one_thread) -> LatentSpace:
    return LatentSpace(tiny_model(compose_cfg, "model=gan", *TINY_MLP))


def test_optimisation_recovers_generated_images(space: LatentSpace) -> None:
    gen = torch.Generator().manual_seed(1)
    z_true = space.sample(3, generator=gen)
    with torch.no_grad():
        x = space(z_true)
    far = optimize(space, x, steps=0, restarts=1, generator=gen).mse  # a prior draw, no iterations: the floor
    for solver, steps in (("lbfgs", 60), ("adam", 300)):
        result = optimize(space, x, solver=solver, steps=steps, restarts=3, generator=gen)
        assert result.z.abs().max() <= 1.0  # in the prior's box
        assert result.mse.max() < 1e-4 and far.min() > 1e-2, (solver, result.mse, far)
        assert result.history[-1] < result.history[0]


def test_restarts_keep_the_best_start(space: LatentSpace) -> None:
    x = space(space.sample(2, generator=torch.Generator().manual_seed(2))).detach()
    one = optimize(space, x, steps=3, restarts=1, generator=torch.Generator().manual_seed(3))
    many = optimize(space, x, steps=3, restarts=6, generator=torch.Generator().manual_seed(3))
    assert (many.loss <= one.loss + 1e-7).all()  # the same first start plus five more: never worse


def test_the_encoder_learns_to_invert_g_and_the_hybrid_is_not_worse(space: LatentSpace, tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(4)
    x = space(space.sample(8, generator=gen)).detach()
    small = dict(channels=(8, 16), fc=64)  # P's shape at a tenth of its width: seconds on one thread
    untrained, _ = train_encoder(space, steps=0, **small)
    encoder, losses = train_encoder(space, steps=150, batch_size=32, lr=1e-3, seed=0, **small)
    assert sum(losses[-20:]) / 20 < 0.5 * sum(losses[:20]) / 20  # eq. (5) on fresh G(z) batches decreases
    before, after = encode(space, x, untrained).mse.mean(), encode(space, x, encoder).mse.mean()
    assert after < 0.5 * before, (before, after)
    net = project(space, x, "encoder", encoder)
    hybrid = project(space, x, "hybrid", encoder, steps=10, restarts=2, generator=gen)
    # L-BFGS with a Wolfe line search never raises the loss of its start, and P(x) is one of the starts
    assert (hybrid.mse <= net.mse + 1e-7).all()
    assert hybrid.mse.mean() < net.mse.mean()
    # P is stored as data and read back weights-only; a generator of another shape refuses it
    path = save_encoder(encoder, tmp_path / "p.pt", {"steps": 150})
    again = load_encoder(path, space)
    torch.testing.assert_close(encode(space, x, again).z, net.z)
    assert again.meta_saved["steps"] == 150
    assert set(torch.load(path, weights_only=True)) == {"state_dict", "meta"}


def test_encoder_loss_is_the_image_loss_of_g_p_g(space: LatentSpace) -> None:
    encoder, _ = train_encoder(space, steps=0, channels=(8, 16), fc=64)
    z = space.sample(4, generator=torch.Generator().manual_seed(5))
    x = space(z)
    expected = ((space(encoder.z(x)) - x) ** 2).flatten(1).mean(1).mean()
    torch.testing.assert_close(encoder_loss(space, encoder, z), expected)
    with_latent = encoder_loss(space, encoder, z, latent_weight=2.0)
    torch.testing.assert_close(with_latent, expected + 2.0 * ((encoder.z(x) - z) ** 2).mean())


def test_missing_encoder_and_bad_inputs_are_clear_errors(space: LatentSpace, compose_cfg, tmp_path: Path) -> None:
    x = torch.zeros(1, 1, 28, 28)
    with pytest.raises(ValueError, match="method=hybrid needs the encoder P"):
        project(space, x, "hybrid")
    with pytest.raises(ValueError, match="method must be one of"):
        project(space, x, "magic")
    with pytest.raises(ValueError, match="generator makes 1x28x28 images"):
        optimize(space, torch.zeros(1, 3, 28, 28))
    with pytest.raises(FileNotFoundError, match="train_encoder=true"):
        load_encoder(tmp_path / "none.pt")
    other = LatentSpace(tiny_model(compose_cfg, "model=gan", "model.latent_dim=5", "model.generator.hidden=[16]"))
    path = save_encoder(train_encoder(other, steps=0, channels=(4, 8), fc=16)[0], tmp_path / "other.pt")
    with pytest.raises(ValueError, match="inverts \\[1, 28, 28\\] images to 5-d z, but this generator maps 8-d z"):
        load_encoder(path, space)


def test_every_generator_kind_projects(compose_cfg, one_thread) -> None:
    """Conditional (class fixed), InfoGAN (codes fixed) and a conv generator with a Gaussian prior."""
    for overrides, kwargs in ((("model=cgan", "model.latent_dim=8", "model.generator.base_channels=8"), {"label": 2}),
                              (("model=infogan", "model.latent_dim=4"), {"codes": ([1], [0.2, 0.0])}),
                              (("model=wgan_gp", "model.latent_dim=4", "model.generator.base_channels=8"), {})):
        space = LatentSpace(tiny_model(compose_cfg, *overrides), **kwargs)
        z_true = space.sample(1, generator=torch.Generator().manual_seed(0))
        x = space(z_true).detach()
        result = optimize(space, x, steps=40, restarts=2, generator=torch.Generator().manual_seed(1))
        assert result.mse.item() < 1e-3, (overrides, result.mse)
