"""Raise the optimizers' momentum by a fixed step after every training epoch, up to a cap.

LAPGAN (Denton et al. 2015, Section 4): SGD "with an initial learning rate of 0.02, decreased by a factor of
(1 + 4e-5) at each epoch. Momentum starts at 0.5, increasing by 0.0008 at each epoch up to a maximum of 0.8."
Epoch 0 trains with the optimizer's own momentum (the config's 0.5); after epoch k's last batch the momentum
becomes min(0.5 + (k + 1)·0.0008, 0.8), so the ramp ends with the same epoch boundary as the learning-rate decay,
which the skeleton steps in the module's ``on_train_epoch_end`` (``interval: epoch``).

    python train.py experiment=lapgan_cifar10                       # uses it
    python train.py model=... 'callbacks=[default,momentum_ramp]' callbacks.momentum_ramp.players=[d]

The value lives where torch keeps it, in each param group's ``momentum``, so it is saved in the optimizer's
state_dict and restored by Lightning on resume; the callback keeps no state and recomputes nothing. Lightning runs
this hook before ModelCheckpoint saves at the epoch end, so an epoch-end checkpoint holds the raised value.
"""

from collections.abc import Sequence
from typing import Any

import lightning as L
from torch.optim import Optimizer


class MomentumRamp(L.Callback):
    """After every training epoch, momentum ← min(momentum + step, max_momentum) in every param group of the
    ramped optimizers (a momentum already at or above the cap is left alone, never lowered).

    Args:
        step: the increase per epoch (LAPGAN: 0.0008).
        max_momentum: the cap (LAPGAN: 0.8).
        players: the players whose optimizers are ramped (a lit_gans model's ``players`` names, e.g. ``[d]`` or
            LAPGAN's ``[g0, d0]``); null: every optimizer of the trainer.
        log: log ``train/momentum`` (the first ramped group's value) after each raise.
    """

    def __init__(self, step: float = 0.0008, max_momentum: float = 0.8, players: Sequence[str] | None = None,
                 log: bool = True) -> None:
        if step <= 0:
            raise ValueError(f"callbacks.momentum_ramp.step must be > 0, got {step}.")
        if not 0.0 <= max_momentum < 1.0:
            raise ValueError(f"callbacks.momentum_ramp.max_momentum must be in [0, 1), got {max_momentum}.")
        self.step, self.max_momentum, self.log = step, max_momentum, log
        self.players = None if players is None else list(players)

    def ramped(self, trainer: L.Trainer, pl_module: Any) -> list[tuple[str, Optimizer]]:
        """(name, optimizer) of every ramped optimizer; a ValueError naming the fix when one has no momentum."""
        optimizers = list(trainer.optimizers)
        names = list(getattr(pl_module, "players", None) or [])
        if len(names) != len(optimizers):
            names = [f"#{i}" for i in range(len(optimizers))]
        chosen = list(zip(names, optimizers))
        if self.players is not None:
            unknown = sorted(set(self.players) - set(names))
            if unknown:
                raise ValueError(f"callbacks.momentum_ramp.players names {unknown}, but the model's players are "
                                 f"{names}; choose among them or set players=null (every optimizer).")
            chosen = [(n, o) for n, o in chosen if n in self.players]
        for name, optimizer in chosen:
            if any("momentum" not in group for group in optimizer.param_groups):
                raise ValueError(
                    f"MomentumRamp raises the 'momentum' of SGD-like optimizers, but the optimizer of {name!r} is "
                    f"{type(optimizer).__name__}, which has none (Adam's counterpart is betas[0]). Fix: train it "
                    "with SGD (e.g. model.optimizer_g=lapgan_sgd model.optimizer_d=lapgan_sgd), name only SGD "
                    "players in callbacks.momentum_ramp.players, or drop momentum_ramp from the callbacks list.")
        return chosen

    def on_train_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        self.ramped(trainer, pl_module)  # refuse a wrong optimizer before the first epoch, not after it

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        first: float | None = None
        for _, optimizer in self.ramped(trainer, pl_module):
            for group in optimizer.param_groups:
                if group["momentum"] < self.max_momentum:
                    group["momentum"] = min(group["momentum"] + self.step, self.max_momentum)
                first = group["momentum"] if first is None else first
        if self.log and first is not None:
            pl_module.log("train/momentum", first, on_step=False, on_epoch=True)
