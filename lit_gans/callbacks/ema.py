"""An exponential moving average of the generator's weights, used for samples, metrics and checkpoints.

Averaging G's iterates gives better samples and scores than the last iterate, which keeps circling the
equilibrium (Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"; BigGAN and
StyleGAN sample from such an average). Add it to a run with

    python train.py 'callbacks=[default,ema]'                      # decay 0.999
    python train.py 'callbacks=[default,ema]' callbacks.ema.decay=0.9999 callbacks.ema.start_step=1000

(``+callbacks=ema`` does not work: the callbacks group is already chosen, by ``callbacks: default``.)

Why not Lightning's ``EMAWeightAveraging``: it averages the whole LightningModule (D too), updates once per
batch (n_critic batches per G step here), averages BatchNorm buffers, swaps the average into the whole module
for validation (``val/d_real`` would score an averaged D) and copies it into the model at the end of training.
A GAN wants G alone averaged once per G update, D training from its own weights, and G's buffers copied;
restricting it to G would mean overriding almost every method.
"""

import copy
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, ContextManager

import lightning as L
import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_info
from torch import Tensor, nn
from torch.optim import Optimizer

from lit_gans.callbacks.optimizer_hooks import OptimizerHooks, optimizer_of

LIVE_KEY = "live_generator"  # the checkpoint entry that holds the trained (not averaged) G


