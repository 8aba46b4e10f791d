"""Wasserstein GAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017)."""

from collections.abc import Mapping
from typing import Any

import torch

from lit_gans.models.base import AdversarialModule


class WGAN(AdversarialModule):
    """WGAN Algorithm 1: after every critic step clip its weights into [-c, c] (line 7).

    The Wasserstein objective (no sigmoid on the critic), RMSProp(5e-5), m=64 and
    n_critic=5 come from ``conf/model/wgan.yaml``; the logged ``train/em_estimate`` is the
    critic's E[f(x)] - E[f(G(z))], the quantity of the paper's Figure 3.

    Args:
        clip_value: c; ``None`` disables clipping (WGAN-GP).
        n_critic_warmup: ``{n_critic, first, every}``: the authors' code (not the paper) trains the critic
            ``n_critic`` (100) times per generator iteration for the ``first`` (25) generator iterations and
            every ``every``-th (500) one after, so the critic starts near optimal and the EM estimate means
            something from the start. None (default): ``n_critic`` always.
    """

    supports_feature_matching = True

    def __init__(self, *args: Any, clip_value: float | None = 0.01, n_critic_warmup: Mapping[str, int] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if clip_value is not None and clip_value <= 0:
            raise ValueError(f"clip_value must be positive (or null to disable), got {clip_value}.")
        if n_critic_warmup is not None and (set(n_critic_warmup) != {"n_critic", "first", "every"}
                                            or min(n_critic_warmup.values()) < 1):
            raise ValueError(f"n_critic_warmup takes {{n_critic, first, every}} (all >= 1), e.g. the authors' "
                             f"{{n_critic: 100, first: 25, every: 500}}; got {dict(n_critic_warmup)}.")
        self._critic_steps_since_g = 0  # critic steps since the last generator iteration
        self._generator_iterations = 0

    def generator_step_due(self, batch_idx: int) -> bool:
        warmup = self.hparams.get("n_critic_warmup")
        if not warmup:
            return super().generator_step_due(batch_idx)
        g = self._generator_iterations
        due = warmup["n_critic"] if g < warmup["first"] or g % warmup["every"] == 0 else self.hparams.n_critic
        self._critic_steps_since_g += 1
        if self._critic_steps_since_g < due:
            return False
        self._critic_steps_since_g, self._generator_iterations = 0, g + 1
        return True

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["wgan_schedule"] = {"critic_steps_since_g": self._critic_steps_since_g,
                                       "generator_iterations": self._generator_iterations}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        state = checkpoint.get("wgan_schedule", {})
        self._critic_steps_since_g = state.get("critic_steps_since_g", 0)
        self._generator_iterations = state.get("generator_iterations", 0)

    @torch.no_grad()
    def after_discriminator_step(self) -> None:
        c = self.hparams.clip_value
        if c is not None:
            for p in self.discriminator.parameters():
                p.clamp_(-c, c)


class WGANGP(WGAN):
    """WGAN-GP: the Lipschitz constraint as a gradient penalty instead of clipping.

    The penalty itself is part of the objective (``conf/loss/wasserstein_gp.yaml``,
    ``loss.gp_weight``), so any variant can use it; this class only refuses a loss without it.
    """

    def __init__(self, *args: Any, clip_value: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, clip_value=clip_value, **kwargs)
        if self.objective.gp_weight <= 0:
            raise ValueError(
                f"WGAN-GP needs a gradient penalty, but loss={self.objective.name!r} has gp_weight="
                f"{self.objective.gp_weight}. Use loss=wasserstein_gp (loss.gp_weight=10 is the paper's λ)."
            )
