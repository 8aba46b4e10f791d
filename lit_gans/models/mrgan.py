"""Mode Regularized GAN and Manifold-Diffusion GAN (Che et al. 2017, "Mode Regularized Generative Adversarial
Networks"): an encoder E: x -> z whose reconstructions G∘E(x) tie the generator to every mode of the data.

**MRGAN** (Section 3.1): D plays the vanilla GAN; G minimises T_G = −E_z log D(G(z)) + T_E and E minimises
T_E = λ1 E_x d(x, G∘E(x)) − λ2 E_x log D(G∘E(x)) (`lit_gans.losses.mode_regularized`, where the sign of the mode term
is discussed). G and E are one player: T_G's first term does not depend on E, so the gradient of T_G with respect
to E's parameters *is* T_E's, and one step on T_G over both networks is exactly the paper's two updates taken from
the same weights, in one forward pass (as BiGAN's G and E). Steps per batch: D, then G/E (the vanilla GAN order).

**MDGAN** (Section 3.3, Appendix A): each batch runs the *manifold step* — D_m (``discriminator``) separates x from
G∘E(x), then G and E minimise λ1 d(x, G∘E(x)) − λ2 log D_m(G∘E(x)) (λ2 = 1 in the paper) — and then the *diffusion
step* — D_d (``diffusion_discriminator``) separates G∘E(x) ("real" here) from G(z), then G minimises −log D_d(G(z)).
The G/E player takes both G steps (E receives no gradient in the diffusion step, so its weights stay as they are).
"""

from collections.abc import Mapping
from typing import Any

from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.losses import DISTANCES, mode_regularizer, reconstruction_distance
from lit_gans.models.base import AdversarialModule, Logs
from lit_gans.models.steps import BatchState, Step
from lit_gans.networks import BatchNormStatistics


