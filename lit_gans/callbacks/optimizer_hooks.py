"""What callbacks that watch an optimizer's steps share (`GeneratorEMA`, `StepGradientCosine`): finding the
trainer's optimizer of a player, and the lifetime of the torch step hooks they register on it."""

from collections.abc import Iterable
from typing import Any

import lightning as L
from torch import nn
from torch.optim import Optimizer
from torch.utils.hooks import RemovableHandle


def optimizer_of(trainer: L.Trainer, params: Iterable[nn.Parameter], error: str) -> Optimizer:
    """The trainer's optimizer that updates ``params`` (the one holding their first; Lightning's are plain torch
    ones); a ValueError with ``error`` when none does or ``params`` is empty."""
    first = next(iter(params), None)
    for optimizer in trainer.optimizers:
        if first is not None and any(p is first for group in optimizer.param_groups for p in group["params"]):
            return optimizer
    raise ValueError(error)


class OptimizerHooks(L.Callback):
    """A callback whose ``on_train_start`` registers torch optimizer step hooks into ``self._handles``: they are
    removed at the end of training and at teardown (also after an exception, when on_train_end is skipped)."""

    def __init__(self) -> None:
        self._handles: list[RemovableHandle] = []

    def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self.remove_hooks()

    def teardown(self, trainer: L.Trainer, pl_module: Any, stage: str) -> None:
        self.remove_hooks()

    def remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
