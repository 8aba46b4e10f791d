"""StackGAN (Zhang et al. 2017): a text- or class-conditioned GAN trained in two stages.

Stage-I draws a low-resolution image s0 = G0(z, ĉ0) from noise and a condition; Stage-II, trained afterwards
with Stage-I fixed, redraws it at a higher resolution, s = G(s0, ĉ) (no new noise: s0 carries it). Both stages
use conditioning augmentation (ĉ ~ N(μ(φ), Σ(φ)), `lit_gans.networks.stackgan.ConditioningAugmentation`) with
the KL regulariser on G (`lit_gans.losses.conditioning_augmentation_kl`), and a matching-aware discriminator that
also rejects real images with a wrong condition (GAN-CLS, `lit_gans.losses.matching_aware_discriminator_loss`).

One class, ``stage`` = 1 or 2 (conf/model/stackgan_stage1.yaml, stackgan_stage2.yaml): the two stages share the
conditions, the losses, sampling and metrics; only the generator, the real images' resolution and the frozen
Stage-I generator inside Stage-II differ. Stage-II loads Stage-I's generator from ``stage1_ckpt`` (through the
safe loader, `lit_gans.checkpoints.read_checkpoint`) when training starts; its weights are then part of the
Stage-II checkpoint, so sampling a Stage-II run needs only that checkpoint.

Conditions come with each real batch ``(images, conditions)``: class labels (``num_classes`` > 0; MNIST) or text
embeddings (B, phi_dim) (``num_classes=0``; `lit_gans.data.TextEmbeddingFolderDataModule`). As in the authors'
code, the fakes of a batch are drawn for the real batch's conditions (fake/right pairs), once per batch: D learns
from them detached, then G through the updated D.
"""

import logging
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.checkpoints import read_checkpoint
from lit_gans.losses import (
    conditioning_augmentation_kl,
    matching_aware_discriminator_loss,
)
from lit_gans.losses.conditioning import KL_REDUCTIONS
from lit_gans.models.base import AdversarialModule, Labeled, Logs, detached, images_of
from lit_gans.models.conditional import wrong_labels
from lit_gans.models.steps import BatchState

log = logging.getLogger(__name__)
STAGES = (1, 2)
STAGE1_FIX = ("set model.stage1_ckpt=<Stage-I run>/checkpoints/last.ckpt (train Stage-I first, e.g. "
              "python train.py experiment=stackgan_mnist_stage1).")


