"""Mixed precision with manual optimization.

bf16-mixed (what a CPU runs): whole runs through ``train()``, and the gradient penalty under autocast against
float32. 16-mixed: Lightning turns ``precision=16-mixed`` on CPU into bf16, so the float16 tests below pass
Lightning's own ``MixedPrecision("16-mixed", "cpu")`` plugin, which brings a real (CPU) GradScaler: loss scaling
through ``manual_backward``, unscaling before the step, skipped steps. What only a GPU exercises: CUDA's float16
kernels and their overflow behaviour, and fused optimizers (which refuse clipping under a scaler).
"""

from typing import Any, Callable

import lightning as L
import pytest
import torch
from lightning.pytorch.plugins import MixedPrecision
from omegaconf import DictConfig
from torch import nn
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.losses.r1 import r1_penalty
from lit_gans.losses.wasserstein import gradient_penalty
from lit_gans.models import GAN, WGANGP
from lit_gans.models import base
from lit_gans.training import train

Compose = Callable[..., DictConfig]
TOY = ["data=ring8", "data.num_samples=96", "+data.num_val_samples=16", "batch_size=16",  # 6 batches: one G step of WGAN-GP
       "model.generator.hidden=[8]", "model.discriminator.hidden=[8]", "trainer.accelerator=cpu", "trainer.log_every_n_steps=1"]


@pytest.mark.parametrize("model", ["gan", "wgan_gp", "unrolled"])
def test_bf16_mixed_training_runs_with_finite_losses(compose_cfg: Compose, one_thread: None, model: str) -> None:
    """Unrolled GAN: autograd.grad(create_graph=True) through K inner D steps under autocast; WGAN-GP: the penalty."""
    metrics, objects = train(compose_cfg(f"model={model}", *TOY, "trainer.precision=bf16-mixed"))
    plugin = objects["trainer"].precision_plugin
    assert isinstance(plugin, MixedPrecision) and plugin.precision == "bf16-mixed" and plugin.scaler is None
    assert {"train/d_loss", "train/g_loss", "val/d_real"} <= set(metrics)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values()), metrics
    d_real = metrics["train/d_real"]  # D's scores came out of a bfloat16 layer: the value is a bfloat16 number
    assert torch.tensor(d_real).bfloat16().float().item() == d_real
    assert all(p.dtype == torch.float32 for p in objects["model"].parameters())  # autocast, not half weights
    if model == "wgan_gp":
        assert metrics["train/gradient_penalty"] > 0


class MLPCritic(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,)


def test_gradient_penalty_under_bf16_autocast_matches_float32() -> None:
    torch.manual_seed(0)
    critic = MLPCritic(32)
    real, fake, eps = torch.randn(16, 32), torch.randn(16, 32) + 1, torch.rand(16)
    weights = [critic.net[i].weight for i in (0, 2, 4)]  # (the biases' penalty gradients are 0 or None)
    reference = gradient_penalty(critic, real, fake, eps=eps)
    reference_grads = torch.autograd.grad(reference, weights)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = gradient_penalty(critic, real, fake, eps=eps)
    assert mixed.dtype == torch.float32  # the norm and the penalty are computed on float32 input gradients
    assert mixed.item() != reference.item()  # the critic really ran in bfloat16
    assert_close(mixed, reference, rtol=2e-2, atol=1e-3)  # bfloat16 keeps 8 significant bits
    # what the critic's step uses: the penalty's gradient in its weights, through the bfloat16 double backward
    for got, want in zip(torch.autograd.grad(mixed, weights), reference_grads, strict=True):
        assert got.dtype == torch.float32 and (got - want).norm() <= 0.05 * want.norm()


def test_a_power_of_two_grad_scale_changes_nothing_in_exact_arithmetic() -> None:
    torch.manual_seed(0)
    critic = MLPCritic(3).double()
    real, fake, eps = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 3, dtype=torch.float64), torch.rand(8, dtype=torch.float64)
    plain = gradient_penalty(critic, real, fake, eps=eps)
    for scale in (2.0**10, torch.tensor(2.0**16, dtype=torch.float64)):
        assert_close(gradient_penalty(critic, real, fake, eps=eps, grad_scale=scale), plain, rtol=0, atol=0)


