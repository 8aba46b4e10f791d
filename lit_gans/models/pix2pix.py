"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks").

G translates an input image x (domain A) into y (domain B); a conditional PatchGAN D judges (x, y) pairs patch by
patch. The objective, eq. (4): G* = arg min_G max_D L_cGAN(G, D) + λ L_L1(G), λ = 100, with

    L_cGAN = E[log D(x, y)] + E[log(1 − D(x, G(x)))]      (eq. 1; G minimises −log D(x, G(x)) in practice)
    L_L1   = E‖y − G(x)‖₁                                  (eq. 3; a per-pixel mean, as the authors' code)

and D's loss halved ("we divide the objective by 2 while optimizing D", Section 3.3). No z: dropout is G's only
noise, at training and test time (Section 3.1).

The update order is the authors' code's (``pix2pix_model.py``, ``optimize_parameters``): G(x) computed once per
batch (`batch_start`), D updated on it detached, then G updated through the same output against the moved D.
`lit_gans.losses.translation` holds the loss terms; `lit_gans.networks.pix2pix` the U-Net and the PatchGAN.

Ablations (Table 1): ``lambda_l1=0`` is cGAN alone, ``lambda_gan=0`` L1 alone (D is then not trained at all),
``conditional_d=false`` makes D see only y (the "GAN" rows: L1 + GAN).
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor, nn
from torchmetrics import MeanMetric
from torchmetrics.image import (
    FrechetInceptionDistance,
    PeakSignalNoiseRatio,
    StructuralSimilarityIndexMeasure,
)

from lit_gans.data.paired import Paired, named_batch
from lit_gans.losses.translation import halved, l1_translation_loss
from lit_gans.metrics.scores import Precomputed
from lit_gans.models.base import AdversarialModule, Logs
from lit_gans.models.steps import BatchState, Step
from lit_gans.translation import TranslationBatch, check_direction, first_validation_items, labels_or_none, seeded

# images live in [-1, 1]: PSNR's peak-to-peak range and SSIM's L are 2 (values outside are clamped first)
DATA_RANGE = (-1.0, 1.0)


@contextmanager
def translation_mode(net: nn.Module, as_in_training: bool) -> Iterator[None]:
    """How G runs at test time. ``as_in_training``: the authors' protocol without ``--eval`` (the paper's):
    dropout active and norm layers on the statistics of the batch at hand (batch norm with batch 1 is then instance
    norm, Section 3.3); BatchNorm's running statistics are restored afterwards, so evaluating never moves them.
    Otherwise eval mode (the authors' ``--eval``: no dropout, running statistics)."""
    modes = {m: m.training for m in net.modules()}
    buffers = {name: b.clone() for name, b in net.named_buffers()} if as_in_training else {}
    net.train(as_in_training)
    try:
        yield
    finally:
        for m, mode in modes.items():
            m.training = mode
        with torch.no_grad():
            for name, b in net.named_buffers():
                if name in buffers:
                    b.copy_(buffers[name])


class Pix2Pix(AdversarialModule):
    """pix2pix on the adversarial skeleton: players g (the U-Net) and d (the PatchGAN); steps d then g.

    Args:
        generator, discriminator: network configs (``conf/net``); D's ``in_channels`` is set here: input + output
            channels (conditional) or output channels only.
        lambda_l1: λ of eq. (4), 100 in the paper. 0: the cGAN-only ablation.
        lambda_gan: weight of G's adversarial term, 1. 0: the L1-only ablation (D takes no steps).
        conditional_d: D reads (x, y) concatenated on channels (the paper's cGAN); false: y only (its "GAN").
        test_time_dropout: at validation, in sample grids and in `translate`, run G as in training (dropout on,
            batch statistics; the paper's protocol, default) or in eval mode (false; the authors' ``--eval``).
        norm: the norm of both networks ("batch", "instance", "none"); the yaml passes it on to their configs.
        loss: the GAN objective on D's patch logits; non_saturating = the authors' "vanilla" BCE-with-logits.
        The other arguments are the skeleton's (`AdversarialModule`); latent_dim is unused (no z).
    """

    batch_kind = "paired"
    players = {"g": ("generator",), "d": ("discriminator",)}
    steps = (Step("d", "discriminator_step", due="discriminator_step_due"), Step("g", "generator_step"))
    packing_unsupported = "PacGAN packs unconditional samples; pix2pix's D judges (input, output) pairs."
    r1_unsupported = "its D step halves the objective on (input, output) pairs and applies no penalty."

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 lambda_l1: float = 100.0, lambda_gan: float = 1.0, conditional_d: bool = True,
                 test_time_dropout: bool = True, norm: str = "batch", **kwargs: Any) -> None:
        super().__init__(generator, discriminator, *args, **kwargs)
        if self.hparams.n_critic != 1:
            raise ValueError("pix2pix updates D and G once per batch (the authors' code); set model.n_critic=1.")
        if lambda_l1 < 0 or lambda_gan < 0 or lambda_l1 + lambda_gan == 0:
            raise ValueError(f"model.lambda_l1={lambda_l1} and model.lambda_gan={lambda_gan} must be >= 0, not both 0.")
        self.init_validation_metrics()

    def init_validation_metrics(self) -> None:
        """The validation metrics against the paired targets (`validation_step`); GP-GAN's blending GAN shares them."""
        self.val_l1 = MeanMetric()
        # per-image PSNR, averaged (dim: one value per image; its states are all-gathered under DDP)
        self.val_psnr = PeakSignalNoiseRatio(data_range=DATA_RANGE, dim=(1, 2, 3))
        # SSIM (Wang et al. 2004): 11x11 Gaussian window, σ 1.5, K1 0.01, K2 0.03, averaged over images
        self.val_ssim = StructuralSimilarityIndexMeasure(data_range=DATA_RANGE)
        self.val_digit_accuracy = MeanMetric()
        # MNIST-FID of G(x) against the targets y (digit targets only): our classifier's 128-d features, float64 (in
        # float32 FID depends on the batch size, torchmetrics #1620); sums as states, so DDP all-reduces them
        self.val_fid = FrechetInceptionDistance(Precomputed(128), reset_real_features=True)
        self.val_fid.set_dtype(torch.float64)
        self._digit_classifier: dict[str, nn.Module] = {}  # not a submodule: kept out of checkpoints and players
        self._grid: Paired | None = None

    # ----- networks ---------------------------------------------------------------------------------
    @property
    def channels(self) -> tuple[int, int]:
        """(input channels, output channels) of G, from its config."""
        cfg = self.hparams.generator
        c_in = int(cfg["in_shape"][0])
        return c_in, int(cfg.get("out_channels") or c_in)

    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        c_in, c_out = self.channels
        return instantiate({**cfg, "in_channels": c_in + c_out if self.hparams.conditional_d else c_out})

    def d_input(self, x: Tensor, y: Tensor) -> Tensor:
        """What D reads: (B, C_x + C_y, H, W) for the conditional D, (B, C_y, H, W) otherwise."""
        return torch.cat([x, y], dim=1) if self.hparams.conditional_d else y

    def d_scores(self, samples: Paired) -> Tensor:
        """D's patch logits of the pairs (a, b): (B, H'·W')."""
        return self.discriminator(self.d_input(samples.a, samples.b)).flatten(1)

    # ----- data -------------------------------------------------------------------------------------
    @staticmethod
    def real_samples(batch: Any) -> Paired:
        return named_batch(Paired, batch, "pix2pix trains on paired batches (a, b, labels): use data=mnist_edges or "
                                          "data=paired data.root=<folder with train/ val/ test/ of side-by-side pairs>.")

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        shape = getattr(datamodule, "shape", None)
        depth = getattr(self.generator, "depth", None)
        if shape is not None and depth is not None:  # the size error before the first batch, naming the fix
            from lit_gans.networks.pix2pix import check_unet_size

            check_unet_size(shape[1], shape[2], depth, f"the data (data.shape {list(shape)})")

    # ----- sampling and translation (the hooks of lit_gans.translation) --------------------------------
    translation_directions: tuple[str, ...] = ("AtoB",)  # G learns A -> B only; data.direction=BtoA swaps A and B

    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> Any:
        raise NotImplementedError("pix2pix draws no z: it translates images; call model.translate(a) "
                                  "((B, C, H, W) in [-1, 1]).")

    def forward(self, a: Tensor) -> Tensor:
        return self.generator(a)

    @torch.no_grad()
    def translate(self, images: Tensor, direction: str = "AtoB", seed: int | None = None) -> Tensor:
        """G(images) in the configured test mode (``test_time_dropout``); ``seed`` fixes the dropout masks without
        touching the global random stream. Only "AtoB", the direction G learned: a model of B -> A is trained with
        ``data.direction=BtoA``."""
        check_direction(self, direction)
        with seeded(seed, self.device), translation_mode(self.generator, self.hparams.test_time_dropout):
            return self.generator(images)

    def translation_input_shape(self, direction: str = "AtoB") -> tuple[int, int, int]:
        """(C, H, W) of the inputs G was trained on."""
        check_direction(self, direction)
        return tuple(int(v) for v in self.hparams.generator["in_shape"])  # type: ignore[return-value]

    def check_translation_size(self, height: int, width: int, direction: str = "AtoB") -> None:
        """The U-Net takes any sides divisible by 2^depth (its skips must line up); a ValueError naming them."""
        depth = self.generator.depth
        step = 2**depth
        if height % step or width % step:
            from lit_gans.networks.pix2pix import valid_sizes

            _, h, w = self.translation_input_shape(direction)
            bad = height if height % step else width
            raise ValueError(f"pix2pix's U-Net of {depth} levels takes sides divisible by 2^{depth} = {step} (it was "
                             f"trained on {h}x{w}); this image is {height}x{width}. Sizes it takes near it: "
                             f"{valid_sizes(depth, bad)}.")

    def translation_batch(self, batch: Any, direction: str = "AtoB") -> TranslationBatch:
        """A paired batch -> (inputs a, targets b, the kept labels or None)."""
        check_direction(self, direction)
        real = self.real_samples(batch)
        return TranslationBatch(real.a, real.b, labels_or_none(real.labels))

    def translation_grid(self, batch: Any, direction: str = "AtoB", seed: int | None = 0) -> tuple[Tensor, int]:
        """Three rows for the pairs of ``batch``: inputs | translations G(a) | targets b (make_grid's nrow = B)."""
        item = self.translation_batch(batch, direction)
        a, b = item.inputs.to(self.device), item.targets.to(self.device)
        fake = self.translate(a, direction, seed)
        width = max(x.shape[1] for x in (a, fake, b))  # a grey input beside RGB outputs: repeat its channel
        return torch.cat([x.expand(-1, width, -1, -1) for x in (a, fake, b)]), len(a)

    def sample_grid(self, seed: int = 0, columns: int = 8) -> tuple[Tensor, int]:
        """Rows input | output | target for the first ``columns`` validation pairs (the same pairs every time)."""
        if self._grid is None:
            self._grid = first_validation_items(self, columns, "pix2pix's sample grid shows validation pairs: it needs "
                                                                 "the trainer's datamodule.")
        return self.translation_grid(self._grid, "AtoB", seed)

    # ----- the steps --------------------------------------------------------------------------------
    def batch_start(self, state: BatchState) -> None:
        """G(x) once for both steps, with G's graph (the authors' ``forward()`` before ``backward_D``)."""
        state.cache["fake"] = self.generator(state.real.a)

    def discriminator_step_due(self, batch_idx: int) -> bool:
        return self.hparams.lambda_gan > 0  # L1 alone: D has no role

    def discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """½ (L(D(x, y), real) + L(D(x, G(x)), fake)) on the patch logits, G(x) detached (Section 3.3)."""
        real = state.real
        fake = Paired(real.a, state.cache["fake"].detach(), real.labels)
        d_real, d_fake = self.d_scores(real), self.d_scores(fake)
        loss = halved(self.objective.discriminator(d_real, d_fake))
        logs = {"train/d_loss": loss, "train/d_real": d_real.mean(), "train/d_fake": d_fake.mean()}
        if self.objective.logits:
            logs["train/D(x,y)"], logs["train/D(x,G(x))"] = d_real.sigmoid().mean(), d_fake.sigmoid().mean()
        return loss, logs

    def generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """λ_gan · L_G(D(x, G(x))) + λ · ‖y − G(x)‖₁ (eq. 4) through the batch's G(x), D as just updated."""
        real, fake = state.real, state.cache["fake"]
        l1 = l1_translation_loss(fake, real.b)
        loss = self.hparams.lambda_l1 * l1
        logs = {"train/l1": l1.detach()}
        if self.hparams.lambda_gan > 0:
            adversarial = self.objective.generator(self.d_scores(Paired(real.a, fake, real.labels)))
            loss = loss + self.hparams.lambda_gan * adversarial
            logs["train/g_adversarial"] = adversarial.detach()
        logs["train/g_loss"] = loss
        return loss, logs

    # ----- validation -------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        # fresh states in this loop's grad mode: a `trainer.validate` (inference mode) leaves inference tensors that
        # a later fit's validation (no_grad) could not update in place
        for metric in (self.val_l1, self.val_psnr, self.val_ssim, self.val_digit_accuracy, self.val_fid):
            metric.reset()

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Against the paired targets y, averaged over the validation images and synced across processes:
        ``val/l1``, the mean |G(x) − y| per pixel (in [-1, 1] units); ``val/psnr``, 10·log10(2² / MSE) in dB per
        image (inf for an exact copy); ``val/ssim``, SSIM (Wang et al. 2004) with L = 2. ``val/digit_accuracy`` when
        the datamodule's targets are MNIST digits (``digit_targets``): our MNIST classifier's accuracy on G(x)
        against the pairs' kept labels, and the features of the same classifier for ``val/fid`` (`on_validation_epoch_end`).
        G in the configured test mode, its dropout masks seeded by the batch index
        (reproducible)."""
        real = self.real_samples(batch)
        fake = self.translate(real.a, seed=batch_idx)
        self.val_l1.update((fake - real.b).abs().flatten(1).mean(1))
        self.val_psnr.update(fake, real.b)
        self.val_ssim.update(fake, real.b)
        self.log("val/l1", self.val_l1, on_step=False, on_epoch=True, prog_bar=True)
        self.log("val/psnr", self.val_psnr, on_step=False, on_epoch=True)
        self.log("val/ssim", self.val_ssim, on_step=False, on_epoch=True)
        classifier = self.digit_classifier()
        if classifier is not None:
            features = classifier.features(center_crop(fake, 28))
            correct = (classifier.head(features).argmax(1) == real.labels).float()
            self.val_digit_accuracy.update(correct)
            self.log("val/digit_accuracy", self.val_digit_accuracy, on_step=False, on_epoch=True)
            self.val_fid.update(classifier.features(center_crop(real.b, 28)).double(), real=True)
            self.val_fid.update(features.double(), real=False)

    def on_validation_epoch_end(self) -> None:
        """``val/fid``: MNIST-FID of the translations against the targets over the whole validation split (digit
        targets only; FID needs two images of each, so a single-image validation logs none). Every process computes
        it: its sums are all-reduced."""
        if int(self.val_fid.fake_features_num_samples) >= 2:  # equal counts on every rank (DistributedSampler)
            self.log("val/fid", self.val_fid.compute().float(), sync_dist=False)

    def digit_classifier(self) -> nn.Module | None:
        """lit_gans' MNIST classifier (frozen, not a submodule) when the data's targets are digits, else None."""
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        if not getattr(datamodule, "digit_targets", False):
            return None
        if "net" not in self._digit_classifier:
            from lit_gans.metrics import load_mnist_classifier

            self._digit_classifier["net"] = load_mnist_classifier()
        return self._digit_classifier["net"].to(self.device)


def center_crop(images: Tensor, size: int) -> Tensor:
    """(B, C, H, W) -> the central (B, C, size, size) (the built-in 32 px digits are 28 px ones padded by 2)."""
    top, left = (images.shape[-2] - size) // 2, (images.shape[-1] - size) // 2
    return images[..., top: top + size, left: left + size]
