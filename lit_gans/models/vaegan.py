"""VAE-GAN (Larsen et al. 2016, "Autoencoding beyond pixels using a learned similarity metric").

A VAE whose reconstruction error is measured in the discriminator's l-th layer, p(Dis_l(x)|z) = N(Dis_l(x̃), I)
(eq. (6)), and whose decoder doubles as a GAN generator. Three players and the paper's routing (Algorithm 1):
    Enc minimises L_prior + L_llike^{Dis_l}
    Dec minimises γ·L_llike^{Dis_l} − L_GAN   (the terms of L_GAN that depend on Dec: x̃ = Dec(Enc(x)), x_p = Dec(z_p))
    Dis maximises L_GAN = log Dis(x) + log(1 − Dis(x̃)) + log(1 − Dis(x_p))
(`lit_gans.losses.vae`). The GAN loss never reaches the encoder, the reconstruction loss never reaches Dis.

Steps: e, then g (the decoder), then d, each with its own forward pass at the current weights (the authors' code
applies the three gradients of one pass at once; here Dec's pass sees the encoder's update, as in any sequential
GAN step). The noise of a batch (ε of the reparameterisation and z_p) is drawn once and shared by the three steps.
One decoder pass decodes [z, z_p]; one Dis pass scores [x, x̃, x_p] and gives Dis_l(x), Dis_l(x̃) (the authors'
code also concatenates, so Dis's BatchNorm sees real and generated images together).

``equilibrium`` (the authors' code, ``margin_train`` / ``aegan.GradientDescent``, not in the paper): from the
encoder step's pass, Dis's costs −log Dis(x) and −log(1 − Dis(fakes)) (each a batch mean); when either falls below
value − margin Dis skips this batch's update, when either exceeds value + margin the decoder skips its update;
when both would skip, both update.
"""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.losses.vae import (
    feature_reconstruction_nll,
    gaussian_kl,
    reparameterize,
    vaegan_decoder_gan_loss,
    vaegan_discriminator_loss,
)
from lit_gans.models.base import AdversarialModule, Logs
from lit_gans.models.steps import BatchState, Step
from lit_gans.models.vae import GaussianEncoderMixin, refuse_gan_options


