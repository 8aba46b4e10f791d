"""DiscoGAN (Kim et al. 2017, "Learning to Discover Cross-Domain Relations with Generative Adversarial Networks")
as a variant of `lit_gans.models.CycleGAN`: the same two generators and two discriminators, the standard GAN loss,
and a reconstruction loss in both directions with weight 1 (Section 3.2, eq. 5 and 6):

    L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B,   L_CONST_A = d(G_BA(G_AB(x_A)), x_A),   L_D = L_D_A + L_D_B

with d the mean squared error (the paper names MSE, cosine or hinge distances; the authors' code uses MSE). No
identity term, no history pool, the D loss not halved.

The authors' code (``discogan/image_translation.py``) adds what the paper does not state; each is an option here,
off by default (the paper's):
  * ``fm_weight`` w: the adversarial term of each direction becomes (1 − w)·GAN + w·FM, FM the feature matching of
    D's intermediate layers (`lit_gans.losses.feature_matching_loss`); the code's w = 0.9 (``gen_loss*0.1 +
    fm_loss*0.9``);
  * ``curriculum`` {start_rate, rate, steps}: each direction's total becomes (adversarial)·(1 − r) + r·L_CONST with
    r = start_rate for the first ``steps`` generator steps, then rate (the code's 0.01, 0.5, 10,000), replacing
    the weight ``lambda_cycle``;
  * ``unit_range``: the networks work on [0, 1] images with a sigmoid output (the code's); the data and every
    interface stay in [-1, 1] (batches mapped by (x + 1)/2 in training, `translate` maps in and out).
Not built: the code's "D every third iteration, G the other two".

``architecture`` is the paper's toy comparison (Section 4.1, Figure 3; the code's ``--model_arch``): "discogan"
(the above), "recongan" (GAN with reconstruction: L_GAN_B + L_CONST_A for G_AB and G_BA, D_B only) and "gan" (L_GAN_B
for G_AB and D_B only: the standard GAN from A to B).
"""

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from lit_gans.data.unpaired import Unpaired
from lit_gans.losses.translation import feature_matching_loss
from lit_gans.models.base import Logs
from lit_gans.models.cyclegan import CycleGAN
from lit_gans.models.steps import BatchState

ARCHITECTURES = ("discogan", "recongan", "gan")
CURRICULUM_KEYS = {"start_rate", "rate", "steps"}


