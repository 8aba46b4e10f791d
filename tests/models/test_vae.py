"""The VAE (Kingma & Welling 2014): ELBO terms against hand computation, the analytic KL against Monte Carlo, one
player moving encoder and decoder, learning on a toy problem, exact resume, refusals."""

import math
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_same_state, half_and_resumed_runs, t
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.losses.vae import (
    bernoulli_nll,
    gaussian_kl,
    gaussian_nll,
    negative_elbo,
    reparameterize,
)
from lit_gans.models import VAE
from lit_gans.models.steps import BatchState

D = 6  # toy "images": vectors of 6 values in [-1, 1]
TOY_DEC = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 2, "out_shape": [D], "hidden": [16],
           "activation": "tanh", "output_activation": "tanh"}
TOY_ENC = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [D], "hidden": [16], "activation": "tanh"}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-2}


def toy_vae(**overrides: Any) -> VAE:
    return VAE(**{"generator": TOY_DEC, "encoder": TOY_ENC, "optimizer_vae": ADAM, "latent_dim": 2, **overrides})


def prototypes(n: int, seed: int = 0) -> torch.Tensor:
    """n samples of 4 binary prototypes in {-1, 1}^D: a toy with structure a 2-D code can capture."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.tensor([[1, 1, 1, -1, -1, -1], [-1, -1, -1, 1, 1, 1], [1, -1, 1, -1, 1, -1], [-1, 1, -1, 1, -1, 1]],
                          dtype=torch.float32)
    return protos[torch.randint(4, (n,), generator=g)]


def loader(n_batches: int, batch_size: int = 16, seed: int = 0) -> DataLoader:
    x = prototypes(n_batches * batch_size, seed)
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def trainer(**kwargs: Any) -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, **{"max_epochs": 1, **kwargs})


# ----- the pure terms ---------------------------------------------------------------------------------------
def test_gaussian_kl_matches_the_closed_form_by_hand() -> None:
    mean, log_var = t(0.5, -1.0).view(1, 2), t(math.log(4.0), 0.0).view(1, 2)
    # KL(N(μ, σ²) ‖ N(0, 1)) = ½ (σ² + μ² − 1 − log σ²) per dimension
    expected = 0.5 * (4 + 0.25 - 1 - math.log(4)) + 0.5 * (1 + 1 - 1 - 0)
    assert_close(gaussian_kl(mean, log_var), t(expected))


def test_analytic_kl_agrees_with_a_monte_carlo_estimate() -> None:
    g = torch.Generator().manual_seed(0)
    mean, log_var = torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(3, 4, generator=g, dtype=torch.float64)
    eps = torch.randn(200_000, 3, 4, generator=g, dtype=torch.float64)
    z = reparameterize(mean, log_var, eps)  # samples of q(z|x)
    q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
    p = torch.distributions.Normal(torch.zeros(()), torch.ones(()))
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)  # E_q[log q − log p]
    assert_close(gaussian_kl(mean, log_var), mc, rtol=0.02, atol=0.02)


def test_bernoulli_nll_maps_the_data_to_unit_targets() -> None:
    logits, x = t(0.0, 2.0, -1.0).view(1, 3), t(1.0, -1.0, 0.0).view(1, 3)  # targets 1, 0, 0.5
    s = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    expected = -math.log(0.5) - math.log(1 - s(2.0)) - (0.5 * math.log(s(-1.0)) + 0.5 * math.log(1 - s(-1.0)))
    assert_close(bernoulli_nll(logits, x), t(expected))


def test_gaussian_nll_is_the_normal_log_density() -> None:
    mean, x = t(0.0, 0.5, -0.2, 0.1).view(2, 2), t(0.3, 0.4, -1.0, 0.0).view(2, 2)
    expected = -torch.distributions.Normal(mean, 0.1).log_prob(x).sum(1)
    assert_close(gaussian_nll(mean, x, 0.1), expected)


# ----- the model's ELBO -------------------------------------------------------------------------------------
def test_the_models_elbo_equals_a_hand_computed_one_on_tiny_tensors() -> None:
    torch.manual_seed(0)
    model = toy_vae()
    x, eps = prototypes(3), torch.randn(3, 2)
    nll, kl = model.elbo_terms(x, eps)
    # by hand: encoder outputs [μ, log σ²]; z = μ + σ ε; decoder pre-tanh a; p = sigmoid(2a) = (tanh(a) + 1)/2
    h = model.encoder(x)
    mean, log_var = h[:, :2], h[:, 2:]
    z = mean + torch.exp(0.5 * log_var) * eps
    a = model.generator.net[:-1](z)
    p, target = torch.sigmoid(2 * a), (x + 1) / 2
    assert_close(p, (model.generator(z) + 1) / 2)  # the logits really are the tanh mean's
    nll_hand = -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).sum(1)
    kl_hand = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1)
    assert_close(nll, nll_hand, rtol=1e-5, atol=1e-5)
    assert_close(kl, kl_hand)
    assert_close(negative_elbo(nll, kl), (nll_hand + kl_hand).mean(), rtol=1e-5, atol=1e-5)
    assert torch.equal(model.encode(x), mean)  # the encode hook: the posterior mean
    assert_close(model.reconstruct(x), model.generator(mean))


def test_gaussian_decoder_uses_the_generator_output_as_its_mean() -> None:
    torch.manual_seed(0)
    model = toy_vae(likelihood="gaussian", decoder_std=0.5)
    x, eps = prototypes(3), torch.randn(3, 2)
    nll, _ = model.elbo_terms(x, eps)
    mean, log_var = model.posterior(x)
    recon = model.generator(reparameterize(mean, log_var, eps))
    assert_close(nll, -torch.distributions.Normal(recon, 0.5).log_prob(x).sum(1))


def test_one_step_moves_encoder_and_decoder_together() -> None:
    torch.manual_seed(0)
    model = toy_vae()
    before = {name: [p.detach().clone() for p in getattr(model, name).parameters()] for name in ("encoder", "generator")}
    trainer(max_steps=1).fit(model, loader(2))
    for name, params in before.items():
        assert all(not torch.equal(a, b) for a, b in zip(params, getattr(model, name).parameters())), name
    (opt,) = [o.optimizer for o in [model.optimizers()]]
    assert {id(p) for p in opt.param_groups[0]["params"]} == {id(p) for p in model.parameters()}


def test_the_elbo_improves_on_a_toy_problem(one_thread: None) -> None:
    torch.manual_seed(0)
    model = toy_vae()
    x = prototypes(512, seed=1)
    with torch.no_grad():
        before = -negative_elbo(*model.elbo_terms(x))
    trainer(max_epochs=3).fit(model, loader(40))
    with torch.no_grad():
        after = -negative_elbo(*model.elbo_terms(x))
    # 6 Bernoulli pixels at p = 1/2 cost 6 log 2 = 4.2 nats; 4 prototypes need about log 4 = 1.4 (+ a little KL)
    assert before < -3.5 and after > -2.5, (before, after)


def test_validation_logs_the_held_out_elbo_not_a_discriminator() -> None:
    torch.manual_seed(0)
    model = toy_vae()
    tr = trainer(limit_train_batches=2)
    tr.fit(model, loader(2), loader(2, seed=3))
    assert {"val/elbo", "val/kl"} <= set(tr.callback_metrics) and "val/d_real" not in tr.callback_metrics
    assert tr.callback_metrics["val/elbo"] < 0


def test_resume_continues_exactly(tmp_path: Path) -> None:
    full, resumed, ckpt = half_and_resumed_runs(toy_vae, lambda epochs: trainer(max_epochs=epochs),
                                                lambda: loader(3), tmp_path)
    assert len(ckpt["optimizer_states"]) == 1
    assert_same_state(full, resumed)


# ----- refusals ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides, match", [
    ({"discriminator": {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [D]}}, "model.discriminator=null"),
    ({"latent_distribution": "uniform"}, "latent_distribution=normal"),
    ({"likelihood": "poisson"}, "must be one of"),
    ({"generator": {**TOY_DEC, "output_activation": "none"}}, "likelihood=gaussian"),
    ({"pack": 2}, "pack"),
])
def test_bad_options_are_refused_with_the_fix(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        toy_vae(**overrides)


def test_adversarial_models_still_require_a_discriminator_and_a_loss() -> None:
    from lit_gans.models import GAN
    with pytest.raises(ValueError, match="needs model.discriminator and model.loss"):
        GAN(generator=TOY_DEC, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=2)


def test_elbo_step_logs_the_bound_and_its_terms() -> None:
    torch.manual_seed(0)
    model = toy_vae()
    loss, logs = model.elbo_step(BatchState(prototypes(4), 0))
    assert_close(logs["train/elbo"], -loss.detach())
    assert_close(logs["train/reconstruction_nll"] + logs["train/kl"], loss.detach())
    assert F.relu(-logs["train/kl"]) == 0  # KL >= 0


def test_the_generator_ema_averages_the_decoder() -> None:
    """The EMA callback finds the optimizer of G's parameters in the one "vae" player and averages G only."""
    from lit_gans.callbacks.ema import GeneratorEMA
    torch.manual_seed(0)
    model, ema = toy_vae(), GeneratorEMA(decay=0.5)
    trainer(max_steps=3, callbacks=[ema]).fit(model, loader(4))
    assert ema.ema is not None
    averaged, live = list(ema.ema.parameters()), list(model.generator.parameters())
    assert len(averaged) == len(live) and any(not torch.equal(a, b) for a, b in zip(averaged, live))
