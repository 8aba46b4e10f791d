"""WGAN paper diagnostics: the step/gradient cosine (Section 4.2) and the weight-clipping diagnostics
(WGAN-GP paper, Figure 1b), checked against hand-computed values."""

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from torch import Tensor, nn
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.analysis import read_metrics_csv
from lit_gans.callbacks.critic_diagnostics import CriticDiagnostics, clipped_fraction, interpolate_gradient_norms
from lit_gans.callbacks.optimizer_diagnostics import StepGradientCosine, step_gradient_cosine
from lit_gans.models.wgan import WGAN, WGANGP

TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [2], "hidden": [16], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [16]}
W = {"discriminator": "lit_gans.losses.wasserstein_critic_loss", "generator": "lit_gans.losses.wasserstein_generator_loss",
     "estimate": "lit_gans.losses.em_estimate"}
RMSPROP = {"_target_": "torch.optim.RMSprop", "_partial_": True, "lr": 5e-5}


def t(*values: float) -> Tensor:
    return torch.tensor(values, dtype=torch.float64)


# ----- the cosine between an optimizer's step and its gradient ------------------------------------------------
def test_cosine_is_between_minus_the_update_and_the_gradient() -> None:
    assert_close(step_gradient_cosine([t(1.0, 0.0)], [t(1.0, 1.0)]), t(-1 / math.sqrt(2))[0])  # an uphill step
    # several parameters are one vector: -Δθ = (2, 0), g = (1, 1)
    assert_close(step_gradient_cosine([t(-2.0), t(0.0)], [t(1.0), t(1.0)]), t(1 / math.sqrt(2))[0])
    with pytest.raises(ValueError, match="one gradient per update"):
        step_gradient_cosine([t(1.0)], [])


class _Player(nn.Module):
    """Two parameters whose gradients the test sets by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Parameter(torch.zeros(1, dtype=torch.float64)), nn.Parameter(torch.zeros(1, dtype=torch.float64))


def _watched(optimizer_cls: type[torch.optim.Optimizer], **kwargs: Any) -> tuple[StepGradientCosine, _Player, torch.optim.Optimizer]:
    """A StepGradientCosine on the "d" optimizer of a stand-in trainer and module (G's optimizer comes first)."""
    d, g = _Player(), _Player()
    opt_d = optimizer_cls(d.parameters(), **kwargs)
    trainer = SimpleNamespace(optimizers=[torch.optim.SGD(g.parameters(), lr=1.0), opt_d])
    module = SimpleNamespace(discriminator_parameters=d.parameters, generator_parameters=g.parameters)
    callback = StepGradientCosine("d")
    callback.on_train_start(trainer, module)
    return callback, d, opt_d


def _step(optimizer: torch.optim.Optimizer, player: _Player, ga: float, gb: float) -> None:
    player.a.grad, player.b.grad = t(ga), t(gb)
    optimizer.step()


def test_sgd_steps_along_minus_the_gradient_cosine_one() -> None:
    callback, d, opt = _watched(torch.optim.SGD, lr=0.1)
    _step(opt, d, 1.0, 2.0)
    assert_close(callback.last, t(1.0)[0])


def test_adam_cosine_equals_the_hand_computed_one_and_turns_negative_when_the_gradient_turns() -> None:
    b1, b2, lr = 0.9, 0.999, 0.1
    callback, d, opt = _watched(torch.optim.Adam, lr=lr, betas=(b1, b2), eps=0.0)
    _step(opt, d, 1.0, 2.0)  # first step: m̂ = g, v̂ = g², so Δθ = -lr·sign(g) = -lr·(1, 1)
    assert_close(callback.last, t(3 / math.sqrt(10))[0])  # cos((1, 1), (1, 2))
    _step(opt, d, -0.3, -0.3)  # the gradient turns against the momentum
    m = [b1 * (1 - b1) * g1 + (1 - b1) * g2 for g1, g2 in ((1.0, -0.3), (2.0, -0.3))]
    v = [b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2 for g1, g2 in ((1.0, -0.3), (2.0, -0.3))]
    step = [(mi / (1 - b1**2)) / math.sqrt(vi / (1 - b2**2)) for mi, vi in zip(m, v)]  # -Δθ / lr
    expected = (step[0] * -0.3 + step[1] * -0.3) / (math.hypot(*step) * math.hypot(-0.3, -0.3))
    assert_close(callback.last, t(expected)[0])
    assert callback.last < 0  # Adam stepped uphill: the paper's sign of instability


def test_rmsprop_first_step_is_minus_sign_of_the_gradient() -> None:
    callback, d, opt = _watched(torch.optim.RMSprop, lr=5e-5, alpha=0.99, eps=0.0)
    _step(opt, d, 1.0, 2.0)  # v = 0.01·g², Δθ = -lr·g / |0.1·g| = -10·lr·sign(g)
    assert_close(d.a.detach(), t(-10 * 5e-5))
    assert_close(callback.last, t(3 / math.sqrt(10))[0])


def test_every_n_steps_measures_only_every_nth_step_and_logging_clears_the_value() -> None:
    callback, d, opt = _watched(torch.optim.SGD, lr=0.1)
    callback.every_n_steps = 2
    logged: list[tuple[str, Tensor]] = []
    module = SimpleNamespace(log=lambda key, value: logged.append((key, value)))
    for i in range(4):
        _step(opt, d, 1.0, -1.0)
        callback.on_train_batch_end(None, module, None, None, i)
    assert callback.steps == 4 and [key for key, _ in logged] == ["train/d_step_grad_cosine"] * 2
    assert_close(torch.stack([v for _, v in logged]), torch.ones(2))


def test_no_optimizer_holding_the_players_parameters_is_an_error() -> None:
    stranger = SimpleNamespace(optimizers=[torch.optim.SGD(_Player().parameters(), lr=1.0)])
    module = SimpleNamespace(discriminator_parameters=_Player().parameters)
    with pytest.raises(ValueError, match="No optimizer updates the 'd' player"):
        StepGradientCosine("d").on_train_start(stranger, module)
    with pytest.raises(ValueError, match="player must be one of"):
        StepGradientCosine("q")


# ----- a toy WGAN, for the callbacks in a real fit ---------------------------------------------------------------
def toy_wgan(cls: type[WGAN] = WGAN, **overrides: Any) -> WGAN:
    torch.manual_seed(0)  # the same initial weights every time
    kwargs = dict(generator=TOY_G, discriminator=TOY_D, loss=W, optimizer_g=RMSPROP, optimizer_d=RMSPROP, latent_dim=4,
                  n_critic=2)
    return cls(**{**kwargs, **overrides})


def fit(model: L.LightningModule, callbacks: list[L.Callback], n_batches: int = 6, logger: Any = False) -> L.Trainer:
    torch.manual_seed(0)
    x = torch.randn(n_batches * 8, 2, generator=torch.Generator().manual_seed(1)) + 3
    data = DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=8)
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=logger, enable_checkpointing=False, log_every_n_steps=1,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=callbacks)
    trainer.fit(model, data)
    return trainer