class SmallScoreCritic(nn.Module):
    """f(x) = 10⁻⁸·w₂ᵀ(W₁x) with W₁ = 10⁴·I, w₂ = 10⁴·1 in float16 layers and the 10⁻⁸ in float32 after them:
    ∇f = (1, 1) everywhere (‖∇f‖ = √2, penalty (√2 − 1)²), but the float16 backward starts from ∂f/∂out = 10⁻⁸,
    below float16's smallest subnormal (6·10⁻⁸)."""

    def __init__(self) -> None:
        super().__init__()
        self.l1, self.l2 = nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False)
        with torch.no_grad():
            self.l1.weight.copy_(1e4 * torch.eye(2))
            self.l2.weight.fill_(1e4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1e-8 * self.l2(self.l1(x)).float().squeeze(1)


def test_grad_scale_rescues_a_float16_backward_that_underflows() -> None:
    critic = SmallScoreCritic()
    real, fake, eps = torch.full((4, 2), 2e-4), torch.full((4, 2), 1e-4), torch.full((4,), 0.5)
    expected = torch.tensor((2**0.5 - 1) ** 2)
    assert_close(gradient_penalty(critic, real, fake, eps=eps), expected)  # float32
    with torch.autocast("cpu", dtype=torch.float16):
        unscaled = gradient_penalty(critic, real, fake, eps=eps)
        scaled = gradient_penalty(critic, real, fake, eps=eps, grad_scale=2.0**12)
    assert_close(unscaled, torch.tensor(1.0))  # ∇f underflowed to 0: (0 − 1)²
    assert_close(scaled, expected, rtol=1e-2, atol=0)


# ----- 16-mixed: the GradScaler under manual optimization (base.py) ----------------------------------------
G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 2, "out_shape": [2], "hidden": [8], "output_activation": "none"}
D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8]}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
WGP = {"discriminator": "lit_gans.losses.wasserstein_critic_loss", "generator": "lit_gans.losses.wasserstein_generator_loss", "gp_weight": 10.0}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}


def fit_float16(model: L.LightningModule, callbacks: list[Any], n_batches: int) -> L.Trainer:
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, plugins=[MixedPrecision("16-mixed", "cpu")], callbacks=callbacks)
    x = torch.randn(n_batches * 16, 2) + 3
    trainer.fit(model, DataLoader(TensorDataset(x, torch.zeros(len(x))), batch_size=16))
    return trainer


class StepGradNorms(L.Callback):
    """The gradient norm each optimizer step applies (a torch pre-step hook runs inside the scaler's step: after
    unscaling and clipping)."""

    def __init__(self) -> None:
        self.norms: list[float] = []

    def on_train_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        for optimizer in trainer.optimizers:
            optimizer.register_step_pre_hook(lambda opt, args, kwargs: self.norms.append(float(torch.cat(
                [p.grad.flatten() for group in opt.param_groups for p in group["params"] if p.grad is not None]).norm())))


def test_float16_clipping_bounds_the_unscaled_gradients(one_thread: None) -> None:
    clip = 1e-3  # far below the gradients' norms: every step is clipped
    probe = StepGradNorms()
    trainer = fit_float16(GAN(generator=G, discriminator=D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=2,
                              gradient_clip_val=clip), [probe], 6)
    assert trainer.precision_plugin.scaler.get_scale() > 1  # scaled: clipping scaled gradients would bound them at clip / scale
    assert len(probe.norms) >= 6
    assert all(clip * 0.99 <= n <= clip * 1.001 for n in probe.norms), probe.norms


def test_float16_gradient_penalty_follows_the_amp_recipe(one_thread: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The penalty gets the scaler's loss scale; the first D step overflows at the initial scale 2¹⁶ (its penalty
    is not finite), the scaler skips it and halves the scale, and the NaN check does not mistake that for divergence."""
    scales: list[float] = []

    def spy(*args: Any, **kwargs: Any) -> torch.Tensor:
        scales.append(float(kwargs.get("grad_scale", 1.0)))
        return gradient_penalty(*args, **kwargs)

    monkeypatch.setattr(base, "gradient_penalty", spy)
    model = WGANGP(generator=G, discriminator=D, loss=WGP, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=2, n_critic=2,
                   nan_check_every_n_batches=1)
    trainer = fit_float16(model, [], 6)
    assert scales[0] == 2.0**16 and all(s >= 1 for s in scales)
    assert trainer.precision_plugin.scaler.get_scale() < 2.0**16  # an overflow happened and was absorbed
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_float16_r1_penalty_gets_the_loss_scale_and_divides_it_out(one_thread: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """R1 follows the gradient penalty's AMP recipe: the scaler's scale reaches ``r1_penalty``, which divides it out of
    the gradient (so the penalty is the same number as unscaled, where nothing underflows)."""
    x = torch.randn(5, 2)
    critic = torch.nn.Linear(2, 1)
    score = lambda v: critic(v).squeeze(1)
    assert_close(r1_penalty(score, x, grad_scale=2.0**10), r1_penalty(score, x))
    scales: list[float] = []

    def spy(*args: Any, **kwargs: Any) -> torch.Tensor:
        scales.append(float(kwargs.get("grad_scale", 1.0)))
        return r1_penalty(*args, **kwargs)

    monkeypatch.setattr(base, "r1_penalty", spy)
    model = GAN(generator=G, discriminator=D, loss={**NS, "r1_gamma": 10.0}, optimizer_g=ADAM, optimizer_d=ADAM,
                latent_dim=2, nan_check_every_n_batches=1)
    fit_float16(model, [], 4)
    assert len(scales) == 4 and scales[0] == 2.0**16 and all(s >= 1 for s in scales)
    assert all(torch.isfinite(p).all() for p in model.parameters())
