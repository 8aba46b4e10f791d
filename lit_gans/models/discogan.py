"""DiscoGAN (Kim et al. 2017, "Learning to Discover Cross-Domain Relations with Generative Adversarial Networks")
as a variant of `lit_gans.models.CycleGAN`: the same two generators and two discriminators, the standard GAN loss,
and a reconstruction loss in both directions with weight 1 (Section 3.2, eq. 5 and 6):

    L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B,   L_CONST_A = d(G_BA(G_AB(x_A)), x_A),   L_D = L_D_A + L_D_B

with d the mean squared error (the paper names MSE, cosine or hinge distances; the authors' code uses MSE). No
identity term, no history pool, the D loss not halved. The authors' code adds what the paper does not state:
feature matching (0.1·GAN + 0.9·FM), a reconstruction-weight curriculum (0.01 for 10k iterations, then 0.5), a
sigmoid output in [0, 1], D updated every third iteration only; none of these is built here (conf/model/discogan.yaml
says so).
"""

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from lit_gans.models.cyclegan import CycleGAN


class DiscoGAN(CycleGAN):
    """Args: as `CycleGAN`; ``lambda_cycle`` weighs both reconstruction terms (1 in the paper), ``lambda_identity``
    and ``pool_size`` default to 0 (the paper has neither)."""

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 lambda_cycle: float = 1.0, lambda_identity: float = 0.0, pool_size: int = 0, **kwargs: Any) -> None:
        super().__init__(generator, discriminator, *args, lambda_cycle=lambda_cycle, lambda_identity=lambda_identity,
                         pool_size=pool_size, **kwargs)

    def build_discriminator(self, cfg: Mapping[str, Any]) -> Any:
        """D with ``in_size`` = the images' side when its config has that key (DiscoGAN's D; a PatchGAN has none)."""
        if "in_size" in cfg:
            cfg = {**cfg, "in_size": int(self.hparams.generator["in_shape"][1])}
        return super().build_discriminator(cfg)

    def reconstruction_loss(self, output: Tensor, target: Tensor) -> Tensor:
        """d = MSE, a per-pixel mean (Section 3.2; the authors' ``nn.MSELoss``)."""
        return (output - target).pow(2).mean()

    def discriminator_objective(self, d_real: Tensor, d_fake: Tensor) -> Tensor:
        """L_D_B = −E[log D_B(x_B)] − E[log(1 − D_B(G_AB(x_A)))] (eq. 3), not halved."""
        return self.objective.discriminator(d_real, d_fake)