class VAEGAN(GaussianEncoderMixin, AdversarialModule):
    """Args (besides the skeleton's ``generator`` = Dec and ``discriminator`` = Dis):
        encoder: Hydra config of a network x -> (B, K) taking ``out_features`` (set to 2·latent_dim: [μ, log σ²]).
        optimizer_e, optimizer_g, optimizer_d (+ ``scheduler_*``): one per player (Enc, Dec, Dis).
        gamma: γ, the weight of L_llike against the GAN term in the decoder's loss.
        non_saturating: the decoder minimises −log Dis(x̃) − log Dis(x_p) instead of the paper's
            log(1 − Dis(x̃)) + log(1 − Dis(x_p)).
        equilibrium: ``{value, margin}`` (the authors' code: 0.68, 0.35) or None (default, the paper).
        The discriminator must offer ``features_and_score(x) -> (Dis_l(x) (B, F), logit (B,))``.
    """

    adversarial_optional = True  # no `loss` config: L_GAN is the paper's, in lit_gans.losses.vae
    players = {"e": ("encoder",), "g": ("generator",), "d": ("discriminator",)}
    steps = (Step("e", "encoder_step"),
             Step("g", "decoder_step", due="decoder_step_due"),
             Step("d", "discriminator_step", due="discriminator_step_due"))
    packing_unsupported = "its discriminator also measures reconstructions sample by sample."

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], encoder: Mapping[str, Any],
                 *args: Any, optimizer_e: Mapping[str, Any] | None = None, scheduler_e: Mapping[str, Any] | None = None,
                 gamma: float = 1e-5, non_saturating: bool = False, equilibrium: Mapping[str, float] | None = None,
                 latent_dim: int = 128, latent_distribution: str = "normal", **kwargs: Any) -> None:
        if gamma < 0:
            raise ValueError(f"model.gamma must be >= 0, got {gamma}.")
        if equilibrium is not None and (set(equilibrium) != {"value", "margin"} or equilibrium["margin"] < 0):
            raise ValueError(f"model.equilibrium takes {{value, margin >= 0}} (the authors' code: {{value: 0.68, margin: 0.35}}) "
                             f"or null, got {dict(equilibrium)}.")
        super().__init__(generator, discriminator, *args, latent_dim=latent_dim, latent_distribution=latent_distribution,
                         **kwargs)
        if self.discriminator is None or self.objective is not None:
            raise ValueError("The VAE-GAN needs model.discriminator and no model.loss (its L_GAN is the paper's): "
                             "set model.loss=null.")
        if not hasattr(self.discriminator, "features_and_score"):
            raise ValueError(f"{type(self.discriminator).__name__} exposes no features Dis_l(x) (features_and_score); use "
                             "net/discriminator@model.discriminator=vaegan (or dcgan, mlp).")
        refuse_gan_options(self)
        self.encoder = self.build_encoder(self.hparams.encoder)
        self._updates = (True, True)  # (decoder, discriminator) of the current batch: the equilibrium gate

    # ----- one pass -----------------------------------------------------------------------------------------------
    def _noise(self, state: BatchState) -> tuple[Tensor, Tensor]:
        """ε and z_p of this batch, drawn once and shared by its three steps."""
        if "eps" not in state.cache:
            n = len(state.real)
            state.cache["eps"] = torch.randn(n, self.hparams.latent_dim, device=self.device)
            state.cache["z_p"] = self.sample_latent(n)
        return state.cache["eps"], state.cache["z_p"]

    def forward_pass(self, x: Tensor, eps: Tensor, z_p: Tensor) -> dict[str, Tensor]:
        """Enc, Dec and Dis on one batch: the posterior (μ, log σ²), x̃ and x_p, Dis_l(x) and Dis_l(x̃), and Dis's
        logits of x, x̃ and x_p (each (B,))."""
        n = len(x)
        mean, log_var = self.posterior(x)
        x_tilde, x_p = self.generator(torch.cat([reparameterize(mean, log_var, eps), z_p])).split(n)
        features, logits = self.discriminator.features_and_score(torch.cat([x, x_tilde, x_p]))
        f_real, f_tilde, _ = features.split(n)
        d_real, d_tilde, d_p = logits.split(n)
        return {"mean": mean, "log_var": log_var, "x_tilde": x_tilde, "x_p": x_p, "f_real": f_real, "f_tilde": f_tilde,
                "d_real": d_real, "d_tilde": d_tilde, "d_p": d_p}

    # ----- the three steps ---------------------------------------------------------------------------------------
    def encoder_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """L_prior + L_llike^{Dis_l} (Dec and Dis frozen); also Dis's costs for the equilibrium gate."""
        out = self.forward_pass(state.real, *self._noise(state))
        prior = gaussian_kl(out["mean"], out["log_var"]).mean()
        llike = feature_reconstruction_nll(out["f_tilde"], out["f_real"])
        real_cost = F.softplus(-out["d_real"]).mean().detach()  # −log Dis(x)
        fake_cost = F.softplus(torch.cat([out["d_tilde"], out["d_p"]])).mean().detach()  # −log(1 − Dis(fakes))
        self._updates = self.equilibrium_gate(real_cost, fake_cost)
        logs = {"train/e_loss": prior + llike, "train/kl": prior, "train/llike": llike,
                "train/d_real_cost": real_cost, "train/d_fake_cost": fake_cost,
                "train/D(x)": out["d_real"].sigmoid().mean(), "train/D(x_tilde)": out["d_tilde"].sigmoid().mean(),
                "train/D(x_p)": out["d_p"].sigmoid().mean()}
        if self.hparams.equilibrium is not None:
            logs["train/decoder_updates"] = torch.tensor(float(self._updates[0]))
            logs["train/discriminator_updates"] = torch.tensor(float(self._updates[1]))
        return prior + llike, logs

    def decoder_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """γ·L_llike^{Dis_l} + the decoder's GAN term (Enc and Dis frozen)."""
        out = self.forward_pass(state.real, *self._noise(state))
        llike = feature_reconstruction_nll(out["f_tilde"], out["f_real"])
        gan = vaegan_decoder_gan_loss(out["d_tilde"], out["d_p"], self.hparams.non_saturating)
        loss = self.hparams.gamma * llike + gan
        return loss, {"train/g_loss": loss, "train/g_gan": gan}

    def discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """−L_GAN on x (real), x̃ and x_p (fakes, decoded without a graph)."""
        eps, z_p = self._noise(state)
        x, n = state.real, len(state.real)
        with torch.no_grad():
            mean, log_var = self.posterior(x)
            x_tilde, x_p = self.generator(torch.cat([reparameterize(mean, log_var, eps), z_p])).split(n)
        d_real, d_tilde, d_p = self.discriminator(torch.cat([x, x_tilde, x_p])).split(n)
        loss = vaegan_discriminator_loss(d_real, d_tilde, d_p)
        return loss, {"train/d_loss": loss}

    # ----- the equilibrium gate (the authors' code) ----------------------------------------------------------------
    def equilibrium_gate(self, real_cost: Tensor, fake_cost: Tensor) -> tuple[bool, bool]:
        """(update the decoder, update Dis) for this batch; both True when ``equilibrium`` is None."""
        cfg = self.hparams.equilibrium
        if cfg is None:
            return True, True
        low, high = cfg["value"] - cfg["margin"], cfg["value"] + cfg["margin"]
        costs = (float(real_cost), float(fake_cost))
        update_d = not any(c < low for c in costs)  # Dis is winning: let the decoder catch up
        update_g = not any(c > high for c in costs)  # Dis is losing: let it catch up
        if not (update_d or update_g):
            return True, True
        return update_g, update_d

    def decoder_step_due(self, batch_idx: int) -> bool:
        return self._updates[0]

    def discriminator_step_due(self, batch_idx: int) -> bool:
        return self._updates[1]

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["vaegan_updates"] = list(self._updates)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        self._updates = tuple(checkpoint.get("vaegan_updates", (True, True)))
