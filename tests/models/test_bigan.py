"""BiGAN and ALI: who each step moves, the joint loss against hand computation, D really reads (x, z) pairs,
and a 2-D toy on which E learns to invert G."""

from typing import Any

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from helpers import t
from models.test_skeleton import snapshot
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.losses import bidirectional_generator_loss, minimax_discriminator_loss
from lit_gans.losses.least_squares import least_squares_discriminator_loss
from lit_gans.models import ALI, GAN, BiGAN
from lit_gans.models.base import Labeled
from lit_gans.models.steps import BatchState
from lit_gans.networks import (
    ConvEncoder,
    JointDiscriminator,
    MLPDiscriminator,
    MLPEncoder,
)

H = 32
TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 2, "out_shape": [2], "hidden": [H], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [H]}
TOY_E = {"_target_": "lit_gans.networks.MLPEncoder", "in_shape": [2], "out_features": 2, "hidden": [H], "batch_norm": False}
JOINT = {"_target_": "lit_gans.networks.JointDiscriminator", "hidden": [H], "batch_norm": False}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3, "betas": [0.5, 0.999]}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
MINIMAX = {**NS, "generator": "lit_gans.losses.minimax_generator_loss"}


def toy(cls: type = BiGAN, **overrides: Any) -> BiGAN:
    kw = {"generator": TOY_G, "discriminator": TOY_D, "encoder": TOY_E, "joint_discriminator": JOINT, "loss": NS,
          "optimizer_g": ADAM, "optimizer_d": ADAM, "latent_dim": 2, "latent_distribution": "uniform"}
    return cls(**{**kw, **overrides})


def loader(x: torch.Tensor, batch_size: int = 16) -> DataLoader:
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def fit(model: L.LightningModule, x: torch.Tensor, batch_size: int = 16) -> L.Trainer:
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, loader(x, batch_size))
    return trainer


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


# ----- the networks -----------------------------------------------------------------------------
def test_encoders_map_images_to_codes_and_the_conv_one_names_the_fix_for_a_bad_shape() -> None:
    x = torch.randn(3, 1, 28, 28)
    assert MLPEncoder((1, 28, 28), 50).eval()(x).shape == (3, 50)
    assert ConvEncoder((1, 28, 28), 100).eval()(x).shape == (3, 100)
    with pytest.raises(ValueError, match="net/encoder@model.encoder=toy"):
        ConvEncoder((2,), 2)
    with pytest.raises(ValueError, match="one flag per hidden layer"):
        MLPEncoder((2,), 2, hidden=[4, 4, 4], batch_norm=[True])


def test_the_joint_discriminator_reads_pairs_swapping_z_between_real_pairs_changes_its_score() -> None:
    torch.manual_seed(0)
    d = JointDiscriminator(MLPDiscriminator((2,), hidden=[8]), latent_dim=3, hidden=[8], batch_norm=False).eval()
    x, z = torch.randn(4, 2), torch.randn(4, 3)
    score = d(x, z)
    assert score.shape == (4,)
    swapped = d(x, z.roll(1, dims=0))  # each x with another x's code
    assert (swapped - score).abs().min() > 1e-4
    assert (d(x.roll(1, dims=0), z) - score).abs().min() > 1e-4  # and x matters too
    with pytest.raises(ValueError, match=r"z of shape \(B, 3\)"):
        d(x, z[:, :2])
    with pytest.raises(ValueError, match="features_and_score"):
        JointDiscriminator(torch.nn.Linear(2, 1), latent_dim=3)


def test_the_models_d_pairs_real_x_with_its_own_code_and_a_fake_with_the_z_that_made_it() -> None:
    torch.manual_seed(0)
    model = toy().eval()
    x = torch.randn(4, 2)
    with torch.no_grad():
        assert_close(model.d_scores(x), model.discriminator(x, model.encoder(x)))
        fake = model.sample_fake(4)
        assert_close(model.d_scores(fake), model.discriminator(fake.images, fake.z))
        # real pairs with their codes swapped score differently
        codes = model.encode(x)
        assert (model.d_scores(Labeled(x, None, codes.roll(1, 0))) - model.d_scores(x)).abs().min() > 1e-5
        assert_close(model.reconstruct(x), model.generator(codes))
    assert model.has_encoder and not GAN.has_encoder


