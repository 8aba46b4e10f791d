"""GP-GAN's blending GAN (Wu et al. 2017, "GP-GAN: Towards Realistic High-Resolution Image Blending", Section 3.1).

An encoder-decoder G maps a copy-and-paste composite x (64 px) to a low-resolution, well-blended image x^l; it is
trained against the ground truth y (the destination image, same scene) with

    L(x) = λ L_l2(x) + (1 − λ) L_adv(x),  λ = 0.999                                       (Section 3.1)

where L_l2 = ‖y − G(x)‖² and L_adv is the Wasserstein GAN term of a DCGAN critic that sees single images (real: y;
fake: G(x)), with weight clipping at 0.01 and 5 critic steps per G step, Adam (lr 2e-4 for D, 2e-3 for G, β1 0.5):
the authors' ``train_blending_gan.py`` / ``updater.py``. The high-resolution result is the Gaussian-Poisson equation
of `lit_gans.blending` with x^l as its colour constraint (``blend.py``, `blend`).

On the skeleton: players g and d, D's step every batch then WGAN's clipping (`WGAN.after_discriminator_step`), G's
step every ``n_critic``-th batch (or the authors' warm-up schedule, ``n_critic_warmup``); translation, validation
metrics (L1, PSNR, SSIM against the targets) and sample grids (composite / G(x) / target) as pix2pix's.
"""

from collections.abc import Mapping
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.blending import gp_blend
from lit_gans.blending.pyramid import (
    check_blend_inputs,
    copy_paste,
    gaussian_pyramid,
    pyramid_sizes,
    resize,
)
from lit_gans.data.paired import Paired, named_batch
from lit_gans.losses.translation import blending_gan_loss, l2_blending_loss
from lit_gans.models.base import Logs
from lit_gans.models.pix2pix import Pix2Pix, translation_mode
from lit_gans.models.steps import BatchState, Step
from lit_gans.models.wgan import WGAN
from lit_gans.translation import check_direction


