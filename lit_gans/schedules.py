"""Learning-rate schedules the configs can name (``model.scheduler_<player>``), beside torch.optim's.

A scheduler config is a ``_partial_`` that the skeleton calls with the player's optimizer; its optional key
``interval`` says when the skeleton steps it: "step" (default: after every step of that optimizer) or "epoch"
(after every training epoch). `lit_gans.models.base.AdversarialModule.configure_optimizers` reads it.
"""

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

INTERVALS = ("step", "epoch")


def linear_decay_factor(epoch: int, constant_epochs: int, decay_epochs: int) -> float:
    """The lr multiplier of 0-based ``epoch``: 1 for the first ``constant_epochs`` epochs, then falling linearly by
    1 / (decay_epochs + 1) per epoch, 1 / (decay_epochs + 1) in the last of the ``decay_epochs`` and 0 after them —
    the authors' CycleGAN / pix2pix rule ``1 − max(0, epoch + 1 − n_epochs) / (n_epochs_decay + 1)``
    (``models/networks.py``, ``get_scheduler``, ``lr_policy='linear'``, epoch_count 1).

    Example:
        >>> [round(linear_decay_factor(e, 2, 3), 2) for e in range(6)]
        [1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    return max(0.0, 1.0 - max(0, epoch + 1 - constant_epochs) / (decay_epochs + 1))


class LinearDecay(LambdaLR):
    """Constant lr for ``constant_epochs`` epochs, then linear decay to 0 over ``decay_epochs`` more (CycleGAN,
    Zhu et al. 2017, Section 7.1: 100 + 100 epochs). Step it once per epoch (config ``interval: epoch``).

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = LinearDecay(opt, constant_epochs=1, decay_epochs=1)
        >>> lrs = [opt.param_groups[0]["lr"]]
        >>> for _ in range(2):
        ...     opt.step(); sched.step(); lrs.append(opt.param_groups[0]["lr"])
        >>> lrs
        [1.0, 0.5, 0.0]
    """

    def __init__(self, optimizer: Optimizer, constant_epochs: int = 100, decay_epochs: int = 100,
                 last_epoch: int = -1) -> None:
        if constant_epochs < 0 or decay_epochs < 0:
            raise ValueError(f"constant_epochs and decay_epochs must be >= 0, got {constant_epochs}, {decay_epochs}.")
        self.constant_epochs, self.decay_epochs = constant_epochs, decay_epochs

        def factor(epoch: int) -> float:  # a plain function: LambdaLR's state_dict leaves it out
            return linear_decay_factor(epoch, constant_epochs, decay_epochs)

        super().__init__(optimizer, factor, last_epoch=last_epoch)
