"""VAE-GAN (Larsen et al. 2016): the loss values on tiny tensors, which parameters each of the three steps moves
(the others bit-identical), the equilibrium gate, exact resume, and the conv networks at 28/32/64 px."""

import math
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_same_state, half_and_resumed_runs, record_moved_networks, t
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.losses.vae import (
    feature_reconstruction_nll,
    gaussian_kl,
    vaegan_decoder_gan_loss,
    vaegan_discriminator_loss,
    vaegan_gan_value,
)
from lit_gans.models import VAEGAN
from lit_gans.models.steps import BatchState
from lit_gans.networks import VAEGANDecoder, VAEGANDiscriminator, VAEGANEncoder

D = 4
TOY_DEC = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 2, "out_shape": [D], "hidden": [8]}
TOY_DIS = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [D], "hidden": [8], "activation": "tanh"}
TOY_ENC = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [D], "hidden": [8]}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-2}
NETS = ("encoder", "generator", "discriminator")


def toy(**overrides: Any) -> VAEGAN:
    kw = dict(generator=TOY_DEC, discriminator=TOY_DIS, encoder=TOY_ENC, optimizer_e=ADAM, optimizer_g=ADAM,
              optimizer_d=ADAM, latent_dim=2, gamma=0.5)
    return VAEGAN(**{**kw, **overrides})


def loader(n_batches: int, batch_size: int = 8) -> DataLoader:
    x = torch.tanh(torch.randn(n_batches * batch_size, D, generator=torch.Generator().manual_seed(0)) + 0.5)
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def trainer(**kwargs: Any) -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, **{"max_epochs": 1, **kwargs})


# ----- pure losses ------------------------------------------------------------------------------------------
def test_gan_value_and_its_players_losses_by_hand() -> None:
    d_real, d_recon, d_prior = t(0.0, 1.0), t(-1.0, 2.0), t(0.5, -0.5)
    s = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    value = (mean([math.log(s(0.0)), math.log(s(1.0))]) + mean([math.log(1 - s(-1.0)), math.log(1 - s(2.0))])
             + mean([math.log(1 - s(0.5)), math.log(1 - s(-0.5))]))
    assert_close(vaegan_gan_value(d_real, d_recon, d_prior), t(value)[0])
    assert_close(vaegan_discriminator_loss(d_real, d_recon, d_prior), t(-value)[0])  # Dis maximises L_GAN
    dec = mean([math.log(1 - s(-1.0)), math.log(1 - s(2.0))]) + mean([math.log(1 - s(0.5)), math.log(1 - s(-0.5))])
    assert_close(vaegan_decoder_gan_loss(d_recon, d_prior), t(dec)[0])  # the terms of L_GAN Dec can move
    ns = -mean([math.log(s(-1.0)), math.log(s(2.0))]) - mean([math.log(s(0.5)), math.log(s(-0.5))])
    assert_close(vaegan_decoder_gan_loss(d_recon, d_prior, non_saturating=True), t(ns)[0])


def test_decoder_gan_loss_pushes_fakes_toward_real() -> None:
    for ns in (False, True):
        d = torch.zeros(3, requires_grad=True)
        vaegan_decoder_gan_loss(d, d.detach(), non_saturating=ns).backward()
        assert (d.grad < 0).all()  # descending it raises Dis's logit of x̃: "more real"


def test_feature_reconstruction_nll_is_half_the_squared_feature_distance() -> None:
    f_recon, f_real = t(1.0, 2.0, 0.0, 0.0).view(2, 2), t(0.0, 0.0, 3.0, 0.0).view(2, 2)
    # per sample ½ Σ (Δ)²: ½·5 and ½·9, averaged
    assert_close(feature_reconstruction_nll(f_recon, f_real), t(3.5)[0])


# ----- the model's losses on tiny tensors ---------------------------------------------------------------------
def test_step_losses_equal_hand_computation() -> None:
    torch.manual_seed(0)
    model = toy()
    x = next(iter(loader(1)))[0]
    state = BatchState(x, 0)
    e_loss, e_logs = model.encoder_step(state)
    eps, z_p = state.cache["eps"], state.cache["z_p"]
    # by hand, with the batch's noise
    h = model.encoder(x)
    mean, log_var = h[:, :2], h[:, 2:]
    z = mean + (0.5 * log_var).exp() * eps
    x_all = model.generator(torch.cat([z, z_p]))
    feats, logits = model.discriminator.features_and_score(torch.cat([x, x_all]))
    f_real, f_tilde = feats[:8], feats[8:16]
    d_real, d_tilde, d_p = logits[:8], logits[8:16], logits[16:]
    kl = (0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1)).mean()
    llike = (0.5 * (f_tilde - f_real).pow(2).sum(1)).mean()
    assert_close(e_loss, kl + llike)
    assert_close(e_logs["train/kl"], kl)
    g_loss, _ = model.decoder_step(state)
    assert_close(g_loss, 0.5 * llike - F.softplus(d_tilde).mean() - F.softplus(d_p).mean())
    d_loss, _ = model.discriminator_step(state)
    assert_close(d_loss, F.softplus(-d_real).mean() + F.softplus(d_tilde).mean() + F.softplus(d_p).mean())
    assert_close(model.encode(x), mean)
    assert_close(gaussian_kl(mean, log_var).mean(), kl)


