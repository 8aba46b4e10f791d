"""The cosine between an optimizer's step and the gradient it was given, for any model's D or G.

WGAN paper (Arjovsky et al. 2017), Section 4.2: critic training "becomes unstable at times when one uses a
momentum based optimizer such as Adam (with β1 > 0)"; "as the loss blew up and samples got worse, the cosine
between the Adam step and the gradient usually turned negative. The only places where this cosine was negative
was in these situations of instability." `StepGradientCosine` logs that cosine at every step:

    python train.py experiment=wgan_adam          # or: +callbacks=step_grad_cosine with any model
"""

from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.optim import Optimizer

from lit_gans.callbacks.optimizer_hooks import OptimizerHooks, optimizer_of

PLAYERS = ("d", "g")


def step_gradient_cosine(updates: Sequence[Tensor], grads: Sequence[Tensor]) -> Tensor:
    """cos(−Δθ, g) of one optimizer step, all parameters flattened into one vector.

    Δθ is the parameter update the step made, g the gradient of the loss being minimised that it was given.
    Plain SGD steps along −g (Δθ = −lr·g) and gives exactly 1; RMSProp rescales each coordinate by a positive
    factor, so its cosine stays positive; a momentum step can point uphill (cosine < 0) when the gradient
    turns against the accumulated momentum. Computed in float64; 0 when either vector is zero.

    >>> g = torch.tensor([1.0, 2.0])
    >>> round(step_gradient_cosine([-0.1 * g], [g]).item(), 6)  # SGD: Δθ = -lr·g
    1.0
    >>> round(step_gradient_cosine([torch.tensor([0.1, 0.0])], [torch.tensor([1.0, 1.0])]).item(), 6)  # uphill: -1/√2
    -0.707107
    """
    if len(updates) != len(grads) or not updates:
        raise ValueError(f"need one gradient per update, got {len(updates)} updates and {len(grads)} gradients")
    step = torch.cat([-u.detach().flatten().double() for u in updates])
    grad = torch.cat([g.detach().flatten().double() for g in grads])
    return torch.nn.functional.cosine_similarity(step, grad, dim=0, eps=1e-30)


class StepGradientCosine(OptimizerHooks):
    """Log ``train/<player>_step_grad_cosine`` = `step_gradient_cosine` of the ``player``'s optimizer
    ("d": the one holding ``discriminator_parameters()``, "g": ``generator_parameters()``).

    Torch optimizer hooks (``register_step_pre_hook`` / ``register_step_post_hook``) copy θ and g before the
    step and read θ after it, so the model needs no change and Δθ is the optimizer's own update: WGAN's weight
    clipping comes after the step (``after_discriminator_step``) and is not part of it. Costs two copies of the
    player's parameters per measured step; ``every_n_steps`` measures only every N-th step of that optimizer.
    The value goes through ``LightningModule.log`` (written every ``trainer.log_every_n_steps`` batches).
    """

    def __init__(self, player: str = "d", every_n_steps: int = 1) -> None:
        if player not in PLAYERS:
            raise ValueError(f"player must be one of {PLAYERS}, got {player!r}")
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        super().__init__()
        self.player, self.every_n_steps = player, every_n_steps
        self.key = f"train/{player}_step_grad_cosine"
        self.steps = 0  # steps of the watched optimizer seen so far
        self.last: Tensor | None = None  # the newest cosine, until logged
        self._before: list[tuple[Tensor, Tensor, Tensor]] | None = None  # (parameter, θ copy, g copy)

    def find_optimizer(self, trainer: L.Trainer, pl_module: Any) -> Optimizer:
        """The trainer's optimizer that updates the player's parameters."""
        params = pl_module.discriminator_parameters() if self.player == "d" else pl_module.generator_parameters()
        return optimizer_of(trainer, params, f"No optimizer updates the {self.player!r} player's parameters; "
                            "StepGradientCosine needs a model with discriminator_parameters() / generator_parameters() "
                            "(lit_gans models).")

    def on_train_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        self.remove_hooks()
        optimizer = self.find_optimizer(trainer, pl_module)
        self._handles = [optimizer.register_step_pre_hook(self._pre_step),
                         optimizer.register_step_post_hook(self._post_step)]

    def _pre_step(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if self.steps % self.every_n_steps == 0:
            self._before = [(p, p.detach().clone(), p.grad.detach().clone())
                            for group in optimizer.param_groups for p in group["params"] if p.grad is not None]

    def _post_step(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if self._before:
            updates = [p.detach() - theta for p, theta, _ in self._before]
            self.last = step_gradient_cosine(updates, [g for _, _, g in self._before])
        self._before = None
        self.steps += 1

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.last is not None:
            pl_module.log(self.key, self.last.float())
            self.last = None

