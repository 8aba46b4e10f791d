"""Cramér GAN (Bellemare et al. 2017, arXiv:1705.10743, Section 5 and Algorithm 1).

The critic h maps a sample to K features (the paper: 256); the generator minimises the energy
distance between the real and generated distributions *in h's feature space*, estimated from a
real batch x_r and two independent generator batches x_g, x'_g (the second sample of the
generator is what makes the estimate, and its gradient, unbiased). The critic maximises the
surrogate L_surrogate = f(x_r) − f(x_g), f(x) = ‖h(x) − h(x'_g)‖₂ − ‖h(x)‖₂, under a WGAN-GP
style penalty λ(‖∇_x̂ f(x̂)‖₂ − 1)². The losses are in :mod:`lit_gans.losses.cramer`.

A fake batch is therefore a :class:`FakePair` (x_g, x'_g); the skeleton's step accounting,
n_critic and optimizers are unchanged.

What was checked, and against what: the stored copies of the paper only gave its first page,
so Algorithm 1 was cross-checked against the v1 text quoted in jiamings/cramer-gan issue #2
("we use [f] to define a loss L_surrogate ... with which we train the critic"; training G on
L_surrogate instead is mentioned as also working), and against that repository's code as updated
by co-author I. Danihelka (PR #5: G minimises the energy-distance loss L_g; the penalty's ε
interpolates x_r and x_g). Both agree with f, L_surrogate, L_g, x̂ and L_critic as implemented.
λ = 10, n_critic = 5 and Adam(1e-4, β = (0.5, 0.9)) are that code's settings (the paper's
appendix could not be read); K = 256 is the issue's. Not implemented: the later (OpenReview)
version's penalty on ‖h(x̂) − h(x_g)‖ − ‖h(x̂) − h(x_r)‖ instead of f. ε is drawn per sample,
as in WGAN-GP (that code draws one ε per batch).
"""

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.losses.cramer import cramer_gradient_penalty, cramer_surrogate
from lit_gans.models.base import AdversarialModule, Logs


class FakePair(NamedTuple):
    """Two independent generator batches (B, ...): x_g, and x'_g, the reference of f."""

    images: Tensor  # x_g
    reference: Tensor  # x'_g

    def detach(self) -> "FakePair":
        """What the skeleton's ``detached`` calls before a critic step (G gets no gradient)."""
        return FakePair(self.images.detach(), self.reference.detach())


class CramerGAN(AdversarialModule):
    """Cramér GAN, Algorithm 1, on the skeleton's hooks.

    ``loss`` must be ``conf/loss/cramer.yaml``: its ``discriminator`` is −L_surrogate, its
    ``generator`` L_g and its ``estimate`` the logged energy distance, all on critic features;
    ``loss.gp_weight`` is λ of the penalty on f (the paper: 10), which this class applies (the
    skeleton's own penalty on scalar scores is never used here).

    Args (besides the skeleton's):
        critic_dim: K, the size of h's output (the paper: 256); passed to the discriminator
            config as ``out_features`` (the MLP and DCGAN discriminators accept it).
    """

    required_loss = "cramer"
    r1_unsupported = "its critic loss and penalty are the Cramér GAN's own (Algorithm 1)."
    packing_unsupported = ("its critic features, energy distance and penalty are per sample (this class's own "
                           "_features and cramer_gradient_penalty do not pack).")

    def __init__(self, *args: Any, critic_dim: int = 256, **kwargs: Any) -> None:
        if critic_dim < 1:
            raise ValueError(f"critic_dim must be >= 1, got {critic_dim}.")
        super().__init__(*args, **kwargs)  # refuses BatchNorm in h, since the penalty is on (below)
        if self.objective.gp_weight <= 0:
            raise ValueError(
                f"Cramér GAN needs the gradient penalty on its critic f (Algorithm 1), but loss.gp_weight="
                f"{self.objective.gp_weight}. Use loss.gp_weight=10 (the paper's λ)."
            )

    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        return instantiate({**cfg, "out_features": self.hparams.critic_dim})

    # ----- sampling -------------------------------------------------------------------------
    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> FakePair:
        """x_g and x'_g from two generator passes, so that G's BatchNorm (if any) does not couple them."""
        return FakePair(self.sample_images(n, generator), self.sample_images(n, generator))

    def sample_images(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.generator(self.sample_latent(n, generator=generator))

    # ----- critic ---------------------------------------------------------------------------
    def features(self, x: Tensor) -> Tensor:
        """h(x) (B, K), also for K = 1 (whose networks return (B,))."""
        return self.discriminator(x).reshape(len(x), -1)

    def _features(self, *batches: Tensor) -> tuple[Tensor, ...]:
        # one pass over the concatenated batches: h treats samples independently (no BatchNorm)
        return self.features(torch.cat(batches)).split([len(b) for b in batches])

    def d_scores(self, samples: FakePair | Tensor) -> Tensor:
        """f (B,) of a batch: a FakePair's x_g against its own x'_g, any other batch (validation's
        real data) against a fresh generator batch."""
        if isinstance(samples, FakePair):
            x, reference = samples
        else:
            x, reference = samples, self.sample_images(len(samples))
        h_x, h_ref = self._features(x, reference)
        return cramer_surrogate(h_x, h_ref)

    # ----- losses ---------------------------------------------------------------------------
    def discriminator_loss(self, real: Tensor, fake: FakePair) -> tuple[Tensor, Logs]:
        """L_critic = −L_surrogate + λ (‖∇_x̂ f(x̂)‖₂ − 1)² (Algorithm 1), on a detached FakePair."""
        obj = self.objective
        h_real, h_fake, h_fake2 = self._features(real, fake.images, fake.reference)
        gp = cramer_gradient_penalty(self.features, real, fake.images, h_fake2, one_sided=obj.gp_one_sided)
        loss = obj.discriminator(h_real, h_fake, h_fake2) + obj.gp_weight * gp
        with torch.no_grad():
            logs = {
                "train/d_loss": loss,
                "train/d_real": cramer_surrogate(h_real, h_fake2).mean(),  # E f(x_r)
                "train/d_fake": cramer_surrogate(h_fake, h_fake2).mean(),  # E f(x_g)
                "train/gradient_penalty": gp,
            }
            if obj.estimate is not None and len(real) >= 2:
                logs[f"train/{obj.estimate_name}"] = obj.estimate(h_real, h_fake, h_fake2)
        return loss, logs

    def generator_loss(self, real: Tensor, fake: FakePair) -> tuple[Tensor, Logs]:
        """L_g, the energy-distance estimate (Algorithm 1), on a FakePair that carries G's graph."""
        loss = self.objective.generator(*self._features(real, fake.images, fake.reference))
        return loss, {"train/g_loss": loss}
