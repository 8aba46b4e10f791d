"""What weight clipping does to a WGAN critic, beside a gradient penalty (Gulrajani et al. 2017, Figure 1b).

The WGAN-GP paper (Section 3, Figure 1) shows two failure signs of clipping: the weights pile up
at the clipping bounds ±c, and the critic's gradient norms on points between the real and the generated data
vanish or explode instead of staying near 1. `CriticDiagnostics` measures both during training:

    python train.py experiment=wgan_clipping_diagnostics      # or: +callbacks=critic_diagnostics
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from torch import Tensor, nn

from lit_gans.models.base import images_of


def clipped_fraction(params: Iterable[Tensor], clip_value: float, rtol: float = 1e-3) -> Tensor:
    """The fraction of all entries of ``params`` with |w| ≥ c·(1 − rtol): the weights held at the bounds ±c
    of weight clipping (WGAN, Algorithm 1, line 7). ``rtol`` absorbs the float rounding of ``clamp_``.

    >>> clipped_fraction([torch.tensor([0.01, -0.01, 0.005, 0.0])], clip_value=0.01).item()
    0.5
    """
    if clip_value <= 0:
        raise ValueError(f"clip_value must be positive, got {clip_value}")
    flat = torch.cat([p.detach().flatten() for p in params])
    return (flat.abs() >= clip_value * (1 - rtol)).double().mean()


def interpolate_gradient_norms(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, eps: Tensor | None = None
) -> Tensor:
    """‖∇_x̂ f(x̂)‖₂ (B,) at x̂ = ε·x + (1 − ε)·x̃, ε ~ U[0, 1] per sample: the points where WGAN-GP penalises
    the norm (Gulrajani et al. 2017, Algorithm 1, line 6; an optimal critic has norm 1 there, Proposition 1).

    Only the inputs get gradients (the critic's ``.grad`` stays untouched). With BatchNorm in train mode the
    scores depend on the whole batch and ∇ of Σ_i f(x̂_i) then includes cross-sample terms, exactly as in the
    penalty. ``eps`` (B,) fixes the interpolation weights (tests); otherwise they are drawn U[0, 1].
    """
    assert real.shape == fake.shape, f"real {tuple(real.shape)} vs fake {tuple(fake.shape)}"
    if eps is None:
        eps = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    eps = eps.view(-1, *([1] * (real.dim() - 1)))  # (B, 1, ..., 1)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    return grad.flatten(1).norm(2, dim=1)  # (B,)


@contextmanager
def restored_buffers(module: nn.Module) -> Iterator[None]:
    """Put ``module``'s buffers (BatchNorm running statistics, counters) back as they were on exit:
    a diagnostic forward pass in train mode must not change what training does next."""
    saved = [(b, b.detach().clone()) for b in module.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)


class CriticDiagnostics(L.Callback):
    """Every ``every_n_batches`` training batches (keyed on ``batch_idx``, like the sample grids):

    * ``train/critic_weights_at_clip``: `clipped_fraction` of the critic's parameters (all of them, as WGAN
      clips all of them) at ±c, c = ``clip_value`` or the model's ``hparams.clip_value``; skipped when neither
      is set (WGAN-GP: no bound to be at);
    * ``train/critic_grad_norm_{mean,std,min,max}``: statistics of `interpolate_gradient_norms` between the
      batch's real images and as many fresh fakes;
    * a histogram of the critic's parameters (``critic/weights``) to TensorBoard / W&B when they are active.

    The numbers are written straight to every logger (``LightningModule.log`` would drop them unless
    ``every_n_batches`` were a multiple of ``log_every_n_steps``) at the step Lightning gives training logs, the
    batch index across epochs (``trainer.fit_loop.total_batch_idx``), and kept in ``history``.
    The measurement leaves training untouched: the fakes' z and the ε come from a generator of their own
    (``seed``), and BatchNorm running statistics are restored. The critic is measured in train mode, as the
    training step sees it. Unconditional models only (the critic is called on images alone).
    """

    def __init__(self, every_n_batches: int = 100, clip_value: float | None = None, rtol: float = 1e-3,
                 bins: int = 101, seed: int = 0) -> None:
        if every_n_batches < 1:
            raise ValueError(f"every_n_batches must be >= 1, got {every_n_batches}")
        self.every_n_batches, self.clip_value, self.rtol, self.bins, self.seed = every_n_batches, clip_value, rtol, bins, seed
        self.history: list[dict[str, Any]] = []  # per measurement: step, the logged numbers, histogram counts/edges
        self._rng: torch.Generator | None = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if (batch_idx + 1) % self.every_n_batches == 0:
            self.measure(trainer, pl_module, batch)

    def measure(self, trainer: L.Trainer, pl_module: Any, batch: Any) -> dict[str, float]:
        """Compute, log and record the diagnostics on one real batch; returns the numbers."""
        if self._rng is None:
            self._rng = torch.Generator().manual_seed(self.seed)
        critic: nn.Module = pl_module.discriminator
        weights = torch.cat([p.detach().flatten() for p in critic.parameters()])
        values: dict[str, float] = {}
        clip = self.clip_value or pl_module.hparams.get("clip_value")
        if clip:
            values["train/critic_weights_at_clip"] = float(clipped_fraction(critic.parameters(), clip, self.rtol))
        real = images_of(pl_module.real_samples(batch))
        with restored_buffers(pl_module), torch.no_grad():
            fake = pl_module.sample_images(len(real), generator=self._rng)
        critic_fn, fake = pl_module.d_scores, fake.to(real.dtype)
        if pl_module.hparams.get("pack", 1) > 1:  # PacGAN: the norms the penalty sees, over whole packs
            critic_fn, real, fake = pl_module.d_forward, pl_module.packed(real), pl_module.packed(fake)
        eps = torch.rand(len(real), generator=self._rng).to(real.device, real.dtype)
        with restored_buffers(pl_module):
            norms = interpolate_gradient_norms(critic_fn, real, fake, eps)
        values.update({"train/critic_grad_norm_mean": float(norms.mean()), "train/critic_grad_norm_std": float(norms.std()),
                       "train/critic_grad_norm_min": float(norms.min()), "train/critic_grad_norm_max": float(norms.max())})
        step = trainer.fit_loop.total_batch_idx  # the x-axis of the training logs (batches, not optimizer steps)
        for logger in trainer.loggers:
            logger.log_metrics(values, step=step)
        self._log_histogram(trainer, weights.float().cpu(), step)
        bound = float(weights.abs().max()) or 1.0
        counts, edges = np.histogram(weights.float().cpu().numpy(), bins=self.bins, range=(-bound, bound))
        self.history.append({"step": step, "global_step": trainer.global_step, **values, "hist_counts": counts, "hist_edges": edges})
        return values

    def _log_histogram(self, trainer: L.Trainer, weights: Tensor, step: int) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_histogram("critic/weights", weights, global_step=step)
            elif isinstance(logger, WandbLogger):
                import wandb

                logger.experiment.log({"critic/weights": wandb.Histogram(weights.numpy()), "trainer/global_step": step})

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self._rng.get_state() if self._rng is not None else None}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if state_dict.get("rng") is not None:
            self._rng = torch.Generator()
            self._rng.set_state(state_dict["rng"])