def test_in_a_wgan_fit_sgd_gives_cosine_one_because_clipping_is_not_part_of_the_step() -> None:
    # the toy critic's initial weights are far beyond c = 0.01: every step is followed by real clipping
    sgd = {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.1}
    d_cosine, g_cosine = StepGradientCosine("d"), StepGradientCosine("g")
    trainer = fit(toy_wgan(optimizer_d=sgd), [d_cosine, g_cosine])
    assert (d_cosine.steps, g_cosine.steps) == (6, 3)  # every critic step; every n_critic-th batch for G
    assert_close(trainer.callback_metrics["train/d_step_grad_cosine"], torch.tensor(1.0))
    assert 0 < trainer.callback_metrics["train/g_step_grad_cosine"] <= 1  # RMSProp: positive
    opt_d = trainer.optimizers[1]
    opt_d.step()  # the hooks are gone after training
    assert d_cosine.steps == 6


# ----- weight clipping and gradient norms on interpolates -----------------------------------------------------------
def test_clipped_fraction_counts_the_weights_wgan_clipping_holds_at_the_bound() -> None:
    model = toy_wgan(discriminator={**TOY_D, "hidden": []})  # the critic is one Linear(2, 1): 3 parameters
    linear = model.discriminator.net[-1]
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[0.3, 0.0099]]))  # 0.3 is clipped; 0.0099 stays inside
        linear.bias.copy_(torch.tensor([-0.0101]))  # clipped to -c
    model.after_discriminator_step()  # WGAN Algorithm 1, line 7
    assert_close(linear.weight.detach(), torch.tensor([[0.01, 0.0099]]))
    assert_close(clipped_fraction(model.discriminator.parameters(), 0.01), t(2 / 3)[0])
    assert_close(clipped_fraction([torch.tensor([0.01, -0.01, 0.0, 0.02])], 0.01), t(0.75)[0])
    with pytest.raises(ValueError, match="positive"):
        clipped_fraction([torch.zeros(1)], 0.0)


