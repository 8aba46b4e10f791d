"""PacGAN packing (Lin et al. 2018): the packed layout, D built with m·C inputs, the penalty on packs,
Unrolled GAN's substituted D, refusals, and packed models trained from the train.py config."""

from collections.abc import Callable
from typing import Any

import pytest
import torch
from helpers import needs_mnist
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.testing import assert_close

from lit_gans.models import GAN, WGANGP, UnrolledGAN
from lit_gans.models.packing import pack_samples
from lit_gans.training import train

Compose = Callable[..., DictConfig]
TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [2], "hidden": [16], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [16]}
IMG_G = {"_target_": "lit_gans.networks.DCGANGenerator", "latent_dim": 4, "out_shape": [3, 28, 28], "base_channels": 8}
IMG_D = {"_target_": "lit_gans.networks.DCGANDiscriminator", "in_shape": [3, 28, 28], "base_channels": 8}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
WGP = {"discriminator": "lit_gans.losses.wasserstein_critic_loss", "generator": "lit_gans.losses.wasserstein_generator_loss",
       "gp_weight": 10.0}
GAUSSIAN_2D = ("data=ring8", "data.num_samples=256", "batch_size=32")


def kwargs(**overrides: Any) -> dict[str, Any]:
    kw = dict(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=4)
    return {**kw, **overrides}


def by_hand(x: torch.Tensor, m: int) -> torch.Tensor:
    """Pack i = torch.cat of samples i·m, ..., i·m + m − 1 along their first (channel) axis."""
    return torch.stack([torch.cat([x[i * m + j] for j in range(m)], dim=0) for i in range(len(x) // m)])


@pytest.mark.parametrize("shape", [(12, 3, 4, 5), (12, 2)])
@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_packing_concatenates_consecutive_samples_on_channels(shape: tuple[int, ...], m: int) -> None:
    x = torch.randn(shape)
    packed = pack_samples(x, m)
    assert packed.shape == (12 // m, m * shape[1], *shape[2:])
    assert torch.equal(packed, by_hand(x, m))
    if m > 1:  # pack 1, slot 1 holds sample m + 1
        assert torch.equal(packed[1, shape[1] : 2 * shape[1]], x[m + 1])


@pytest.mark.parametrize("m", [2, 3])
def test_a_packed_dcgan_discriminator_scores_the_hand_packed_batch(m: int) -> None:
    model = GAN(**kwargs(generator=IMG_G, discriminator=IMG_D, pack=m)).eval()
    first = model.discriminator.net[0]
    assert first.in_channels == 3 * m and first.out_channels == 8  # only D's input layer widens
    assert model.generator(torch.randn(2, 4)).shape == (2, 3, 28, 28)  # G unchanged
    x = torch.randn(6, 3, 28, 28)
    scores = model.d_scores(x)
    assert scores.shape == (6 // m,)
    assert_close(scores, model.discriminator(by_hand(x, m)))


def test_a_packed_mlp_discriminator_reads_m_times_the_vector() -> None:
    model = GAN(**kwargs(pack=4))
    assert model.discriminator.net[1].in_features == 8
    x = torch.randn(8, 2)
    assert_close(model.d_scores(x), model.discriminator(x.reshape(2, 8)))


def test_the_gradient_penalty_interpolates_packs_and_takes_the_norm_over_each_pack() -> None:
    model = WGANGP(**kwargs(loss=WGP, pack=2))
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    torch.manual_seed(0)
    _, logs = model.adversarial_d_loss(real, fake, model.d_scores(real), model.d_scores(fake))
    torch.manual_seed(0)
    eps = torch.rand(3, 1)  # one ε per pack of 2
    x_hat = (eps * by_hand(real, 2) + (1 - eps) * by_hand(fake, 2)).requires_grad_(True)
    (grad,) = torch.autograd.grad(model.discriminator(x_hat).sum(), x_hat)
    assert_close(logs["train/gradient_penalty"], ((grad.norm(dim=1) - 1) ** 2).mean())


def test_unrolled_gan_packs_the_input_of_its_substituted_discriminator() -> None:
    model = UnrolledGAN(**kwargs(pack=2, unroll_steps=1))
    x = torch.randn(6, 2)
    shifted = {n: p.detach() + 0.1 for n, p in model.discriminator.named_parameters()}
    with model.discriminator_state(shifted):
        scores = model.d_scores(x)
    expected = torch.func.functional_call(model.discriminator, shifted, (by_hand(x, 2),))
    assert_close(scores, expected)
    assert not torch.allclose(scores, model.d_scores(x))


def test_packing_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="multiple of 2"):
        GAN(**kwargs(pack=2)).d_scores(torch.randn(5, 2))
    with pytest.raises(ValueError, match="integer >= 1"):
        GAN(**kwargs(pack=0))


@pytest.mark.parametrize("model", ["cgan", "acgan", "infogan", "cramer", "vae", "vaegan", "alae", "mrgan", "mdgan",
                                   "ppgn_dae", "ppgn_joint"])
def test_models_that_cannot_pack_refuse_it(compose_cfg: Compose, model: str) -> None:
    cfg = compose_cfg(f"model={model}", "model.pack=2", "data=ring8") if model == "cramer" else \
        compose_cfg(f"model={model}", "model.pack=2")
    with pytest.raises(InstantiationException, match="does not support PacGAN packing.*Set model.pack=1"):
        instantiate(cfg.model, _recursive_=False)


def test_a_batch_size_that_does_not_divide_fails_before_training(compose_cfg: Compose) -> None:
    with pytest.raises(ValueError, match="batch_size=30: set batch_size to a multiple of 4, e.g. batch_size=28"):
        train(compose_cfg("model=gan", *GAUSSIAN_2D[:2], "batch_size=30", "model.pack=4", "trainer.max_steps=2"))


@pytest.mark.parametrize("model, extra", [
    ("gan", ()), ("lsgan", ()), ("wgan", ()), ("wgan_gp", ()), ("fgan", ()),
    ("unrolled", ("model.unroll_steps=2",)),
    ("gan", ("model.feature_matching=net.2",)),
    ("ebgan", ("net/discriminator@model.discriminator=autoencoder_toy",)),
])
def test_packed_models_train_from_the_train_config(compose_cfg: Compose, model: str, extra: tuple[str, ...],
                                                   one_thread: None) -> None:
    cfg = compose_cfg(f"model={model}", *GAUSSIAN_2D, "model.pack=2", *extra, "trainer.max_epochs=1",
                      "trainer.limit_val_batches=2")
    metrics, objects = train(cfg)
    gan = objects["model"]
    first = next(m for m in gan.discriminator.modules() if isinstance(m, torch.nn.Linear))
    assert first.in_features == 4  # two 2-D samples per pack
    assert "val/d_real" in metrics and all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    for opt in gan.optimizers():  # both players took steps
        assert opt.optimizer.state and all(int(s["step"]) > 0 for s in opt.optimizer.state.values())


@needs_mnist
def test_pacgan_on_stacked_mnist_from_the_train_config(compose_cfg: Compose, one_thread: None) -> None:
    cfg = compose_cfg("model=pacgan", "data=stacked_mnist", "data.num_samples=256", "data.num_val_samples=71",
                      "batch_size=32", "trainer.limit_train_batches=2", "trainer.limit_val_batches=3")
    metrics, objects = train(cfg)
    assert objects["model"].discriminator.net[0].in_channels == 6  # 2 packed RGB stacks
    assert objects["trainer"].global_step == 4 and "val/d_real" in metrics  # 71 = 32 + 32 + 7: the last batch scores its 3 whole packs
