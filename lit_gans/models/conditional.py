"""Class-conditional GANs: cGAN (Mirza & Osindero 2014), its matching-aware discriminator
(GAN-CLS, Reed et al. 2016) and AC-GAN (Odena et al. 2017).

G(z, y) reads a label drawn uniformly for each fake; real batches bring their labels. The
hooks get ``Labeled(images, labels)`` for both.
"""

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.losses import matching_aware_discriminator_loss
from lit_gans.models.base import AdversarialModule, Labeled, Logs
from lit_gans.networks.conditional import ConditionalDiscriminator, ConditionalGenerator


class LabelConditioned(AdversarialModule):
    """The part cGAN and AC-GAN share: G(z, y), labels on real and fake batches, per-class
    sampling (``val/class_accuracy``, class-row sample grids)."""

    r1_unsupported = "its discriminator reads labels beside the images; no penalty is implemented for it."
    condition_kind = "label"
    packing_unsupported = ("PacGAN (Lin et al. 2018) packs samples for an unconditional discriminator; a conditional "
                           "D would need the labels of every packed sample, which the paper does not define.")

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 num_classes: int = 10, embed_dim: int = 10, latent_dim: int = 100, **kwargs: Any) -> None:
        super().__init__(generator, discriminator, *args, latent_dim=latent_dim, **kwargs)
        if self.objective.gp_weight > 0:
            raise ValueError("Conditional models with a gradient penalty are not supported; use a GAN loss.")

    def build_generator(self, cfg: Mapping[str, Any]) -> nn.Module:
        hp = self.hparams  # the inner G reads [z, embed(y)]
        inner = instantiate({**cfg, "latent_dim": hp.latent_dim + hp.embed_dim})
        return ConditionalGenerator(inner, hp.num_classes, hp.embed_dim)

    @property
    def num_conditions(self) -> int:
        return self.hparams.num_classes

    def setup(self, stage: str) -> None:
        served = getattr(getattr(self.trainer, "datamodule", None), "num_classes", None)
        if served is not None and served != self.hparams.num_classes:
            raise ValueError(f"model.num_classes={self.hparams.num_classes} but the data has {served} classes; "
                             f"set model.num_classes={served}.")

    @staticmethod
    def real_samples(batch: Any) -> Labeled:
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError("Conditional models need (images, labels) batches.")
        return Labeled(batch[0], batch[1])

    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.randint(self.hparams.num_classes, (n,), generator=generator).to(self.device)

    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> Labeled:
        z, labels = self.sample_latent(n, generator=generator), self.sample_labels(n, generator=generator)
        return Labeled(self.generator(z, labels), labels, z)

    def sample_for_class(self, n: int, k: int, generator: torch.Generator | None = None) -> Tensor:
        z = self.sample_latent(n, generator=generator)
        return self.generator(z, torch.full((n,), k, dtype=torch.long, device=self.device))

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        labels = self.sample_labels(len(z)) if labels is None else labels
        return self.generator(z, labels)

    @torch.no_grad()
    def sample_grid(self, seed: int = 0, columns: int = 10) -> tuple[Tensor, int]:
        """One row per class, the same z in each column."""
        k = self.hparams.num_classes
        z = self.sample_latent(columns, generator=torch.Generator().manual_seed(seed)).repeat(k, 1)
        labels = torch.arange(k, device=self.device).repeat_interleave(columns)
        return self.generator(z, labels), columns


class CGAN(LabelConditioned):
    """Conditional GAN: D(x, y) as well (``conditioning``: "projection" for conv nets, "concat"
    for MLPs). ``matching_aware``: GAN-CLS's D also sees real images with wrong labels and must
    reject them: L_D = log s_r + (log(1 − s_w) + log(1 − s_f)) / 2 (Reed et al. 2016, Algorithm 1),
    i.e. our D loss averaged over (real, fake) and (real, wrong-label real) pairs."""

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 num_classes: int = 10, embed_dim: int = 10, conditioning: str = "projection",
                 matching_aware: bool = False, **kwargs: Any) -> None:
        super().__init__(generator, discriminator, *args, num_classes=num_classes, embed_dim=embed_dim, **kwargs)

    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        hp = self.hparams
        if hp.conditioning == "concat":  # the inner MLP reads [flatten(x), embed(y)]
            cfg = {**cfg, "in_shape": [math.prod(cfg["in_shape"]) + hp.embed_dim]}
        return ConditionalDiscriminator(instantiate(cfg), hp.num_classes, hp.conditioning, hp.embed_dim)

    def d_scores(self, samples: Labeled) -> Tensor:
        return self.discriminator(samples.images, samples.labels)

    def discriminator_loss(self, real: Labeled, fake: Labeled) -> tuple[Tensor, Logs]:
        d_real, d_fake = self.d_scores(real), self.d_scores(fake)
        loss, logs = self.adversarial_d_loss(real, fake, d_real, d_fake)
        if self.hparams.matching_aware:  # conditional models refuse the penalties: loss is the objective's alone
            wrong = wrong_labels(real.labels, self.hparams.num_classes)
            d_wrong = self.d_scores(Labeled(real.images, wrong))
            loss = matching_aware_discriminator_loss(self.objective.discriminator, d_real, d_fake, d_wrong)
            logs["train/d_loss"], logs["train/d_wrong"] = loss, d_wrong.mean()
        return loss, logs


def wrong_labels(labels: Tensor, num_classes: int) -> Tensor:
    """A label different from each given one, uniformly among the other classes."""
    shift = torch.randint(1, num_classes, labels.shape, device=labels.device)
    return (labels + shift) % num_classes


class ACGAN(LabelConditioned):
    """AC-GAN: D is not told the label but predicts it (a linear head on D's last features).
    D minimises the source loss + λ (CE on real + CE on fake labels); G minimises its source loss
    + λ CE on its fakes' requested labels (Odena et al. 2017, eq. (1)-(2): L_C for both, L_S for D
    and −L_S for G)."""

    def __init__(self, *args: Any, lambda_class: float = 1.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not hasattr(self.discriminator, "features_and_score"):
            raise ValueError(f"{type(self.discriminator).__name__} exposes no features for AC-GAN's classifier.")
        self.classifier = nn.Linear(self.discriminator.feature_dim, self.hparams.num_classes)

    players = {"g": ("generator",), "d": ("discriminator", "classifier")}  # the classifier trains with D

    def d_scores(self, samples: Labeled) -> Tensor:
        return self.discriminator(samples.images)

    def _score_and_class_loss(self, samples: Labeled) -> tuple[Tensor, Tensor]:
        features, score = self.discriminator.features_and_score(samples.images)
        return score, F.cross_entropy(self.classifier(features), samples.labels)

    def discriminator_loss(self, real: Labeled, fake: Labeled) -> tuple[Tensor, Logs]:
        (d_real, ce_real), (d_fake, ce_fake) = self._score_and_class_loss(real), self._score_and_class_loss(fake)
        loss, logs = self.adversarial_d_loss(real, fake, d_real, d_fake)
        class_loss = ce_real + ce_fake
        logs.update({"train/d_class_real": ce_real.detach(), "train/d_class_fake": ce_fake.detach()})
        return loss + self.hparams.lambda_class * class_loss, logs

    def generator_loss(self, real: Labeled, fake: Labeled) -> tuple[Tensor, Logs]:
        d_fake, ce_fake = self._score_and_class_loss(fake)
        loss, logs = self.adversarial_g_loss(d_fake)
        logs["train/g_class"] = ce_fake.detach()
        return loss + self.hparams.lambda_class * ce_fake, logs
