"""Wasserstein GAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017)."""

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
    """

    supports_feature_matching = True

    def __init__(self, *args: Any, clip_value: float | None = 0.01, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if clip_value is not None and clip_value <= 0:
            raise ValueError(f"clip_value must be positive (or null to disable), got {clip_value}.")

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