# ----- the losses -------------------------------------------------------------------------------
def test_the_encoder_generator_loss_is_ds_loss_with_labels_swapped_or_minus_it_in_the_zero_sum_game() -> None:
    d_real, d_fake = t(2.0, -0.5), t(-1.0, 0.25)
    sp = lambda v: torch.log1p(torch.exp(v))
    d_loss = minimax_discriminator_loss(d_real, d_fake)
    assert_close(d_loss, (sp(-d_real).mean() + sp(d_fake).mean()))
    # inverted labels: -log D(G(z), z) - log(1 - D(x, E(x)))
    assert_close(bidirectional_generator_loss(d_real, d_fake, minimax_discriminator_loss, zero_sum=False),
                 sp(-d_fake).mean() + sp(d_real).mean())
    # the minimax game: G and E minimise V = E log D(x, E(x)) + E log(1 - D(G(z), z))
    value = torch.log(torch.sigmoid(d_real)).mean() + torch.log(1 - torch.sigmoid(d_fake)).mean()
    assert_close(bidirectional_generator_loss(d_real, d_fake, minimax_discriminator_loss, zero_sum=True), value)
    # least squares: the targets swap (fake pairs -> 1, real pairs -> 0)
    assert_close(bidirectional_generator_loss(d_real, d_fake, least_squares_discriminator_loss, zero_sum=False),
                 0.5 * ((d_fake - 1) ** 2).mean() + 0.5 * (d_real**2).mean())


@pytest.mark.parametrize("cls", [BiGAN, ALI])
@pytest.mark.parametrize("loss", [NS, MINIMAX], ids=["non_saturating", "minimax"])
def test_both_steps_losses_against_hand_computation_on_the_models_own_pairs(cls: type, loss: dict) -> None:
    torch.manual_seed(0)
    model = toy(cls, loss=loss)
    x = torch.randn(5, 2)

    def pairs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """D(x, E(x)) and D(G(z), z) as the steps draw them: z first, then ALI's ε."""
        torch.manual_seed(seed)
        z = model.sample_latent(5)
        out = model.encoder(x)
        if cls is ALI:
            mean, log_std = out.chunk(2, dim=1)
            code = mean + log_std.exp() * torch.randn(5, 2)
        else:
            code = out
        return model.discriminator(x, code), model.discriminator(model.generator(z), z)

    torch.manual_seed(1)
    d_loss, logs = model.discriminator_step(BatchState(x, 0))
    d_real, d_fake = pairs(1)
    assert_close(d_loss, F.softplus(-d_real).mean() + F.softplus(d_fake).mean())
    assert_close(logs["train/d_real"], d_real.mean())
    torch.manual_seed(2)
    g_loss, _ = model.generator_step(BatchState(x, 0))
    d_real, d_fake = pairs(2)
    expected = (-(F.softplus(-d_real).mean() + F.softplus(d_fake).mean()) if loss is MINIMAX
                else F.softplus(-d_fake).mean() + F.softplus(d_real).mean())
    assert_close(g_loss, expected)


def test_ali_encodes_with_the_mean_and_trains_with_reparameterised_samples() -> None:
    torch.manual_seed(0)
    model = toy(ALI)
    assert model.encoder.out_features == 4  # [μ, log σ]
    x = torch.randn(6, 2)
    mean, log_std = model.encoder(x).chunk(2, dim=1)
    assert_close(model.encode(x), mean)
    torch.manual_seed(3)
    sample = model.encode_for_training(x)
    torch.manual_seed(3)
    assert_close(sample, mean + log_std.exp() * torch.randn_like(mean))
    sample.sum().backward()  # the sample carries E's graph (reparameterisation)
    assert all(p.grad is not None for p in model.encoder.parameters())


def test_configuration_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="loss=non_saturating"):
        toy(loss={"discriminator": "lit_gans.losses.wasserstein_critic_loss",
                  "generator": "lit_gans.losses.wasserstein_generator_loss", "gp_weight": 10.0})
    with pytest.raises(ValueError, match="PacGAN"):
        toy(pack=2)