class DiscoGAN(CycleGAN):
    """Args: as `CycleGAN`; ``lambda_cycle`` weighs both reconstruction terms (1 in the paper), ``lambda_identity``
    and ``pool_size`` default to 0 (the paper has neither); and
        architecture: "discogan" | "recongan" | "gan" (module docstring).
        fm_weight: the feature-matching share w of each adversarial term, 0 (paper) to 1; the authors' code 0.9.
            Needs a discriminator with ``features(x) -> list`` (`lit_gans.networks.DiscoGANDiscriminator`).
        curriculum: None (paper), or {start_rate, rate, steps}: the authors' reconstruction-rate schedule.
        unit_range: False (images in [-1, 1], tanh) or True (the authors' [0, 1] with a sigmoid output; the generator
            config must have an ``output_activation`` key, which this sets to "sigmoid").
    """

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 lambda_cycle: float = 1.0, lambda_identity: float = 0.0, pool_size: int = 0,
                 architecture: str = "discogan", fm_weight: float = 0.0, curriculum: Mapping[str, Any] | None = None,
                 unit_range: bool = False, **kwargs: Any) -> None:
        if architecture not in ARCHITECTURES:
            raise ValueError(f"model.architecture must be one of {ARCHITECTURES}, got {architecture!r}.")
        if not 0 <= fm_weight <= 1:
            raise ValueError(f"model.fm_weight is the feature-matching share of the adversarial term, in [0, 1]; got {fm_weight}.")
        if curriculum is not None:
            if set(curriculum) != CURRICULUM_KEYS or not all(0 <= curriculum[k] <= 1 for k in ("start_rate", "rate")) \
                    or curriculum["steps"] < 0:
                raise ValueError(f"model.curriculum takes {{start_rate, rate in [0, 1], steps >= 0}} (the authors' "
                                 f"0.01, 0.5, 10000), got {dict(curriculum)}.")
        if unit_range and "output_activation" not in generator:
            raise ValueError("model.unit_range=true needs a generator with an output_activation option (sigmoid for "
                             "[0, 1] images), e.g. net/generator@model.generator=discogan.")
        super().__init__(generator, discriminator, *args, lambda_cycle=lambda_cycle, lambda_identity=lambda_identity,
                         pool_size=pool_size, **kwargs)
        if fm_weight > 0:
            for d in (self.discriminator, self.discriminator_a):
                if not callable(getattr(d, "features", None)):
                    raise ValueError(f"model.fm_weight={fm_weight} matches D's intermediate features, but "
                                     f"{type(d).__name__} has no features(x) method; use "
                                     "net/discriminator@model.discriminator=discogan or model.fm_weight=0.")

    def build_generator(self, cfg: Mapping[str, Any]) -> nn.Module:
        """G, with a sigmoid output under ``unit_range`` (the authors' [0, 1] images)."""
        if self.hparams.get("unit_range"):
            cfg = {**cfg, "output_activation": "sigmoid"}
        return super().build_generator(cfg)

    def build_discriminator(self, cfg: Mapping[str, Any]) -> Any:
        """D with ``in_size`` = the images' side when its config has that key (DiscoGAN's D; a PatchGAN has none)."""
        if "in_size" in cfg:
            cfg = {**cfg, "in_size": int(self.hparams.generator["in_shape"][1])}
        return super().build_discriminator(cfg)

    # ----- the [0, 1] option ---------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, images: Tensor, direction: str = "AtoB", seed: int | None = None) -> Tensor:
        """As `CycleGAN.translate` (in and out in [-1, 1]); under ``unit_range`` the networks see (x + 1)/2 and
        their [0, 1] output is mapped back by 2y − 1."""
        if not self.hparams.unit_range:
            return super().translate(images, direction, seed)
        return super().translate((images + 1) / 2, direction, seed) * 2 - 1

    def batch_start(self, state: BatchState) -> None:
        if self.hparams.unit_range:  # the steps (and D) see [0, 1] images, as the authors' code
            real = state.real
            state.real = Unpaired((real.a + 1) / 2, (real.b + 1) / 2, real.labels_a, real.labels_b)
        super().batch_start(state)

    # ----- the losses --------------------------------------------------------------------------------
    def reconstruction_loss(self, output: Tensor, target: Tensor) -> Tensor:
        """d = MSE, a per-pixel mean (Section 3.2; the authors' ``nn.MSELoss``)."""
        return (output - target).pow(2).mean()

    def discriminator_objective(self, d_real: Tensor, d_fake: Tensor) -> Tensor:
        """L_D_B = −E[log D_B(x_B)] − E[log(1 − D_B(G_AB(x_A)))] (eq. 3), not halved."""
        return self.objective.discriminator(d_real, d_fake)

    def reconstruction_rate(self) -> float | None:
        """r of the authors' curriculum at the current generator step (None without a curriculum). The generator
        steps so far: ``global_step`` counts both players' optimizer steps, one each per batch."""
        cfg = self.hparams.curriculum
        if not cfg:
            return None
        return cfg["start_rate"] if self.global_step // 2 < cfg["steps"] else cfg["rate"]

    def adversarial_term(self, discriminator: nn.Module, fake: Tensor, real: Tensor) -> tuple[Tensor, Logs]:
        """(1 − w)·L_GAN + w·FM for one direction's translations ``fake`` against the target domain's ``real``."""
        gan = self.objective.generator(discriminator(fake).reshape(len(fake), -1))
        w = self.hparams.fm_weight
        if w == 0:
            return gan, {}
        fm = feature_matching_loss(discriminator.features(real), discriminator.features(fake))
        return (1 - w) * gan + w * fm, {"fm": fm.detach()}

    def generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """Per direction (A -> B: D_B judges G_AB(a), a's reconstruction; B -> A the mirror): adversarial + λ·L_CONST
        (eq. 5-6), or (adversarial)·(1 − r) + r·L_CONST under the curriculum; summed over the directions the
        ``architecture`` trains ("recongan": A -> B only; "gan": A -> B's adversarial term only)."""
        real, cache, hp = state.real, state.cache, self.hparams
        rate = self.reconstruction_rate()
        directions = [("ab", self.discriminator, cache["fake_b"], real.b, cache["rec_a"], real.a),
                      ("ba", self.discriminator_a, cache["fake_a"], real.a, cache["rec_b"], real.b)]
        if hp.architecture != "discogan":
            directions = directions[:1]
        loss: Tensor | float = 0.0
        logs: Logs = {}
        for key, discriminator, fake, target, rec, source in directions:
            adversarial, extra = self.adversarial_term(discriminator, fake, target)
            logs.update({f"train/g_adversarial_{key}": adversarial.detach(),
                         **{f"train/{k}_{key}": v for k, v in extra.items()}})
            if hp.architecture == "gan":
                loss = loss + adversarial
                continue
            reconstruction = self.reconstruction_loss(rec, source)
            logs[f"train/cycle_{key[0]}"] = reconstruction.detach()
            if rate is None:
                loss = loss + adversarial + hp.lambda_cycle * reconstruction
            else:
                loss = loss + (1 - rate) * adversarial + rate * reconstruction
        if rate is not None:
            logs["train/reconstruction_rate"] = torch.tensor(rate)
        logs["train/g_loss"] = loss
        return loss, logs  # type: ignore[return-value]

    def discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """L_D_A + L_D_B ("discogan"); L_D_B alone for "recongan" and "gan" (D_A does not play)."""
        if self.hparams.architecture == "discogan":
            return super().discriminator_step(state)
        real, cache = state.real, state.cache
        fake_b = self.pools["b"].query(cache["fake_b"].detach())
        d_real, d_fake = self.d_scores(real.b), self.d_scores(fake_b)
        loss = self.discriminator_objective(d_real, d_fake)
        return loss, {"train/d_loss": loss, "train/d_b_loss": loss.detach(), "train/d_real": d_real.mean().detach(),
                      "train/d_fake": d_fake.mean().detach()}