class MRGAN(AdversarialModule):
    """Args (besides the skeleton's):
        encoder: E's network config (any net taking ``in_shape`` and ``out_features``; out_features is set to
            latent_dim here), e.g. net/encoder: bigan_mnist (MLP), conv28, toy.
        lambda1: λ1, the weight of the geometric regulariser d(x, G∘E(x)).
        lambda2: λ2, the weight of the mode regulariser −log D(G∘E(x)) (the configured objective's generator loss).
        distance: d, "l2" (squared Euclidean distance summed over pixels; default), "mse" (its per-pixel mean) or "l1".
        optimizer_g: the G/E player's optimizer, over G's and E's parameters together.
    """

    players = {"g": ("generator", "encoder"), "d": ("discriminator",)}
    has_encoder = True
    packing_unsupported = "the mode regulariser scores each reconstruction G∘E(x) against its own x."

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 encoder: Mapping[str, Any], lambda1: float = 1e-2, lambda2: float = 1e-2, distance: str = "l2",
                 **kwargs: Any) -> None:
        if lambda1 < 0 or lambda2 < 0:
            raise ValueError(f"model.lambda1 and model.lambda2 must be >= 0, got {lambda1} and {lambda2}.")
        if distance not in DISTANCES:
            raise ValueError(f"model.distance must be one of {DISTANCES}, got {distance!r}.")
        super().__init__(generator, discriminator, *args, **kwargs)
        self.encoder = self.build_encoder(self.hparams.encoder)
        self.reconstruction_statistics = BatchNormStatistics(self.generator)
        self._register_load_state_dict_pre_hook(self._fill_reconstruction_statistics)

    def build_encoder(self, cfg: Mapping[str, Any]) -> nn.Module:
        """E from its config, with ``out_features`` = the latent size."""
        return instantiate({**cfg, "out_features": self.hparams.latent_dim})

    # ----- the encoder hooks ------------------------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        """E(x) (B, latent_dim)."""
        return self.encoder(x)

    def reconstruct(self, x: Tensor) -> Tensor:
        """G∘E(x), with G's batch norms on the running statistics of the reconstructions (`reconstruction_statistics`);
        G(z) keeps its own. Nothing in these models asks E(x) to follow the prior: on Stacked MNIST E's codes spread
        3x wider than z's, and statistics shared by both passes served neither (eval-mode samples came out faint;
        docs/sections/mrgan.md)."""
        with self.reconstruction_statistics.swapped_into(self.generator):
            return self.generator(self.encode(x))

    def _fill_reconstruction_statistics(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        """A checkpoint from before `reconstruction_statistics` (one set for both passes): start them from G's."""
        for name, key in self.reconstruction_statistics.network_keys().items():
            source = f"{prefix}generator.{key}"
            if f"{prefix}reconstruction_statistics.{name}" not in state_dict and source in state_dict:
                state_dict[f"{prefix}reconstruction_statistics.{name}"] = state_dict[source].clone()

    # ----- the regulariser --------------------------------------------------------------------
    def regularizer(self, x: Tensor, d_forward: Any, lambda2: float, prefix: str = "train/") -> tuple[Tensor, Logs]:
        """T_E on the real batch x (clean: E reads the data): λ1 d(x, G∘E(x)) + λ2 · the objective's generator loss
        on ``d_forward``'s logits of G∘E(x) (with instance noise when on), through G's and E's graphs."""
        reconstruction = self.reconstruct(x)
        d_rec = d_forward(self.with_instance_noise(reconstruction))
        loss = mode_regularizer(x, reconstruction, d_rec, self.hparams.lambda1, lambda2, self.hparams.distance,
                                adversarial=self.objective.generator)
        logs = {f"{prefix}reconstruction_distance": reconstruction_distance(x, reconstruction.detach(),
                                                                           self.hparams.distance).mean(),
                f"{prefix}regularizer": loss}
        if self.objective.logits:
            logs[f"{prefix}D(G(E(x)))"] = d_rec.detach().sigmoid().mean()
        return loss, logs

    def generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """T_G: the objective's generator loss on a fresh G(z), plus the regulariser on the real batch (D frozen)."""
        fake = self.with_instance_noise(self.sample_fake(len(state.real)))
        adversarial, logs = self.adversarial_g_loss(self.d_scores(fake))
        regularizer, reg_logs = self.regularizer(state.real, self.d_scores, self.hparams.lambda2)
        loss = adversarial + regularizer
        return loss, {**logs, **reg_logs, "train/g_loss": loss, "train/g_adversarial": adversarial}


class MDGAN(MRGAN):
    """Args (besides MRGAN's; ``discriminator`` is the manifold step's D_m):
        diffusion_discriminator: D_d's network config; None (default): the same config as D_m (fresh weights).
        optimizer_dd, scheduler_dd: D_d's optimizer and optional scheduler.
        lambda1: λ of the manifold step's λ d(x, G∘E(x)); lambda2: the weight of its −log D_m(G∘E(x)) (1 in the paper).
    """

    players = {"g": ("generator", "encoder"), "d": ("discriminator",), "dd": ("diffusion_discriminator",)}
    steps = (Step("d", "manifold_discriminator_step", after="after_discriminator_step"),
             Step("g", "manifold_generator_step", due="generator_step_due"),
             Step("dd", "diffusion_discriminator_step"),
             Step("g", "diffusion_generator_step", due="generator_step_due"))
    # D_m's loss goes through `adversarial_d_loss` (which adds R1 on x) but D_d's does not: refused rather than
    # applied to one of the two discriminators only
    r1_unsupported = ("its diffusion discriminator D_d (G∘E(x) real, G(z) fake) has no R1 penalty wired, and R1 on "
                      "D_m alone would regularise one of its two games.")

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 diffusion_discriminator: Mapping[str, Any] | None = None, optimizer_dd: Mapping[str, Any] | None = None,
                 scheduler_dd: Mapping[str, Any] | None = None, lambda2: float = 1.0, **kwargs: Any) -> None:
        super().__init__(generator, discriminator, *args, lambda2=lambda2, **kwargs)
        if self.objective.gp_weight > 0:
            raise ValueError("MDGAN's two discriminators see different pairs of distributions; the gradient penalty is "
                             "not wired for them. Use loss=non_saturating (the paper's) or another loss without one.")
        self.diffusion_discriminator = self.build_discriminator(self.hparams.diffusion_discriminator
                                                                or self.hparams.discriminator)

    # ----- the manifold step: x vs G∘E(x) -------------------------------------------------------
    def manifold_discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """D_m: x real, G∘E(x) fake (computed with G and E frozen, detached)."""
        noisy, x = self.with_instance_noise, state.real
        loss, logs = self.discriminator_loss(noisy(x), noisy(self.reconstruct(x).detach()))
        if "train/D(G(z))" in logs:  # the manifold step's fake is G∘E(x)
            logs["train/D_m(G(E(x)))"] = logs.pop("train/D(G(z))")
        return loss, logs

    def manifold_generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """G and E: λ1 d(x, G∘E(x)) + λ2 · the objective's generator loss on D_m(G∘E(x)) (D_m frozen)."""
        loss, logs = self.regularizer(state.real, self.d_scores, self.hparams.lambda2, prefix="train/manifold_")
        return loss, {**logs, "train/g_loss": loss}

    # ----- the diffusion step: G∘E(x) vs G(z) ---------------------------------------------------
    def dd_scores(self, samples: Tensor) -> Tensor:
        return self.diffusion_discriminator(samples)

    def diffusion_discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """D_d: G∘E(x) "real", G(z) fake (both detached)."""
        noisy, x = self.with_instance_noise, state.real
        d_real = self.dd_scores(noisy(self.reconstruct(x).detach()))
        d_fake = self.dd_scores(noisy(self.sample_fake(len(x)).detach()))
        loss = self.objective.discriminator(d_real, d_fake)
        logs = {"train/dd_loss": loss, "train/dd_real": d_real.mean(), "train/dd_fake": d_fake.mean()}
        if self.objective.logits:
            logs["train/D_d(G(E(x)))"], logs["train/D_d(G(z))"] = d_real.sigmoid().mean(), d_fake.sigmoid().mean()
        return loss, logs

    def diffusion_generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """G: the objective's generator loss on D_d(G(z)) for fresh z (D_d frozen; E gets no gradient)."""
        loss = self.objective.generator(self.dd_scores(self.with_instance_noise(self.sample_fake(len(state.real)))))
        return loss, {"train/g_diffusion_loss": loss}