def test_gradient_norms_of_a_linear_critic_are_the_norm_of_its_weight() -> None:
    critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[1.0, -2.0, 2.0, 0.0]]))  # ∇f = w everywhere, ‖w‖ = 3
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    norms = interpolate_gradient_norms(lambda x: critic(x).squeeze(1), real, fake)
    assert_close(norms, torch.full((5,), 3.0))
    assert critic[1].weight.grad is None  # only the inputs got gradients


def test_gradient_norms_are_taken_at_the_interpolates() -> None:
    # f(x) = ½‖x‖² has ∇f(x̂) = x̂, so the norm is ‖ε·x + (1 - ε)·x̃‖ for the given ε
    real, fake, eps = t(3.0, 0.0, 1.0, 1.0).view(2, 2), t(0.0, 4.0, -1.0, 1.0).view(2, 2), t(0.5, 0.25)
    norms = interpolate_gradient_norms(lambda x: 0.5 * x.pow(2).sum(1), real, fake, eps)
    assert_close(norms, t(math.hypot(1.5, 2.0), math.hypot(0.25 * 1 + 0.75 * -1, 1.0)))


def test_critic_diagnostics_log_and_record_without_changing_training(tmp_path: Path) -> None:
    plain = toy_wgan()
    fit(plain, [])
    watched, diagnostics = toy_wgan(), CriticDiagnostics(every_n_batches=2, bins=11)
    trainer = fit(watched, [diagnostics], logger=[CSVLogger(tmp_path, name="csv", version=""),
                                                  TensorBoardLogger(tmp_path, name="tb", version="")])
    # its fakes and ε come from its own generator: the run is the same as without it
    for a, b in zip(plain.parameters(), watched.parameters(), strict=True):
        assert_close(a, b)
    assert [h["step"] for h in diagnostics.history] == [1, 3, 5]  # after batches 2, 4, 6 (0-based batch index)
    last = diagnostics.history[-1]
    # measured after the last batch, i.e. on the final critic (clipped to c = 0.01 by WGAN)
    assert last["train/critic_weights_at_clip"] == pytest.approx(float(clipped_fraction(watched.discriminator.parameters(), 0.01)))
    assert 0 < last["train/critic_weights_at_clip"] <= 1
    assert last["train/critic_grad_norm_min"] <= last["train/critic_grad_norm_mean"] <= last["train/critic_grad_norm_max"]
    assert last["hist_counts"].sum() == sum(p.numel() for p in watched.discriminator.parameters())
    logged = read_metrics_csv(tmp_path)
    steps, values = logged["train/critic_grad_norm_mean"]
    assert steps.tolist() == [1, 3, 5]
    assert values[-1] == pytest.approx(last["train/critic_grad_norm_mean"], rel=1e-6)
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))  # the histogram went to TensorBoard
    assert trainer.global_step == 9  # 6 critic + 3 generator steps: the callback took none


def test_without_clipping_there_is_no_fraction_at_the_bound() -> None:
    gp, diagnostics = toy_wgan(WGANGP, loss={**W, "gp_weight": 10.0}), CriticDiagnostics(every_n_batches=3)
    fit(gp, [diagnostics])
    assert len(diagnostics.history) == 2
    assert "train/critic_weights_at_clip" not in diagnostics.history[0]
    assert diagnostics.history[0]["train/critic_grad_norm_mean"] > 0


def test_with_packing_the_norms_are_over_whole_packs_as_in_the_penalty() -> None:
    # a linear critic on packs of 2 two-D samples: ∇f = w over the packed input, so every pack's norm is ‖w‖
    gp = toy_wgan(WGANGP, loss={**W, "gp_weight": 10.0}, discriminator={**TOY_D, "hidden": []}, pack=2)
    with torch.no_grad():
        gp.discriminator.net[-1].weight.copy_(torch.tensor([[1.0, 2.0, 0.0, 2.0]]))  # ‖w‖ = 3; halves: √5, 2
    real = torch.randn(8, 2)
    values = CriticDiagnostics(every_n_batches=1).measure(SimpleNamespace(loggers=[], fit_loop=SimpleNamespace(
        total_batch_idx=0), global_step=0), gp, (real, torch.zeros(8)))
    assert values["train/critic_grad_norm_min"] == pytest.approx(3.0)
    assert values["train/critic_grad_norm_max"] == pytest.approx(3.0)
