"""CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks")
and the no-cycle baseline.

Two generators G: A -> B and F: B -> A (``generator``, ``generator_ba``) and two discriminators, D_B on domain B
(``discriminator``: judges G's outputs) and D_A on domain A (``discriminator_a``: judges F's), trained on unpaired
batches (`lit_gans.data.Unpaired`). The full objective, eq. (3):

    L(G, F, D_A, D_B) = L_GAN(G, D_B, A, B) + L_GAN(F, D_A, B, A) + λ L_cyc(G, F)
    L_cyc = E_a‖F(G(a)) − a‖₁ + E_b‖G(F(b)) − b‖₁                         (eq. 2; per-pixel means)

with the least-squares GAN loss (Section 4: G minimises E[(D(G(a)) − 1)²], D minimises E[(D(b) − 1)²] +
E[D(G(a))²], "divided by 2 while optimizing D"), λ = 10, and the identity term of Section 5.2 (Taigman et al.
2017) λ_idt·λ·(E‖G(b) − b‖₁ + E‖F(a) − a‖₁), λ_idt = 0.5 (the authors' ``--lambda_identity``). D learns from a
history of 50 generated images per domain (`lit_gans.models.image_pool`).

The update order is the authors' code's (``cycle_gan_model.py``, ``optimize_parameters``): the four translations
G(a), F(G(a)), F(b), G(F(b)) once per batch (`batch_start`), one step of both generators (one player, one Adam,
as the authors' ``itertools.chain``), then one step of both discriminators on the pooled, detached translations
from before G's step. `TranslationGAN` is the same game without the cycle and identity terms: the baseline that
maps each input to *some* plausible output of the other domain, content not preserved.
"""

from collections.abc import Callable, Mapping
from typing import Any

import torch
from hydra.utils import instantiate
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn
from torchmetrics import MeanMetric

from lit_gans.data.paired import named_batch
from lit_gans.data.unpaired import Unpaired
from lit_gans.losses.translation import halved, l1_translation_loss
from lit_gans.metrics.domain_fid import (FID_MODES, domain_features, fid_suffix, inception_available, inception_error,
                                         new_fid)
from lit_gans.metrics.extractors import InceptionWeightsError
from lit_gans.models.base import AdversarialModule, Logs
from lit_gans.models.image_pool import ImagePool
from lit_gans.models.pix2pix import center_crop, translation_mode
from lit_gans.models.steps import BatchState, Step
from lit_gans.translation import TranslationBatch, check_direction, first_validation_items, labels_or_none, seeded

DIRECTIONS = ("AtoB", "BtoA")


def mnistm_strokes(images: Tensor) -> Tensor:
    """(B, 3, H, W) MNIST-M-like images in [-1, 1] -> (B, 1, H, W) white-on-black stroke maps for the MNIST
    classifier: a pixel is a stroke when its colour is far from the image's median colour (the background patch),
    max over channels, thresholded at half the image's largest distance. On real MNIST-M (data=mnist_mnistm) our
    classifier reads 83 % of the digits this way (plain grey: 32 %): the ceiling of ``digit_preservation`` into
    MNIST-M."""
    median = images.flatten(2).median(dim=2).values[..., None, None]  # (B, 3, 1, 1)
    distance = (images - median).abs().amax(dim=1, keepdim=True)  # (B, 1, H, W)
    peak = distance.flatten(1).amax(dim=1).clamp_min(1e-6)[:, None, None, None]
    return (distance > 0.5 * peak).float() * 2 - 1


def digit_view(images: Tensor, domain: str) -> Tensor:
    """Images of a digit domain as the MNIST classifier reads them: (B, 1, 28, 28) white on black in [-1, 1].
    "mnist": the channels' mean; "mnistm": `mnistm_strokes`."""
    grey = mnistm_strokes(images) if domain == "mnistm" else images.mean(dim=1, keepdim=True)
    return center_crop(grey, 28)


