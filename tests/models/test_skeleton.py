"""The training skeleton: step accounting, which parameters move, clipping, NaN errors."""

from typing import Any

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.models import GAN, WGAN, WGANGP

TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [2], "hidden": [16], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [16]}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
W = {"discriminator": "lit_gans.losses.wasserstein_critic_loss", "generator": "lit_gans.losses.wasserstein_generator_loss", "estimate": "lit_gans.losses.em_estimate"}
WGP = {**W, "gp_weight": 10.0}


def toy_kwargs(**overrides: Any) -> dict[str, Any]:
    kw = dict(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=4)
    return {**kw, **overrides}


def loader(n_batches: int, batch_size: int = 8, nan: bool = False) -> DataLoader:
    x = torch.randn(n_batches * batch_size, 2) + 3
    if nan:
        x[0] = float("nan")
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def fit(model: L.LightningModule, n_batches: int, **trainer_kwargs: Any) -> L.Trainer:
    trainer = L.Trainer(
        accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, **trainer_kwargs,
    )
    trainer.fit(model, loader(n_batches))
    return trainer


def adam_steps(optimizer: torch.optim.Optimizer) -> int:
    """Adam counts its own updates per parameter."""
    steps = {int(s["step"]) for s in optimizer.state.values()}
    assert len(steps) == 1
    return steps.pop()


def snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("n_critic, n_batches", [(1, 6), (5, 10), (5, 12), (3, 7)])
def test_d_steps_n_critic_times_per_g_step(n_critic: int, n_batches: int) -> None:
    model = GAN(**toy_kwargs(n_critic=n_critic))
    trainer = fit(model, n_batches)
    opt_g, opt_d = (o.optimizer for o in model.optimizers())
    g_steps = n_batches // n_critic
    assert adam_steps(opt_d) == n_batches
    assert adam_steps(opt_g) == g_steps
    assert trainer.global_step == n_batches + g_steps  # every optimizer step counts


def test_a_d_step_leaves_g_unchanged_and_a_g_step_leaves_d_unchanged() -> None:
    log: list[tuple[str, bool, bool]] = []

    class Checked(GAN):
        def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
            self._g0, self._d0 = snapshot(self.generator), snapshot(self.discriminator)

        def after_discriminator_step(self) -> None:  # right after the D step, before any G step
            self._g1, self._d1 = snapshot(self.generator), snapshot(self.discriminator)
            log.append(("D", same(self._g0, self._g1), same(self._d0, self._d1)))

        def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
            g2, d2 = snapshot(self.generator), snapshot(self.discriminator)
            if (batch_idx + 1) % self.hparams.n_critic == 0:
                log.append(("G", same(self._g1, g2), same(self._d1, d2)))

    fit(Checked(**toy_kwargs(n_critic=2)), 4)
    # (step, G unchanged, D unchanged)
    assert log == [("D", True, False), ("D", True, False), ("G", False, True)] * 2


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_wgan_clips_every_critic_weight_after_every_critic_step() -> None:
    c = 0.01
    bounds: list[tuple[float, float]] = []

    class Checked(WGAN):
        def after_discriminator_step(self) -> None:
            super().after_discriminator_step()
            flat = torch.cat([p.detach().flatten() for p in self.discriminator.parameters()])
            bounds.append((flat.min().item(), flat.max().item()))

    big_lr = {**ADAM, "lr": 0.1}  # large steps so that unclipped weights would leave [-c, c]
    fit(Checked(**toy_kwargs(loss=W, optimizer_d=big_lr, n_critic=5, clip_value=c)), 10)
    assert len(bounds) == 10
    assert all(-c - 1e-9 <= lo and hi <= c + 1e-9 for lo, hi in bounds)
    c32 = torch.tensor(c).item()  # c as float32
    assert any(lo == -c32 for lo, _ in bounds) and any(hi == c32 for _, hi in bounds)  # clipping was active


def test_wgan_gp_refuses_a_batchnorm_critic_and_a_loss_without_penalty() -> None:
    bn_critic = {"_target_": "lit_gans.networks.DCGANDiscriminator", "in_shape": [1, 28, 28], "norm": "batch"}
    with pytest.raises(ValueError, match="BatchNorm.*dcgan_layernorm"):
        WGANGP(**toy_kwargs(loss=WGP, discriminator=bn_critic))
    minibatch_critic = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8], "minibatch_kernels": 4}
    with pytest.raises(ValueError, match="minibatch discrimination.*minibatch_kernels=0"):
        WGANGP(**toy_kwargs(loss=WGP, discriminator=minibatch_critic))
    with pytest.raises(ValueError, match="loss=wasserstein_gp"):
        WGANGP(**toy_kwargs(loss=W))


def test_em_estimate_and_penalty_are_logged() -> None:
    trainer = fit(WGANGP(**toy_kwargs(loss=WGP, n_critic=2)), 4)
    logged = set(trainer.callback_metrics)
    assert {"train/em_estimate", "train/gradient_penalty", "train/d_loss", "train/g_loss", "train/d_real", "train/d_fake"} <= logged


def test_nan_loss_raises_a_clear_error() -> None:
    model = GAN(**toy_kwargs())
    with pytest.raises(FloatingPointError, match="lower the learning rates"):
        trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False)
        trainer.fit(model, loader(2, nan=True))


def test_schedulers_step_with_their_optimizer_and_gradients_are_clipped() -> None:
    sched = {"_target_": "torch.optim.lr_scheduler.ExponentialLR", "_partial_": True, "gamma": 0.5}
    model = GAN(**toy_kwargs(scheduler_g=sched, scheduler_d=sched, n_critic=2, gradient_clip_val=1e-3))
    fit(model, 4)
    opt_g, opt_d = (o.optimizer for o in model.optimizers())
    assert opt_d.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5**4)
    assert opt_g.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5**2)
    norm = torch.cat([p.grad.flatten() for p in model.discriminator.parameters()]).norm()
    assert norm <= 1e-3 + 1e-6