# ----- routing: which parameters each step moves -----------------------------------------------------------------
def test_each_of_the_three_steps_moves_only_its_players_network() -> None:
    torch.manual_seed(0)
    model = toy()
    moved = record_moved_networks(model, NETS)
    trainer().fit(model, loader(2))
    assert moved == [("e", {"encoder"}), ("g", {"generator"}), ("d", {"discriminator"})] * 2


def test_dis_loss_reaches_only_dis_and_prior_samples_carry_no_gradient_to_the_encoder() -> None:
    torch.manual_seed(0)
    model = toy()
    state = BatchState(next(iter(loader(1)))[0], 0)
    grads = {}
    for step, loss_of in (("e", model.encoder_step), ("d", model.discriminator_step)):
        model.zero_grad()
        loss_of(state)[0].backward()
        grads[step] = {net: any(p.grad is not None and p.grad.abs().sum() > 0 for p in getattr(model, net).parameters())
                       for net in NETS}
    # untoggled here: E's loss (KL + L_llike) also reaches Dec and Dis through the features; the skeleton's toggling
    # keeps them still. D's loss reaches no other network at all (x̃, x_p decoded without a graph)
    assert grads["e"]["encoder"]
    assert grads["d"] == {"encoder": False, "generator": False, "discriminator": True}
    # x_p = Dec(z_p) carries no gradient to the encoder (only x̃ = Dec(Enc(x)) does)
    model.zero_grad()
    out = model.forward_pass(state.real, state.cache["eps"], state.cache["z_p"])
    vaegan_decoder_gan_loss(out["d_tilde"].detach(), out["d_p"]).backward()
    assert all(p.grad is None or not p.grad.any() for p in model.encoder.parameters())


# ----- the equilibrium gate (the authors' code) ------------------------------------------------------------------
@pytest.mark.parametrize("real, fake, expected", [
    (0.7, 0.7, (True, True)),     # inside the band: both update
    (0.2, 0.7, (True, False)),    # Dis too good on real: Dis skips
    (0.7, 1.2, (False, True)),    # Dis losing on fakes: the decoder skips
    (0.2, 1.2, (True, True)),     # both would skip: both update
])
def test_equilibrium_gate(real: float, fake: float, expected: tuple[bool, bool]) -> None:
    model = toy(equilibrium={"value": 0.68, "margin": 0.35})
    assert model.equilibrium_gate(torch.tensor(real), torch.tensor(fake)) == expected
    assert toy().equilibrium_gate(torch.tensor(real), torch.tensor(fake)) == (True, True)  # off by default


@pytest.mark.parametrize("value, g_steps, d_steps", [(5.0, 6, 0), (0.0, 0, 6)])
def test_gated_steps_are_skipped_in_training(value: float, g_steps: int, d_steps: int) -> None:
    """Costs (~0.7) far below the band: Dis always skips; far above it: the decoder always skips."""
    torch.manual_seed(0)
    model = toy(equilibrium={"value": value, "margin": 0.1})
    taken: list[str] = []
    real_step = model._step
    model._step = lambda opt, loss, which: (taken.append(which), real_step(opt, loss, which))[1]
    tr = trainer()
    tr.fit(model, loader(6))
    assert (taken.count("e"), taken.count("g"), taken.count("d")) == (6, g_steps, d_steps)
    assert tr.global_step == len(taken)


# ----- resume ---------------------------------------------------------------------------------------------------
def test_resume_continues_exactly(tmp_path: Path) -> None:
    full, resumed, ckpt = half_and_resumed_runs(lambda: toy(equilibrium={"value": 0.68, "margin": 0.1}),
                                                lambda epochs: trainer(max_epochs=epochs), lambda: loader(3), tmp_path)
    assert len(ckpt["optimizer_states"]) == 3
    assert_same_state(full, resumed)


# ----- networks and refusals --------------------------------------------------------------------------------------
@pytest.mark.parametrize("side", [28, 32, 64])
def test_conv_networks_fit_every_size(side: int) -> None:
    shape = (3 if side != 28 else 1, side, side)
    enc, dec, dis = VAEGANEncoder(shape, 16, hidden=32), VAEGANDecoder(8, shape), VAEGANDiscriminator(shape, hidden=32)
    x = torch.rand(2, *shape) * 2 - 1
    assert enc(x).shape == (2, 16)
    assert dec(torch.randn(2, 8)).shape == (2, *shape)
    features, score = dis.features_and_score(x)
    assert score.shape == (2,) and features.shape == (2, dis.feature_dim)
    assert torch.equal(dis.features(x), features)


def test_bad_options_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="model.loss=null"):
        toy(loss={"discriminator": "lit_gans.losses.minimax_discriminator_loss",
                  "generator": "lit_gans.losses.non_saturating_generator_loss"})
    with pytest.raises(ValueError, match="equilibrium takes"):
        toy(equilibrium={"value": 0.68})
    with pytest.raises(ValueError, match="data.image_size"):
        VAEGANDiscriminator((1, 30, 30))