class StackGAN(AdversarialModule):
    """StackGAN's Stage-I (``stage=1``) or Stage-II (``stage=2``) GAN.

    Args:
        generator: Stage-I: a `StackGANStage1Generator` config; Stage-II: a `StackGANStage2Generator` config.
        discriminator: a `StackGANDiscriminator` config for this stage's resolution.
        stage: 1 or 2.
        num_classes: > 0: the conditions are class labels 0..num_classes-1 (learned embeddings); 0: text
            embeddings (B, phi_dim) served by the data.
        image_size: the side of the data's images. A stage that draws smaller images (Stage-I on MNIST: 14 px of
            28) trains on the real images downsampled to its generator's size (bilinear, antialiased); metrics
            and `sample_images` see its samples upsampled to ``image_size`` (so Stage-I and Stage-II are scored
            on the same features).
        kl_weight, kl_reduction: λ and the reduction of the conditioning-augmentation KL in G's loss; 2.0 with
            "mean" (over batch and dimensions) as in the authors' code (miscc/config.py TRAIN.COEFF.KL, miscc/utils.py KL_loss).
        stage1_generator: Stage-II: the Stage-I generator's config (the Stage-I run's ``model.generator``).
        stage1_ckpt: Stage-II: the Stage-I run's checkpoint, loaded when training starts (not on resume: the
            Stage-II checkpoint holds Stage-I's weights). Stage-I's weights never change in Stage-II: they are
            in no optimizer, require no gradient, and the network stays in eval mode (BatchNorm uses its running
            statistics; the authors' code leaves it in train mode, so their Stage-I statistics drift).
        phi_dim: the size of φ: the text embeddings' dimension (CUB char-CNN-RNN: 1024), or the learned label
            embedding's; c_dim: the size of ĉ (128 in the authors' configs). The networks' configs read both.
        condition_bank_size: text conditions: how many training embeddings the model keeps (a ring buffer, saved
            in checkpoints) to draw conditions from when it samples without data (grids, metrics, sample.py).
    """

    packing_unsupported = "StackGAN's discriminator is conditional; PacGAN packs samples for an unconditional one."
    r1_unsupported = "StackGAN's discriminator reads conditions beside the images; no penalty is implemented for it."

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any, stage: int = 1,
                 num_classes: int = 10, image_size: int = 28, kl_weight: float = 2.0, kl_reduction: str = "mean",
                 stage1_generator: Mapping[str, Any] | None = None, stage1_ckpt: str | None = None,
                 phi_dim: int = 128, c_dim: int = 128, condition_bank_size: int = 1024, **kwargs: Any) -> None:
        if stage not in STAGES:
            raise ValueError(f"model.stage must be 1 or 2, got {stage!r}.")
        if kl_reduction not in KL_REDUCTIONS:
            raise ValueError(f"model.kl_reduction must be one of {KL_REDUCTIONS}, got {kl_reduction!r}.")
        if stage == 2 and stage1_generator is None:
            raise ValueError("Stage-II (model.stage=2) needs model.stage1_generator: the Stage-I run's model.generator "
                             "config (conf/model/stackgan_stage2.yaml sets the MNIST one).")
        super().__init__(generator, discriminator, *args, **kwargs)
        if self.objective.gp_weight > 0:
            raise ValueError("StackGAN with a gradient penalty is not supported; use a GAN loss (loss=non_saturating).")
        hp = self.hparams
        self.stage1: nn.Module | None = None
        if stage == 2:
            self.stage1 = instantiate(hp.stage1_generator).requires_grad_(False).eval()
            if self.stage1.image_size != self.generator.in_size:
                raise ValueError(f"model.stage1_generator draws {self.stage1.image_size} px images but the Stage-II "
                                 f"generator reads {self.generator.in_size} px (model.generator.in_size).")
        self.latent_generator = self.stage1 if stage == 2 else self.generator  # the network that reads z
        if self.latent_generator.latent_dim != hp.latent_dim:
            raise ValueError(f"model.latent_dim={hp.latent_dim} but the Stage-I generator reads "
                             f"z of size {self.latent_generator.latent_dim}; make them equal.")
        for name, network in (("generator", self.generator), ("stage1_generator", self.stage1)):
            if network is not None and (network.condition.phi_dim, network.ca.c_dim) != (phi_dim, c_dim):
                raise ValueError(f"model.{name} reads phi_dim={network.condition.phi_dim}, c_dim={network.ca.c_dim} but "
                                 f"model.phi_dim={phi_dim}, model.c_dim={c_dim}: the networks' configs should interpolate them.")
        bank = 0 if num_classes else condition_bank_size
        self.register_buffer("condition_bank", torch.zeros(bank, phi_dim))
        self.register_buffer("condition_bank_count", torch.zeros((), dtype=torch.long))

    # ----- conditions -----------------------------------------------------------------------------
    @property
    def condition_kind(self) -> str:  # type: ignore[override]
        return "label" if self.hparams.num_classes else "text"

    @property
    def num_conditions(self) -> int:
        return self.hparams.num_classes

    @property
    def output_size(self) -> int:
        return self.generator.image_size

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None:
            self.check_data(datamodule)
        if stage == "fit" and self.hparams.stage == 2 and getattr(self.trainer, "ckpt_path", None) is None:
            self.load_stage1()

    def check_data(self, datamodule: Any) -> None:
        """The data serves the conditions and the image size this model was built for (errors name the fix)."""
        hp, served = self.hparams, getattr(datamodule, "num_classes", None)
        dim = getattr(datamodule, "embedding_dim", None)
        if hp.num_classes and dim is not None:
            raise ValueError(f"The data serves text embeddings ({dim}-d) but model.num_classes={hp.num_classes} asks for "
                             f"class labels: set model.num_classes=0 and model.phi_dim={dim}.")
        if hp.num_classes and served is not None and served != hp.num_classes:
            raise ValueError(f"model.num_classes={hp.num_classes} but the data has {served} classes; "
                             f"set model.num_classes={served}.")
        if not hp.num_classes:
            if dim is None:
                raise ValueError("model.num_classes=0 conditions StackGAN on text embeddings, but the data serves none: "
                                 "use data=text_embeddings (an image folder with embeddings.npy), or model.num_classes="
                                 f"{served or 10} for class labels.")
            if dim != self.generator.condition.phi_dim:
                raise ValueError(f"The data's embeddings are {dim}-d but the networks read phi_dim="
                                 f"{self.generator.condition.phi_dim}: set model.phi_dim={dim}.")
        shape = getattr(datamodule, "shape", None)
        if shape is not None and shape[-1] != hp.image_size:
            raise ValueError(f"model.image_size={hp.image_size} but the data serves {shape[-1]} px images; set "
                             f"model.image_size={shape[-1]} (the yaml's default follows data.image_size).")
        if shape is not None and shape[-1] < self.output_size:
            raise ValueError(f"This stage draws {self.output_size} px images but the data has only {shape[-1]} px: "
                             f"set data.image_size={self.output_size}.")

    def load_stage1(self) -> None:
        """Copy the trained Stage-I generator's weights from ``stage1_ckpt`` into ``self.stage1`` (read with the safe
        loader; its config and conditions must be the ones this Stage-II was built with)."""
        path = self.hparams.stage1_ckpt
        if not path:
            raise ValueError("Stage-II trains on a trained, frozen Stage-I (Zhang et al. 2017, Section 3): " + STAGE1_FIX)
        ckpt = read_checkpoint(path)
        hp = ckpt.get("hyper_parameters", {})
        cls = ckpt.get("lit_gans_class")
        if cls != f"{StackGAN.__module__}.StackGAN" or hp.get("stage") != 1:
            raise ValueError(f"model.stage1_ckpt={path} is not a StackGAN Stage-I checkpoint (it holds {cls}, stage "
                             f"{hp.get('stage')}); " + STAGE1_FIX)
        for key, ours in (("generator", self.hparams.stage1_generator), ("num_classes", self.hparams.num_classes)):
            if hp.get(key) != ours:
                raise ValueError(f"model.stage1_ckpt={path} was trained with model.{key}={hp.get(key)}, but this Stage-II "
                                 f"expects {ours} (model.{'stage1_generator' if key == 'generator' else key}): make them equal.")
        weights = {k.removeprefix("generator."): v for k, v in ckpt["state_dict"].items() if k.startswith("generator.")}
        self.stage1.load_state_dict(weights)

    def train(self, mode: bool = True) -> "StackGAN":
        super().train(mode)
        if self.stage1 is not None:
            self.stage1.eval()  # fixed: its BatchNorm statistics must not move either
        return self

    def real_samples(self, batch: Any) -> Labeled:  # type: ignore[override]
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError("StackGAN needs (images, conditions) batches: class labels or text embeddings.")
        images, conditions = batch[0], batch[1]
        if images.shape[-1] != self.output_size:  # Stage-I on full-size data: the low-resolution real images
            images = F.interpolate(images, size=(self.output_size,) * 2, mode="bilinear", antialias=True, align_corners=False)
        return Labeled(images, conditions)

    def wrong_conditions(self, conditions: Tensor) -> Tensor:
        """A mismatching condition for each real image: another class (uniformly), or the caption embedding of the
        previous image in the batch (the authors' code pairs image i with text i + 1)."""
        if self.hparams.num_classes:
            return wrong_labels(conditions, self.hparams.num_classes)
        return conditions.roll(1, dims=0)

    def sample_conditions(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n conditions to sample for: uniform labels, or embeddings drawn from the bank of training embeddings."""
        if self.hparams.num_classes:
            return torch.randint(self.hparams.num_classes, (n,), generator=generator).to(self.device)
        filled = min(int(self.condition_bank_count), len(self.condition_bank))
        if filled == 0:  # an untrained model: placeholder conditions (shape checks, smoke tests), said once
            if not getattr(self, "_warned_empty_bank", False):
                log.warning("This text-conditioned StackGAN has seen no embeddings yet (its condition bank fills while "
                            "training): sampling for N(0, I) placeholder embeddings. Pass real ones: model(z, embeddings).")
                self._warned_empty_bank = True
            return torch.randn(n, self.condition_bank.shape[1], generator=generator).to(self.device)
        return self.condition_bank[torch.randint(filled, (n,), generator=generator).to(self.device)]

    def remember_conditions(self, conditions: Tensor) -> None:
        """Text conditions: keep the batch's embeddings in the ring buffer ``condition_bank``."""
        size = len(self.condition_bank)
        if self.hparams.num_classes or size == 0:
            return
        values = conditions.detach()[-size:].to(self.condition_bank.dtype)
        self.condition_bank[(int(self.condition_bank_count) + torch.arange(len(values), device=values.device)) % size] = values
        self.condition_bank_count += len(values)

    # ----- generation -----------------------------------------------------------------------------
    def generate(self, z: Tensor, conditions: Tensor, generator: torch.Generator | None = None
                 ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """(this stage's images, μ, log σ², the Stage-I images under Stage-II else None). The ε of conditioning
        augmentation come from ``generator`` when one is given (reproducible samples)."""
        def eps(network: nn.Module) -> Tensor | None:
            if generator is None:
                return None
            return torch.randn(len(z), network.ca.c_dim, generator=generator).to(self.device)

        if self.stage1 is None:
            images, mean, log_var = self.generator(z, conditions, eps(self.generator))
            return images, mean, log_var, None
        with torch.no_grad():
            low = self.stage1(z, conditions, eps(self.stage1))[0]
        images, mean, log_var = self.generator(low, conditions, eps(self.generator))
        return images, mean, log_var, low

    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> Labeled:
        z, conditions = self.sample_latent(n, generator=generator), self.sample_conditions(n, generator=generator)
        return Labeled(self.generate(z, conditions, generator)[0], conditions, z)

    def at_data_size(self, images: Tensor) -> Tensor:
        """Images at the data's side (``image_size``): Stage-I's smaller ones upsampled (bilinear)."""
        size = self.hparams.image_size
        return images if images.shape[-1] == size else F.interpolate(images, size=(size, size), mode="bilinear",
                                                                       align_corners=False)

    def sample_images(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Samples at the data's size, for metrics and sample grids (Stage-I's upsampled)."""
        return self.at_data_size(images_of(self.sample_fake(n, generator=generator)))

    def sample_for_class(self, n: int, k: int, generator: torch.Generator | None = None) -> Tensor:
        if not self.hparams.num_classes:
            raise ValueError("sample_for_class needs a class-conditioned StackGAN (model.num_classes > 0).")
        z = self.sample_latent(n, generator=generator)
        labels = torch.full((n,), k, dtype=torch.long, device=self.device)
        return self.at_data_size(self.generate(z, labels, generator)[0])

    def forward(self, z: Tensor, conditions: Tensor | None = None) -> Tensor:
        conditions = self.sample_conditions(len(z)) if conditions is None else conditions
        return self.generate(z, conditions)[0]

    def condition_arrays(self, samples: Any) -> dict[str, Tensor]:
        """Exports: ``labels`` (N,) int64, or the text ``embeddings`` (N, phi_dim) float32 each image was drawn for."""
        return {"labels" if self.hparams.num_classes else "embeddings": samples.labels}

    @torch.no_grad()
    def sample_grid(self, seed: int = 0, columns: int = 10) -> tuple[Tensor, int]:
        """One row per class (text: per bank embedding, 10 rows), the same z in each column; Stage-II adds above each
        row the Stage-I images it was drawn from (upsampled), so the grid shows what the second stage adds."""
        gen = torch.Generator().manual_seed(seed)
        rows = self.hparams.num_classes or 10
        z = self.sample_latent(columns, generator=gen).repeat(rows, 1)
        if self.hparams.num_classes:
            conditions = torch.arange(rows, device=self.device).repeat_interleave(columns)
        else:
            conditions = self.sample_conditions(rows, generator=gen).repeat_interleave(columns, dim=0)
        images, _, _, low = self.generate(z, conditions, gen)
        images = self.at_data_size(images)
        if low is None:
            return images, columns
        pairs = torch.stack([self.at_data_size(low).unflatten(0, (rows, columns)), images.unflatten(0, (rows, columns))], 1)
        return pairs.flatten(0, 2), columns  # (rows * 2 * columns, C, H, W): Stage-I row, Stage-II row, ...

    # ----- the two players' steps -----------------------------------------------------------------
    def batch_start(self, state: BatchState) -> None:
        """The batch's fakes, once, for the real batch's conditions (the authors' order): D learns from them
        detached, G through them after D's step. Text conditions also go into the condition bank."""
        real = state.real
        self.remember_conditions(real.labels)
        z = self.sample_latent(len(real.images))
        images, mean, log_var, _ = self.generate(z, real.labels)
        state.cache.update(fake=Labeled(images, real.labels, z), mean=mean, log_var=log_var)

    def d_scores(self, samples: Labeled) -> Tensor:
        return self.discriminator(samples.images, samples.labels)

    def discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """Matching-aware D (Section 3.2, after Reed et al. 2016): real/right, real/wrong, fake/right."""
        noisy, real = self.with_instance_noise, state.real
        real_n, fake_n = noisy(real), noisy(detached(state.cache["fake"]))
        d_real, d_fake = self.d_scores(real_n), self.d_scores(fake_n)
        d_wrong = self.d_scores(Labeled(real_n.images, self.wrong_conditions(real.labels)))
        loss = matching_aware_discriminator_loss(self.objective.discriminator, d_real, d_fake, d_wrong)
        logs = {"train/d_loss": loss, "train/d_real": d_real.mean(), "train/d_fake": d_fake.mean(),
                "train/d_wrong": d_wrong.mean()}
        return loss, logs

    def generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """G's adversarial loss on its fake/right pairs + λ KL(N(μ, Σ) ‖ N(0, I)) (Section 3.2, eq. (6))."""
        fake = self.with_instance_noise(state.cache["fake"])
        adversarial = self.objective.generator(self.d_scores(fake))
        kl = conditioning_augmentation_kl(state.cache["mean"], state.cache["log_var"], self.hparams.kl_reduction)
        loss = adversarial + self.hparams.kl_weight * kl
        return loss, {"train/g_loss": loss, "train/g_adversarial": adversarial.detach(), "train/kl": kl.detach()}
