"""DualGAN (Yi et al. 2017, "DualGAN: Unsupervised Dual Learning for Image-to-Image Translation") as a variant of
`lit_gans.models.CycleGAN`: primal G_A: U -> V and dual G_B: V -> U (here G and F, U = domain A, V = domain B),
Wasserstein critics D_A, D_B with weight clipping (Section 3.1), and the generators' loss (eq. 3)

    l_g(u, v) = λ_U ‖u − G_B(G_A(u))‖₁ + λ_V ‖v − G_A(G_B(v))‖₁ − D_B(G_A(u)) − D_A(G_B(v))

(L1 as per-pixel means; the critics' losses D(fake) − D(real), eq. 1 and 2, not halved). The critics take n_critic
steps per generator step, each followed by clipping their weights into [−c, c], RMSProp (Algorithm 1). The paper
sets λ_U, λ_V "within [100.0, 1,000.0]" (Section 3.1); 500 for both is the authors' code default. U-Net generators
with per-sample (instance) normalisation and PatchGAN critics as the paper (Section 3.2). The authors' released code
drifted from the paper (its default loss became WGAN-GP): this follows the paper.
"""

from collections.abc import Mapping
from typing import Any

import torch

from lit_gans.models.cyclegan import CycleGAN
from lit_gans.models.steps import Step


class DualGAN(CycleGAN):
    """Args: as `CycleGAN` (``lambda_cycle``, ``lambda_identity`` and ``pool_size`` fixed at 0: not in the paper), plus
        lambda_u, lambda_v: the reconstruction weights of domain A's and domain B's images (500, 500).
        clip_value: c of the critics' weight clipping (0.01); n_critic: critic steps per generator step.
    """

    once_per_batch = False
    steps = (Step("d", "discriminator_step", after="after_discriminator_step"),
             Step("g", "generator_step", due="generator_step_due"))

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 lambda_u: float = 500.0, lambda_v: float = 500.0, clip_value: float = 0.01, **kwargs: Any) -> None:
        for fixed in ("lambda_cycle", "lambda_identity", "pool_size"):
            if kwargs.pop(fixed, 0):
                raise ValueError(f"DualGAN has no model.{fixed} (its reconstruction weights are model.lambda_u and "
                                 "model.lambda_v; no identity term, no pool): remove it or set it to 0.")
        super().__init__(generator, discriminator, *args, lambda_cycle=0.0, lambda_identity=0.0, pool_size=0, **kwargs)
        if lambda_u < 0 or lambda_v < 0 or clip_value <= 0:
            raise ValueError(f"model.lambda_u={lambda_u}, model.lambda_v={lambda_v} must be >= 0 and model.clip_value="
                             f"{clip_value} > 0.")

    def cycle_weights(self) -> tuple[float, float]:
        return self.hparams.lambda_u, self.hparams.lambda_v

    def discriminator_objective(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        """E[D(fake)] − E[D(real)] (eq. 1 and 2 with the Wasserstein objective), not halved."""
        return self.objective.discriminator(d_real, d_fake)

    @torch.no_grad()
    def after_discriminator_step(self) -> None:
        """Clip both critics' weights into [−c, c] (Algorithm 1)."""
        c = self.hparams.clip_value
        for p in self.player_parameters("d"):
            p.clamp_(-c, c)