class BlendingGAN(Pix2Pix, WGAN):
    """GP-GAN's blending GAN: players g (the encoder-decoder) and d (the critic); steps d (+ clipping) then g.

    Args:
        generator, discriminator: ``conf/net`` configs (`lit_gans.networks.BlendingGenerator`, `BlendingCritic`);
            the critic's ``in_channels`` is set here (the output's channels: it sees one image, not a pair).
        l2_weight: λ of the blending loss, the authors' 0.999; 1 is the encoder-decoder with L2 alone (D takes no steps and G
            one per batch).
        clip_value, n_critic_warmup: WGAN's (`lit_gans.models.wgan.WGAN`); the authors clip at 0.01 and, from the
            WGAN code they build on, train the critic 100 times per G step for the first 25 G steps and every 500th.
        The other arguments are the skeleton's (`AdversarialModule`); latent_dim is unused (no z).
    """

    players = {"g": ("generator",), "d": ("discriminator",)}
    steps = (Step("d", "discriminator_step", due="discriminator_step_due", after="after_discriminator_step"),
             Step("g", "generator_step", due="generator_step_due"))
    supports_feature_matching = False
    packing_unsupported = "PacGAN packs noise samples; the blending GAN's critic scores blends of given composites."
    r1_unsupported = "the blending GAN's critic is a WGAN critic with weight clipping (Wu et al. 2017)."

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 l2_weight: float = 0.999, **kwargs: Any) -> None:
        super(Pix2Pix, self).__init__(generator, discriminator, *args, **kwargs)  # WGAN's, then the skeleton's
        if not 0 <= l2_weight <= 1:
            raise ValueError(f"model.l2_weight (λ of the blending loss) must be in [0, 1], got {l2_weight} (the authors: 0.999).")
        if self.objective.gp_weight > 0:
            raise ValueError("the blending GAN's critic step applies no gradient penalty (the authors clip weights); "
                             "use loss=wasserstein (model.clip_value=0.01).")
        self.init_validation_metrics()

    # ----- networks and data ---------------------------------------------------------------------------
    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        return instantiate({**cfg, "in_channels": self.channels[1]})

    def d_scores(self, samples: Paired) -> Tensor:
        """The critic's scores (B,) of the images b (a target or a blend; it never sees the composite)."""
        return self.discriminator(samples.b)

    @staticmethod
    def real_samples(batch: Any) -> Paired:
        return named_batch(Paired, batch, "the blending GAN trains on (composite, target) pairs: use "
                                          "data=photo_composites (offline) or data=blending_folder data.root=<scene "
                                          "folders> (also data=mnist_edges / data=paired).")

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        shape = getattr(datamodule, "shape", None)
        if shape is not None and tuple(int(s) for s in shape) != self.generator.in_shape:
            raise ValueError(f"the blending GAN is built for {self.generator.in_shape} composites but the data serves "
                             f"{tuple(shape)}: set model.generator.in_shape to the data's shape (the default follows "
                             "data.shape).")

    # ----- translation and blending --------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, images: Tensor, direction: str = "AtoB", seed: int | None = None) -> Tensor:
        """G(composites) in eval mode (batch norm on its running statistics); ``seed`` is accepted for the common
        interface (G draws no noise)."""
        check_direction(self, direction)
        with translation_mode(self.generator, as_in_training=False):
            return self.generator(images)

    def check_translation_size(self, height: int, width: int, direction: str = "AtoB") -> None:
        size = self.generator.image_size
        if (height, width) != (size, size):
            raise ValueError(f"the blending GAN takes {size}x{size} composites (it ends in a 1x1 code); this image is "
                             f"{height}x{width}. Resize it to {size}x{size}, or use blend.py, which does.")

    @torch.no_grad()
    def blend(self, source: Tensor, destination: Tensor, mask: Tensor, **gp_options: Any) -> Tensor:
        """GP-GAN at any resolution: the composite resized to the GAN's size -> x^l -> the Gaussian-Poisson pyramid
        (`lit_gans.blending.gp_blend`). Images (B, C, H, W) in [0, 1], mask (B, 1, H, W); returns [0, 1]."""
        check_blend_inputs(source, destination, mask)
        size = self.generator.image_size
        sizes = pyramid_sizes(*source.shape[-2:], size)
        src0, dst0 = (gaussian_pyramid(x, sizes, gp_options.get("smooth_sigma", 1.0))[0] for x in (source, destination))
        composite = copy_paste(src0, dst0, resize(mask, sizes[0], "nearest"))
        low = (self.translate(composite.to(self.device) * 2 - 1).to(source) + 1) / 2
        return gp_blend(source, destination, mask, low=low.clamp(0, 1), image_size=size, **gp_options)

    # ----- the steps -------------------------------------------------------------------------------------
    def batch_start(self, state: BatchState) -> None:
        """Nothing shared: the critic's fake is G(x) before the critic moves, G's step draws its own afterwards."""

    def discriminator_step_due(self, batch_idx: int) -> bool:
        return self.hparams.l2_weight < 1  # L2 alone: the critic has no role

    def generator_step_due(self, batch_idx: int) -> bool:
        """Every n_critic-th batch (WGAN's schedule); with L2 alone (no critic) every batch."""
        return self.hparams.l2_weight >= 1 or super().generator_step_due(batch_idx)

    def discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """The critic's loss on the targets y (real) and the blends G(x) (fake, no graph into G: G is toggled off)."""
        real = state.real
        fake = Paired(real.a, self.generator(real.a).detach(), real.labels)
        d_real, d_fake = self.d_scores(real), self.d_scores(fake)
        loss = self.objective.discriminator(d_real, d_fake)
        logs = {"train/d_loss": loss, "train/d_real": d_real.mean(), "train/d_fake": d_fake.mean()}
        if self.objective.estimate is not None:
            logs[f"train/{self.objective.estimate_name}"] = self.objective.estimate(d_real, d_fake)
        return loss, logs

    def generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """λ‖y − G(x)‖² + (1 − λ) L_adv(D(G(x))) (Section 3.1), D as just updated."""
        real, l2_weight = state.real, self.hparams.l2_weight
        fake = self.generator(real.a)
        l2 = l2_blending_loss(fake, real.b)
        adversarial = self.objective.generator(self.d_scores(Paired(real.a, fake, real.labels))) if l2_weight < 1 \
            else torch.zeros((), device=fake.device)
        loss = blending_gan_loss(l2, adversarial, l2_weight)
        return loss, {"train/g_loss": loss, "train/l2": l2.detach(), "train/g_adversarial": adversarial.detach()}