class GeneratorEMA(OptimizerHooks):
    """Keep E ← decay·E + (1 − decay)·θ_G after every generator optimizer step.

    * Only ``pl_module.generator`` is averaged; D (and InfoGAN's Q, AC-GAN's classifier) never are.
    * Averaged: G's parameters. Copied: G's buffers (BatchNorm running statistics, counters), as
      StyleGAN2's and BigGAN's EMA do: an average of running statistics is no statistic of any network.
    * E starts as G's initial weights; during the first ``start_step`` G steps it is a plain copy of G
      (BigGAN's ``ema_start``), which keeps the random initialisation out of the average.
    * Updated from a post-step hook of G's optimizer: once per real G update (n_critic does not change the
      decay's time scale; a float16 step the GradScaler skips is not counted).
    * Used by `SampleGrid` and `GeneratorMetrics` (through `ema_weights`): they swap E into G for the
      duration of their draw and swap the trained weights back, so training never sees E.
    * Checkpoints: ``state_dict`` holds E in place of G (so ``sample.py``, ``evaluate.py`` and
      ``load_from_checkpoint`` get the average, as with Lightning's own weight averaging) and
      ``checkpoint["live_generator"]`` the trained G, which a resumed run (with this callback) trains on.
      Resuming a checkpoint written without the callback starts E from the trained G. Resuming a checkpoint
      written with it *without* the callback would train on E: keep the callback when resuming. A weights-only
      checkpoint (``ModelCheckpoint(save_weights_only=True)``) holds the trained G (Lightning calls no
      callback hook for it).

    Args:
        decay: the weight of the old average per G step (0.999: a horizon of about 1000 G steps).
        start_step: G steps during which E just follows G.
    """

    def __init__(self, decay: float = 0.999, start_step: int = 0) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        if start_step < 0:
            raise ValueError(f"start_step must be >= 0, got {start_step}")
        super().__init__()
        self.decay, self.start_step = decay, start_step
        self.ema: nn.Module | None = None  # the averaged copy of G (built at fit setup)
        self.num_updates = 0  # G steps seen
        self._module: Any = None

    # ----- the average --------------------------------------------------------------------------------
    def setup(self, trainer: L.Trainer, pl_module: Any, stage: str) -> None:
        if stage == "fit" and self.ema is None:
            self.ema = _frozen_copy(pl_module.generator)

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        """One EMA step from ``generator``'s current weights (the callback calls it after each G step)."""
        assert self.ema is not None, "setup() builds the average"
        self.num_updates += 1
        weight = 1.0 if self.num_updates <= self.start_step else 1.0 - self.decay
        for e, p in zip(self.ema.parameters(), generator.parameters(), strict=True):
            e.lerp_(p.detach(), weight)  # e + w·(p − e) = (1 − w)·e + w·p
        for e, b in zip(self.ema.buffers(), generator.buffers(), strict=True):
            e.copy_(b)

    def on_train_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        assert self.ema is not None
        self.ema.to(pl_module.device)  # built before the strategy moved the module
        self.remove_hooks()
        self._module = pl_module
        self._handles = [generator_optimizer(trainer, pl_module).register_step_post_hook(self._after_g_step)]

    def _after_g_step(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        self.update(self._module.generator)

    def remove_hooks(self) -> None:
        super().remove_hooks()
        self._module = None

    @contextmanager
    def swapped_in(self, generator: nn.Module) -> Iterator[None]:
        """Within the block ``generator`` holds the average (parameters and buffers); on exit it holds exactly
        its own weights again. The tensors are swapped in place, so optimizers and hooks keep their references."""
        assert self.ema is not None
        _swap(self.ema, generator)
        try:
            yield
        finally:
            _swap(self.ema, generator)

    # ----- checkpoints --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"num_updates": self.num_updates, "decay": self.decay, "start_step": self.start_step}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.num_updates = state_dict["num_updates"]

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: Any, checkpoint: dict[str, Any]) -> None:
        if self.ema is None:
            return
        state = checkpoint["state_dict"]
        keys = [f"generator.{name}" for name in self.ema.state_dict()]
        missing = [k for k in keys if k not in state]
        if missing:
            raise KeyError(f"GeneratorEMA expects the generator under 'generator.' in the state dict; missing {missing[:3]}")
        checkpoint[LIVE_KEY] = {k: state[k] for k in keys}
        state.update({k: v.detach().clone() for k, v in zip(keys, self.ema.state_dict().values())})

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: Any, checkpoint: dict[str, Any]) -> None:
        # Lightning has already loaded ``state_dict`` (E in G's place) into the module: E is read from it,
        # and the trained G is put back from ``live_generator``.
        if self.ema is None:
            return
        prefix = "generator."
        saved = {k[len(prefix):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
        if LIVE_KEY in checkpoint:
            self.ema.load_state_dict(saved)
            live = {k[len(prefix):]: v for k, v in checkpoint[LIVE_KEY].items()}
            pl_module.generator.load_state_dict(live)
        else:
            rank_zero_info("GeneratorEMA: the checkpoint has no generator average; it starts from the trained G.")
            self.ema.load_state_dict(saved)


def generator_optimizer(trainer: L.Trainer, pl_module: Any) -> Optimizer:
    """The trainer's optimizer that updates ``pl_module.generator_parameters()`` (Lightning's are plain torch ones)."""
    return optimizer_of(trainer, pl_module.generator_parameters(),
                        "No optimizer updates the generator's parameters; GeneratorEMA needs a lit_gans model.")


def find_ema(trainer: L.Trainer | None) -> GeneratorEMA | None:
    """The run's `GeneratorEMA` callback, if it has an average."""
    for callback in trainer.callbacks if trainer is not None else []:
        if isinstance(callback, GeneratorEMA) and callback.ema is not None:
            return callback
    return None


def ema_weights(trainer: L.Trainer | None, pl_module: Any) -> ContextManager[None]:
    """``with ema_weights(trainer, pl_module):`` G holds the average when the run has a `GeneratorEMA`
    (otherwise nothing changes): how sample grids and metrics draw from the averaged generator."""
    callback = find_ema(trainer)
    return callback.swapped_in(pl_module.generator) if callback is not None else nullcontext()


def _frozen_copy(module: nn.Module) -> nn.Module:
    ema = copy.deepcopy(module).eval()  # never trained; eval() only matters if someone calls it directly
    return ema.requires_grad_(False)


@torch.no_grad()
def _swap(a: nn.Module, b: nn.Module) -> None:
    for x, y in zip([*a.parameters(), *a.buffers()], [*b.parameters(), *b.buffers()], strict=True):
        tmp: Tensor = x.detach().clone()
        x.copy_(y)
        y.copy_(tmp)
