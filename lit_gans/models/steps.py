"""The update schedule as data: which players a model has and which loss trains which of them, in order.

A *player* is a name and the networks its optimizer updates; its optimizer config is the model's
``optimizer_<name>`` argument and its optional scheduler ``scheduler_<name>``. A *step* names a player and
the method that computes its loss; the skeleton (`AdversarialModule.training_step`) runs the steps of every
batch in order, each with its player's optimizer toggled on, and gives them one `BatchState` so a later step
can reuse what an earlier one computed (the D step's fake when the algorithm allows it); what every step of a
batch shares can be computed before the first one, outside any toggling, by the model's ``batch_start(state)``
(pix2pix's G(x): D learns from it detached, then G through it).

The two-player GANs are the case ``players = {"g": ("generator",), "d": ("discriminator",)}`` with the steps
``Step("d", "discriminator_step", after="after_discriminator_step")`` then
``Step("g", "generator_step", due="generator_step_due")``. BiGAN makes G and E one player; ALAE has three steps.
"""

from dataclasses import dataclass, field
from typing import Any, NamedTuple

# error messages and logs
PLAYER_NAMES = {"g": "generator", "d": "discriminator", "e": "encoder", "dd": "diffusion discriminator"}


class Step(NamedTuple):
    """One optimizer step in a training batch.

    Args:
        player: the player whose optimizer takes the step (a key of the model's ``players``).
        loss: the name of a method ``(state: BatchState) -> (loss, logs)``; the skeleton back-propagates the
            loss into the player's parameters only (the other players are toggled off).
        due: the name of a method ``(batch_idx: int) -> bool`` deciding, when the step's turn comes, whether it
            runs in this batch (``generator_step_due``: every n_critic-th batch). None: every batch. It is asked once
            per batch (its answer holds for every step naming it, and ``batch_start`` may ask first: ``reuse_fake``).
        after: the name of a method ``() -> None`` run right after the step, still toggled (WGAN's clipping).
        args: extra positional arguments of the loss method, after the state (LAPGAN: the pyramid level, so one
            method serves the steps of every level).
    """

    player: str
    loss: str
    due: str | None = None
    after: str | None = None
    args: tuple[Any, ...] = ()


@dataclass
class BatchState:
    """What the steps of one training batch share.

    Attributes:
        real: the real batch as the loss hooks take it (`AdversarialModule.real_samples`).
        batch_idx: the batch's index in the epoch (n_critic schedules key on it, not on global_step).
        cache: values one step computes and a later step of the same batch reuses; emptied every batch.
        due: the answers of the ``due`` methods asked so far in this batch, by name
            (`AdversarialModule.step_is_due`: each is asked once per batch).
    """

    real: Any
    batch_idx: int
    cache: dict[str, Any] = field(default_factory=dict)
    due: dict[str, bool] = field(default_factory=dict)


def check_schedule(players: dict[str, tuple[str, ...]], steps: tuple[Step, ...], owner: str) -> None:
    """Fail at class definition time for a schedule that names a player it does not declare."""
    if not players or not steps:
        raise ValueError(f"{owner} declares no players or no steps.")
    unknown = {s.player for s in steps} - set(players)
    if unknown:
        raise ValueError(f"{owner}.steps name players {sorted(unknown)} not declared in {owner}.players {list(players)}.")
