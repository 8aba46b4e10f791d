"""LatentSpace: every kind of generator as z -> image with its conditions fixed; the prior's box; input checks."""

import pytest
import torch
from torch.testing import assert_close

from igan_helpers import TINY_MLP, tiny_model
from lit_gans.manipulation import LatentSpace


def test_unconditional_uniform_space_box_and_interpolation(compose_cfg) -> None:
    space = LatentSpace(tiny_model(compose_cfg, "model=gan", *TINY_MLP))
    assert (space.kind, space.prior, space.bound, space.image_shape) == (None, "uniform", 1.0, (1, 28, 28))
    w = torch.randn(5, 8) * 10
    z = space.from_param(w)
    assert z.abs().max() <= 1.0  # any w lands in U[-1, 1]^d's support (the authors' z = tanh(z'))
    inside = torch.rand(5, 8) * 1.9 - 0.95
    assert_close(space.from_param(space.to_param(inside)), inside)
    path = space.interpolate(inside[:1], inside[1:2], 5)[0]
    assert_close(path[2], (inside[0] + inside[1]) / 2)  # a straight line for a uniform prior
    assert not any(p.requires_grad for p in space.model.parameters())


def test_gaussian_space_uses_slerp_and_a_three_sigma_box(compose_cfg) -> None:
    space = LatentSpace(tiny_model(compose_cfg, "model=wgan_gp", "model.latent_dim=8"))
    assert (space.prior, space.bound) == ("normal", 3.0)
    assert space.from_param(torch.full((1, 8), 100.0)).max() <= 3.0
    a, b = torch.tensor([[3.0, 0, 0, 0, 0, 0, 0, 0]]), torch.tensor([[0, 3.0, 0, 0, 0, 0, 0, 0]])
    assert_close(space.interpolate(a, b, 3)[0, 1].norm(), torch.tensor(3.0))  # slerp keeps the norm


def test_conditions_are_fixed_and_changeable(compose_cfg) -> None:
    cgan = LatentSpace(tiny_model(compose_cfg, "model=cgan", "model.latent_dim=8"), label=3)
    z = cgan.sample(2)
    with torch.no_grad():
        three = cgan(z)
        assert_close(three, cgan.model.generator(z, torch.tensor([3, 3])))
        assert not torch.equal(cgan.with_label(5)(z), three)
    with pytest.raises(ValueError, match="label must be in 0..9"):
        cgan.with_label(10)
    info_model = tiny_model(compose_cfg, "model=infogan")
    info = LatentSpace(info_model, codes=([7], [0.5, -0.5]))
    z = info.sample(2)
    from lit_gans.models.infogan import Codes

    with torch.no_grad():
        expected = info_model.generator(info_model.generator_input(z, Codes(torch.tensor([[7], [7]]), torch.tensor([[0.5, -0.5]] * 2))))
        assert_close(info(z), expected)
    assert info.describe() == "codes [7] / [0.5, -0.5]"
    with pytest.raises(ValueError, match=r"codes must be \(1 categorical indices, 2 continuous values\)"):
        info.with_codes(([1], [0.0]))
    with pytest.raises(ValueError, match="unconditional"):
        LatentSpace(tiny_model(compose_cfg, "model=gan", *TINY_MLP), label=1)


def test_translation_models_are_refused() -> None:
    class Pix2Pix(torch.nn.Module):
        batch_kind = "paired"

    with pytest.raises(ValueError, match="translates images and has no latent z"):
        LatentSpace(Pix2Pix())


def test_wrong_image_size_channels_or_range_get_clear_errors(compose_cfg) -> None:
    space = LatentSpace(tiny_model(compose_cfg, "model=gan", *TINY_MLP))
    with pytest.raises(ValueError, match=r"shape \(1, 32, 32\) but this generator makes 1x28x28 images \(grey\)"):
        space.check_images(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"shape \(3, 28, 28\) .* resize / convert it first"):
        space.check_images(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"values in \[0, 255\]; images are in \[-1, 1\]"):
        space.check_images(torch.linspace(0, 255, 784).view(1, 1, 28, 28))
    assert space.check_images(torch.zeros(1, 28, 28)).shape == (1, 1, 28, 28)
