"""BiGAN (Donahue et al. 2017) and ALI (Dumoulin et al. 2017): a generator G: z -> x and an encoder E: x -> z
trained together against a discriminator of joint pairs D(x, z).

D separates data pairs (x, E(x)) from generated pairs (G(z), z); G and E are one player (one optimizer) that
wants the opposite (`lit_gans.losses.bidirectional_generator_loss`). At the optimum E = G⁻¹ (BiGAN Theorem 2).
Each player's loss comes from its own forward pass: the D step scores a fresh fake pair and E(x) with G and E
toggled off; the G/E step scores the same real batch and a new fake pair with D toggled off. (ALI's authors
apply both players' gradients from one pass; a popular port's ``retain_graph`` version of that fails on current
PyTorch with an in-place error.)

BiGAN's encoder is deterministic; ALI's is a reparameterised Gaussian q(z|x) = N(μ(x), σ(x)²): D sees a sampled
z = μ + σ·ε, and `encode` (codes, reconstructions, metrics) returns μ.
"""

from collections.abc import Mapping
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.losses import bidirectional_generator_loss
from lit_gans.models.base import AdversarialModule, Labeled, Logs, images_of


class BiGAN(AdversarialModule):
    """Args (besides the skeleton's):
        discriminator: the x branch of D (any discriminator config exposing ``features_and_score``: the MLP, DCGAN
            or InfoGAN nets; toy data configs swap in the toy MLP as for every model).
        joint_discriminator: the ``JointDiscriminator`` config (z branch and joint stack) built around that branch.
        encoder: E's network config (``out_features`` is the latent size; ALI doubles it for μ and log σ).
        optimizer_g: the G/E player's optimizer, over G's and E's parameters together.
    """

    players = {"g": ("generator", "encoder"), "d": ("discriminator",)}
    has_encoder = True
    stochastic_encoder = False  # ALI: q(z|x) is a Gaussian
    packing_unsupported = ("D scores (x, z) pairs; PacGAN's packs of images have no single code to pair with.")
    r1_unsupported = "D scores (x, z) pairs; the gradient with respect to x alone is not the paper's regulariser."

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        *args: Any,
        encoder: Mapping[str, Any],
        joint_discriminator: Mapping[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, discriminator, *args, **kwargs)
        if self.objective.gp_weight > 0:
            raise ValueError(f"{type(self).__name__}'s D reads (x, z) pairs; the gradient penalty interpolates images "
                             "only. Use loss=non_saturating (the paper's) or another loss without a penalty.")
        self.encoder = self.build_encoder(self.hparams.encoder)

    # ----- networks ---------------------------------------------------------------------------
    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        """D(x, z): the joint stack (``joint_discriminator``) around the x branch built from ``cfg``."""
        joint = dict(self.hparams.joint_discriminator)
        joint.setdefault("latent_dim", self.hparams.latent_dim)
        return instantiate(joint, x_net=instantiate(cfg))

    def build_encoder(self, cfg: Mapping[str, Any]) -> nn.Module:
        """E from its config, with ``out_features`` = the latent size (2x for a Gaussian encoder's μ and log σ)."""
        return instantiate({**cfg, "out_features": self.hparams.latent_dim * (2 if self.stochastic_encoder else 1)})

    # ----- the encoder hooks ------------------------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        """E(x) (B, latent_dim); ALI: the mean μ(x) of q(z|x)."""
        return self.encoder(x)

    def encode_for_training(self, x: Tensor) -> Tensor:
        """The z that D pairs with real x: E(x) (ALI: a reparameterised sample of q(z|x))."""
        return self.encoder(x)

    # ----- pairs ------------------------------------------------------------------------------
    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> Labeled:
        """The generated pair (G(z), z): ``Labeled(images, None, z)``."""
        z = self.sample_latent(n, generator=generator)
        return Labeled(self.generator(z), None, z)

    def condition_arrays(self, samples: Any) -> dict[str, Tensor]:
        return {}  # unconditional: exports carry z, nothing else

    def d_scores(self, samples: Any) -> Tensor:
        """D of a pair batch (B,): a generated ``Labeled`` pair is (G(z), z); a tensor of real images x is paired
        with E(x) here (through E's graph when E is not toggled off: the G/E step)."""
        if isinstance(samples, Labeled):
            return self.discriminator(samples.images, samples.z)
        x = images_of(samples)
        return self.discriminator(x, self.encode_for_training(x))

    def generator_loss(self, real: Any, fake: Any) -> tuple[Tensor, Logs]:
        """G and E's loss on the real batch (E's graph) and a fresh generated pair (G's graph), D frozen."""
        d_real, d_fake = self.d_scores(real), self.d_scores(fake)
        loss = bidirectional_generator_loss(d_real, d_fake, self.objective.discriminator, self.objective.zero_sum)
        return loss, {"train/g_loss": loss}


class ALI(BiGAN):
    """ALI: BiGAN's game with a stochastic encoder q(z|x) = N(μ(x), diag σ(x)²), E's output read as [μ, log σ]
    and z sampled by the reparameterisation z = μ + σ ⊙ ε, ε ~ N(0, I) (Dumoulin et al. 2017, Section 2.2)."""

    stochastic_encoder = True

    def gaussian(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(μ, log σ) of q(z|x), each (B, latent_dim)."""
        mean, log_std = self.encoder(x).chunk(2, dim=1)
        return mean, log_std

    def encode(self, x: Tensor) -> Tensor:
        return self.gaussian(x)[0]

    def encode_for_training(self, x: Tensor) -> Tensor:
        mean, log_std = self.gaussian(x)
        return mean + log_std.exp() * torch.randn_like(mean)