class CycleGAN(AdversarialModule):
    """CycleGAN on the adversarial skeleton: players g = (G: A -> B, F: B -> A) and d = (D_B, D_A); steps g then d.

    Args:
        generator: the config of both generators (each its own weights); ``in_shape`` = the data's, both domains.
        discriminator: the config of both discriminators (``in_channels`` set here: the images' channels).
        loss: the GAN objective on D's patch scores; least_squares with ``params.scale: 1`` is the paper's.
        lambda_cycle: λ of eq. (3), 10. 0 (with lambda_identity 0) is `TranslationGAN`.
        lambda_identity: the identity term's weight as a fraction of λ (the authors' 0.5: weight 5); 0 disables.
        pool_size: generated images per domain the discriminators learn from (50); 0 uses the latest batch.
        test_time_dropout: run G and F at validation, in grids and in `translate` as in training (dropout and batch
            statistics) rather than in eval mode (default false; with instance norm and no dropout both are one).
        norm: the norm of all four networks ("instance", "batch", "none"); the yaml passes it on to their configs.
        val_fid: FID in each target domain at validation (`target_fids`, `lit_gans.metrics.domain_fid`): "auto"
            (MNIST features for digit domains, Inception for the others when its weights are on disk), "inception"
            (Inception required for non-digit domains), "none".
        inception_weights: a path to torch-fidelity's Inception .pth (offline machines); None: the torch hub cache.
        The other arguments are the skeleton's (`AdversarialModule`); latent_dim is unused (no z).
    """

    batch_kind = "unpaired"
    players = {"g": ("generator", "generator_ba"), "d": ("discriminator", "discriminator_a")}
    steps = (Step("g", "generator_step"), Step("d", "discriminator_step"))
    packing_unsupported = "PacGAN packs samples of a generator from noise; CycleGAN's Ds judge translations."
    cycle = True  # TranslationGAN: False (no reconstructions, no identity term)
    once_per_batch = True  # one G and one D step per batch (n_critic must be 1); DualGAN: n_critic critic steps

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 lambda_cycle: float = 10.0, lambda_identity: float = 0.5, pool_size: int = 50,
                 test_time_dropout: bool = False, norm: str = "instance", val_fid: str = "auto",
                 inception_weights: str | None = None, **kwargs: Any) -> None:
        super().__init__(generator, discriminator, *args, **kwargs)
        if val_fid not in FID_MODES:
            raise ValueError(f"model.val_fid must be one of {FID_MODES}, got {val_fid!r}.")
        if self.once_per_batch and self.hparams.n_critic != 1:
            raise ValueError(f"{type(self).__name__} updates G and D once per batch (the authors' code); set model.n_critic=1.")
        if lambda_cycle < 0 or lambda_identity < 0:
            raise ValueError(f"model.lambda_cycle={lambda_cycle} and model.lambda_identity={lambda_identity} must be >= 0.")
        if not self.cycle and (lambda_cycle or lambda_identity):
            raise ValueError(f"{type(self).__name__} has no cycle: set model.lambda_cycle=0 and model.lambda_identity=0 "
                             "(or use model=cyclegan).")
        self.generator_ba = self.build_generator(self.hparams.generator)
        self.discriminator_a = self.build_discriminator(self.hparams.discriminator)
        self.pools = {"a": ImagePool(pool_size), "b": ImagePool(pool_size)}  # fakes of domain A (F(b)) and B (G(a))
        self.val_preservation = nn.ModuleDict({"ab": MeanMetric(), "ba": MeanMetric()})
        self._digit_classifier: dict[str, nn.Module] = {}  # not a submodule: kept out of checkpoints and players
        self._grid: Unpaired | None = None
        self._fids: dict[str, tuple[Callable[[Tensor], Tensor], Any]] | None = None  # `target_fids`

    # ----- networks ---------------------------------------------------------------------------------
    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        """D with ``in_channels`` = the images' channels when its config has that key (an MLP on points has none)."""
        if "in_channels" in cfg:
            cfg = {**cfg, "in_channels": int(self.hparams.generator["in_shape"][0])}
        return instantiate(cfg)

    def translator(self, direction: str) -> nn.Module:
        """G (A -> B) or F (B -> A)."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}.")
        return self.generator if direction == "AtoB" else self.generator_ba

    def d_scores(self, samples: Any) -> Tensor:
        """D_B's patch scores of domain-B images (B, H'·W') (the skeleton's hook; D_A: `d_a_scores`)."""
        return self.discriminator(samples).reshape(len(samples), -1)

    def d_a_scores(self, images: Tensor) -> Tensor:
        return self.discriminator_a(images).reshape(len(images), -1)

    # ----- data -------------------------------------------------------------------------------------
    @staticmethod
    def real_samples(batch: Any) -> Unpaired:
        return named_batch(Unpaired, batch, "CycleGAN trains on unpaired batches (a, b, labels_a, labels_b): use "
                                            "data=mnist_mnistm or data=unpaired data.root=<folder with trainA/ trainB/ "
                                            "testA/ testB/>.")

    # ----- translation ------------------------------------------------------------------------------
    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} draws no z: it translates images; call "
                                  "model.translate(images, direction='AtoB' | 'BtoA') ((B, C, H, W) in [-1, 1]).")

    def forward(self, a: Tensor) -> Tensor:
        return self.generator(a)

    @torch.no_grad()
    def translate(self, images: Tensor, direction: str = "AtoB", seed: int | None = None) -> Tensor:
        """G(images) ("AtoB") or F(images) ("BtoA"), (B, C, H, W) in [-1, 1], in the configured test mode
        (``test_time_dropout``); ``seed`` fixes any dropout masks without touching the global random stream."""
        net = self.translator(direction)
        with seeded(seed, self.device), translation_mode(net, self.hparams.test_time_dropout):
            return net(images)

    translation_directions: tuple[str, ...] = ("AtoB", "BtoA")  # G: A -> B and F: B -> A

    def translation_input_shape(self, direction: str = "AtoB") -> tuple[int, int, int]:
        """(C, H, W) of the images the generators were trained on (both domains share it)."""
        check_direction(self, direction)
        return tuple(int(v) for v in self.hparams.generator["in_shape"])  # type: ignore[return-value]

    @torch.no_grad()
    def check_translation_size(self, height: int, width: int, direction: str = "AtoB") -> None:
        """The generator must map an H x W image to H x W (its strided convolutions need sides it can halve and
        double back): tried on one blank image, a ValueError naming the sizes otherwise."""
        channels, h, w = self.translation_input_shape(direction)
        net = self.translator(direction)
        try:
            with translation_mode(net, False):
                shape = tuple(net(torch.zeros(1, channels, height, width, device=self.device)).shape[-2:])
        except RuntimeError as err:
            shape = (str(err).splitlines()[0],)
        if shape != (height, width):
            raise ValueError(f"{type(self).__name__}'s {direction} generator (trained on {h}x{w}) does not map a "
                             f"{height}x{width} image to its own size (got {shape}); use sides divisible by 4 "
                             "(two stride-2 convolutions), e.g. translate.py resize=[H,W].")

    def translation_batch(self, batch: Any, direction: str = "AtoB") -> TranslationBatch:
        """An unpaired batch -> the source domain's images (no targets: the data is unpaired) and their labels."""
        check_direction(self, direction)
        real = self.real_samples(batch)
        if direction == "AtoB":
            return TranslationBatch(real.a, None, labels_or_none(real.labels_a))
        return TranslationBatch(real.b, None, labels_or_none(real.labels_b))

    def translation_grid(self, batch: Any, direction: str = "AtoB", seed: int | None = 0) -> tuple[Tensor, int]:
        """Three rows for the source images of ``batch``: inputs | translations | reconstructions (back again)."""
        back = "BtoA" if direction == "AtoB" else "AtoB"
        x = self.translation_batch(batch, direction).inputs.to(self.device)
        fake = self.translate(x, direction, seed)
        return torch.cat([x, fake, self.translate(fake, back, seed)]), len(x)

    def sample_grid(self, seed: int = 0, columns: int = 8) -> tuple[Tensor, int]:
        """Rows a | G(a) | F(G(a)) | b | F(b) | G(F(b)) for the first ``columns`` validation items (fixed)."""
        if self._grid is None:
            self._grid = first_validation_items(self, columns, f"{type(self).__name__}'s sample grid shows validation "
                                                                 "images: it needs the trainer's datamodule.")
        a, b = self._grid.a.to(self.device), self._grid.b.to(self.device)
        fake_b, fake_a = self.translate(a, "AtoB", seed), self.translate(b, "BtoA", seed)
        rows = [a, fake_b, self.translate(fake_b, "BtoA", seed), b, fake_a, self.translate(fake_a, "AtoB", seed)]
        return torch.cat(rows), len(a)

    # ----- the terms a variant changes (DiscoGAN, DualGAN) -------------------------------------------
    def reconstruction_loss(self, output: Tensor, target: Tensor) -> Tensor:
        """The cycle distance: ‖F(G(a)) − a‖₁ as a per-pixel mean (eq. 2; the authors' L1Loss)."""
        return l1_translation_loss(output, target)

    def cycle_weights(self) -> tuple[float, float]:
        """(weight of a's reconstruction, weight of b's): λ for both (eq. 3)."""
        return self.hparams.lambda_cycle, self.hparams.lambda_cycle

    def discriminator_objective(self, d_real: Tensor, d_fake: Tensor) -> Tensor:
        """One discriminator's loss, halved (Section 4: "we divide the objective by 2 while optimizing D")."""
        return halved(self.objective.discriminator(d_real, d_fake))

    # ----- the steps --------------------------------------------------------------------------------
    def batch_start(self, state: BatchState) -> None:
        """G(a), F(b) and, with the cycle, F(G(a)), G(F(b)) once per batch with the generators' graphs (the authors'
        ``forward()``): G's step back-propagates through them, D's step reads G(a) and F(b) detached."""
        real, cache = state.real, state.cache
        cache["fake_b"], cache["fake_a"] = self.generator(real.a), self.generator_ba(real.b)
        if self.cycle:
            cache["rec_a"], cache["rec_b"] = self.generator_ba(cache["fake_b"]), self.generator(cache["fake_a"])

    def generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """L_GAN(G, D_B) + L_GAN(F, D_A) + λ L_cyc + λ_idt λ L_idt (eq. 3 and Section 5.2), the Ds frozen."""
        real, cache, hp = state.real, state.cache, self.hparams
        adversarial_ab = self.objective.generator(self.d_scores(cache["fake_b"]))
        adversarial_ba = self.objective.generator(self.d_a_scores(cache["fake_a"]))
        loss = adversarial_ab + adversarial_ba
        logs = {"train/g_adversarial_ab": adversarial_ab.detach(), "train/g_adversarial_ba": adversarial_ba.detach()}
        if self.cycle:
            cycle_a, cycle_b = self.reconstruction_loss(cache["rec_a"], real.a), self.reconstruction_loss(cache["rec_b"], real.b)
            weight_a, weight_b = self.cycle_weights()
            loss = loss + weight_a * cycle_a + weight_b * cycle_b
            logs.update({"train/cycle_a": cycle_a.detach(), "train/cycle_b": cycle_b.detach()})
        if self.cycle and hp.lambda_identity > 0:  # G(b) ≈ b and F(a) ≈ a: keeps colours (Section 5.2)
            identity_b = l1_translation_loss(self.generator(real.b), real.b)
            identity_a = l1_translation_loss(self.generator_ba(real.a), real.a)
            loss = loss + hp.lambda_identity * hp.lambda_cycle * (identity_a + identity_b)
            logs.update({"train/identity_a": identity_a.detach(), "train/identity_b": identity_b.detach()})
        logs["train/g_loss"] = loss
        return loss, logs

    def discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """½ L_D(D_B; b, pooled G(a)) + ½ L_D(D_A; a, pooled F(b)), the translations detached (the authors'
        ``backward_D_basic``: 0.5 · (real + fake), then one step of both Ds)."""
        real, cache = state.real, state.cache
        fake_b = self.pools["b"].query(cache["fake_b"].detach())
        fake_a = self.pools["a"].query(cache["fake_a"].detach())
        d_b_real, d_b_fake = self.d_scores(real.b), self.d_scores(fake_b)
        d_a_real, d_a_fake = self.d_a_scores(real.a), self.d_a_scores(fake_a)
        loss_b = self.discriminator_objective(d_b_real, d_b_fake)
        loss_a = self.discriminator_objective(d_a_real, d_a_fake)
        loss = loss_a + loss_b
        return loss, {"train/d_loss": loss, "train/d_a_loss": loss_a.detach(), "train/d_b_loss": loss_b.detach(),
                      "train/d_real": 0.5 * (d_a_real.mean() + d_b_real.mean()),
                      "train/d_fake": 0.5 * (d_a_fake.mean() + d_b_fake.mean())}

    # ----- validation -------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        for metric in self.val_preservation.values():  # fresh states in this loop's grad mode (see pix2pix)
            metric.reset()
        for _, fid in self.target_fids().values():
            fid.reset()

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """``val/digit_preservation_ab`` and ``_ba`` when the data's domains are digits (``domains``, e.g.
        mnist_mnistm): our MNIST classifier's accuracy on G(a) against a's labels and on F(b) against b's (each
        translation read as its target domain's images are, `digit_view`); synced across processes. And the
        features of FID in each target domain (`target_fids`; logged by `on_validation_epoch_end`)."""
        domains, fids = self.digit_domains(), self.target_fids()
        if domains is None and not fids:
            return
        real = self.real_samples(batch)
        for key, images, labels, target, target_real in (("ab", real.a, real.labels_a, 1, real.b),
                                                         ("ba", real.b, real.labels_b, 0, real.a)):
            translated = self.translate(images, "AtoB" if key == "ab" else "BtoA", seed=batch_idx)
            if key in fids:
                features, fid = fids[key]
                fid.update(features(target_real).double(), real=True)
                fid.update(features(translated).double(), real=False)
            if domains is None:
                continue
            correct = (self.digit_classifier()(digit_view(translated, domains[target])).argmax(1) == labels).float()
            self.val_preservation[key].update(correct)
            self.log(f"val/digit_preservation_{key}", self.val_preservation[key], on_step=False, on_epoch=True,
                     prog_bar=key == "ab")

    def on_validation_epoch_end(self) -> None:
        """``val/fid_ab_<features>`` (G's translations against the real B images of the validation split) and
        ``val/fid_ba_<features>`` (F's against the real A images); <features> names the feature space,
        `lit_gans.metrics.domain_fid`: ``mnist``, ``mnist_grey`` (MNIST-M's grey conversion) or ``inception``.
        Every process computes them (sums, all-reduced); FID needs two images of each."""
        domains = self.digit_domains()
        for key, (_, fid) in self.target_fids().items():
            if int(fid.fake_features_num_samples) >= 2 and int(fid.real_features_num_samples) >= 2:
                target = None if domains is None else domains[1 if key == "ab" else 0]
                self.log(f"val/fid_{key}_{fid_suffix(target)}", fid.compute().float(), sync_dist=False)

    def target_fids(self) -> dict[str, tuple[Callable[[Tensor], Tensor], Any]]:
        """Per direction ("ab", "ba"): (features of images in the target domain, their FID metric), built on the first
        call with a trainer. ``val_fid`` "auto": MNIST features for digit domains, Inception for the others when its
        weights are on disk (else none, with a warning); "inception": Inception for the others, its weights required;
        "none": no FID. Kept out of the submodules (checkpoints and players stay as they were)."""
        if self._fids is not None:
            for _, fid in self._fids.values():
                fid.to(self.device)
            return self._fids
        mode, weights = self.hparams.val_fid, self.hparams.inception_weights
        if mode == "none" or self._trainer is None:
            return {}
        datamodule = getattr(self._trainer, "datamodule", None)
        if getattr(datamodule, "domains", None) == ("points", "points"):  # 2-D mixtures (the toy): no image FID
            self._fids = {}
            return self._fids
        domains = self.digit_domains() or (None, None)
        if mode == "auto" and None in domains and not inception_available(weights):
            rank_zero_warn(f"{type(self).__name__}: no Inception weights on disk, so no val/fid_*_inception for "
                           "non-digit domains; pass model.inception_weights=<.pth> (or model.val_fid=none to silence).")
            self._fids = {}
            return self._fids
        self._fids = {}
        for key, target in (("ab", domains[1]), ("ba", domains[0])):
            try:
                features, dim = domain_features(target, self.digit_classifier, self._inception)
            except InceptionWeightsError as err:
                raise inception_error(err) from err
            self._fids[key] = (features, new_fid(dim).to(self.device))
        return self._fids

    def _inception(self) -> nn.Module:
        from lit_gans.metrics.extractors import InceptionExtractor

        if "inception" not in self._digit_classifier:
            self._digit_classifier["inception"] = InceptionExtractor(self.hparams.inception_weights).eval()
        return self._digit_classifier["inception"].to(self.device)

    def digit_domains(self) -> tuple[str, str] | None:
        """The datamodule's ("mnist" | "mnistm", ...) of A and B when both are digit domains, else None."""
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        domains = getattr(datamodule, "domains", None)
        return tuple(domains) if domains and set(domains) <= {"mnist", "mnistm"} else None

    def digit_classifier(self) -> nn.Module:
        """lit_gans' MNIST classifier (frozen, not a submodule)."""
        if "net" not in self._digit_classifier:
            from lit_gans.metrics import load_mnist_classifier

            self._digit_classifier["net"] = load_mnist_classifier()
        return self._digit_classifier["net"].to(self.device)

    # ----- exact resume -----------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["image_pools"] = {name: pool.state_dict() for name, pool in self.pools.items()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        for name, state in checkpoint.get("image_pools", {}).items():
            self.pools[name].load_state_dict(state)


class TranslationGAN(CycleGAN):
    """The no-cycle baseline: CycleGAN's two GANs (G against D_B, F against D_A), LSGAN, pools and schedule, without
    the cycle-consistency and identity terms (Zhu et al. 2017, Table 4's "GAN alone" ablation, trained both ways):
    nothing ties G(a) to a, so the digit is free to change."""

    cycle = False

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 lambda_cycle: float = 0.0, lambda_identity: float = 0.0, **kwargs: Any) -> None:
        super().__init__(generator, discriminator, *args, lambda_cycle=lambda_cycle, lambda_identity=lambda_identity,
                         **kwargs)