# ----- the schedule -----------------------------------------------------------------------------
def test_d_step_leaves_g_and_e_bit_identical_and_the_ge_step_leaves_d_unchanged_in_own_passes() -> None:
    log: list[tuple[str, bool, bool, bool]] = []
    passes: list[int] = []

    class Checked(BiGAN):
        def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
            self._before = [snapshot(m) for m in (self.generator, self.encoder, self.discriminator)]
            passes.clear()

        def after_discriminator_step(self) -> None:
            self._mid = [snapshot(m) for m in (self.generator, self.encoder, self.discriminator)]
            log.append(("D", *(same(a, b) for a, b in zip(self._before, self._mid))))
            passes.append(-1)

        def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
            after = [snapshot(m) for m in (self.generator, self.encoder, self.discriminator)]
            log.append(("GE", *(same(a, b) for a, b in zip(self._mid, after))))
            # D ran twice (real pair, fake pair) in the D step and twice again in the G/E step: own passes
            assert passes == [0, 0, -1, 0, 0]

    torch.manual_seed(0)
    model = Checked(generator=TOY_G, discriminator=TOY_D, encoder=TOY_E, joint_discriminator=JOINT, loss=NS,
                    optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=2)
    model.discriminator.register_forward_hook(lambda *_: passes.append(0))
    fit(model, torch.randn(32, 2))
    # (step, G unchanged, E unchanged, D unchanged)
    assert log == [("D", True, True, False), ("GE", False, False, True)] * 2
    opt_g, opt_d = (o.optimizer for o in model.optimizers())
    g_params = {id(p) for p in opt_g.param_groups[0]["params"]}
    assert g_params == {id(p) for p in [*model.generator.parameters(), *model.encoder.parameters()]}
    assert {id(p) for p in opt_d.param_groups[0]["params"]} == {id(p) for p in model.discriminator.parameters()}


# ----- learning ---------------------------------------------------------------------------------
def learn_toy(cls: type, steps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train on data uniform on a 4 x 2 rectangle with z ~ U[-1, 1]² for ``steps`` batches of 64; return R² of z
    regressed linearly on E(G(z)) (per dimension), the fraction of real x whose G(E(x)) is nearer x than another
    data point is (0.5: chance), and the correlation of x and G(E(x)) per dimension."""
    torch.manual_seed(1)
    hidden = {"hidden": [64, 64]}
    model = toy(cls, generator={**TOY_G, **hidden}, encoder={**TOY_E, **hidden}, discriminator={**TOY_D, "hidden": [64]},
                joint_discriminator={**JOINT, "hidden": [64]})
    x = (torch.rand(steps * 64, 2) * 2 - 1) * torch.tensor([2.0, 1.0]) + torch.tensor([1.0, -1.0])
    fit(model, x, batch_size=64)
    model.eval()
    with torch.no_grad():
        z = model.sample_latent(2000, generator=torch.Generator().manual_seed(0))
        codes = torch.cat([model.encode(model.generator(z)), torch.ones(2000, 1)], dim=1)
        fitted = codes @ torch.linalg.lstsq(codes, z).solution
        r2 = 1 - ((fitted - z) ** 2).sum(0) / ((z - z.mean(0)) ** 2).sum(0)
        real = x[:2000]
        rec = model.reconstruct(real)
        nearer = ((rec - real).norm(dim=1) < (real - real.roll(1, dims=0)).norm(dim=1)).float().mean()
        corr = torch.stack([torch.corrcoef(torch.stack([real[:, i], rec[:, i]]))[0, 1] for i in range(2)])
    return r2, nearer, corr


@pytest.mark.parametrize("cls", [BiGAN, ALI])
def test_on_a_2d_toy_e_learns_to_invert_g(cls: type, one_thread: None) -> None:
    """After 1,200 steps (seconds) E(G(z)) explains most of z, and G(E(x)) follows x and lands nearer x than another
    data point for more than chance's half of the points. Short runs are loose: BiGAN's E still maps some x outside
    the prior's cube then (58 % nearer for this seed, 96 % after 2,000 steps). Nor is the game monotone: ALI after
    2,500 steps of this seed had drifted to R² 0.3, so no stricter "longer run" bound is asserted."""
    r2, nearer, corr = learn_toy(cls, 1200)
    assert r2.min() > 0.7, r2
    assert corr.min() > 0.6, corr
    assert nearer > 0.55, nearer  # 2,000 points: chance is 0.5 ± 0.011

