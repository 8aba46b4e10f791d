"""GANs whose discriminator is an autoencoder: EBGAN (Zhao et al. 2017) and BEGAN (Berthelot et al. 2017).

D(x) is the per-sample reconstruction error of the autoencoder (`lit_gans.losses.energy`): an
*energy*, lower means more real. ``d_scores`` returns it, so the skeleton's loss hooks, logs
(``train/d_real``, ``train/d_fake``: mean energies) and ``val/d_real`` work unchanged.
"""

from typing import Any

import torch
from torch import Tensor

from lit_gans.losses.energy import (
    ENERGY_NORMS,
    began_convergence,
    began_k_update,
    pulling_away_term,
    reconstruction_energy,
)
from lit_gans.models.base import AdversarialModule, Logs, images_of


class AutoencoderGAN(AdversarialModule):
    """The shared part of EBGAN and BEGAN: an autoencoder discriminator and its energy.

    Args (besides the skeleton's):
        energy_norm: "l2" (mean squared reconstruction error per sample) or "l1" (mean absolute).
    """

    r1_unsupported = "D is an autoencoder whose energy is a reconstruction error, not a score with the paper's convergence analysis."

    def __init__(self, *args: Any, energy_norm: str = "l2", **kwargs: Any) -> None:
        if energy_norm not in ENERGY_NORMS:
            raise ValueError(f"energy_norm must be one of {ENERGY_NORMS}, got {energy_norm!r}.")
        super().__init__(*args, **kwargs)
        name = type(self).__name__
        if not hasattr(self.discriminator, "reconstruct_with_codes"):
            raise ValueError(
                f"{name}'s discriminator must be an autoencoder (lit_gans.networks.autoencoder), got "
                f"{type(self.discriminator).__name__}. Use net/discriminator@model.discriminator=autoencoder_dcgan "
                "for images or =autoencoder_toy for toy data (toy data configs such as data=ring8 swap in the MLP "
                "classifier `toy`: give the override after data=...)."
            )
        if self.objective.gp_weight > 0:  # the penalty differentiates D(x) as a score; ours is a reconstruction
            raise ValueError(f"{name} does not support a gradient penalty; set loss.gp_weight=0.")

    def d_scores(self, samples: Any) -> Tensor:
        """Energies (B,): the reconstruction error of each sample; lower = more real. With PacGAN's ``pack`` = m,
        (B/m,): the autoencoder reconstructs each packed input of m·C channels."""
        x = self.packed(images_of(samples))
        return reconstruction_energy(x, self.discriminator(x), self.hparams.energy_norm)


class EBGAN(AutoencoderGAN):
    """Energy-based GAN with an autoencoder discriminator, optionally with the pulling-away term (EBGAN-PT).

    D minimises D(x) + [m − D(G(z))]⁺ per sample (``loss=energy_margin``, m = ``loss.params.margin``);
    G minimises D(G(z)) + ``pt_weight`` · f_PT(Enc(G(z))) (Zhao et al. 2017, eqs. (1)-(2), Section 2.4).
    The PT term is computed on the codes of G's own batch and only in G's loss, as in the paper.

    Args (besides the skeleton's):
        pt_weight: weight of the pulling-away term (0.1 in the paper; 0 disables it: plain EBGAN).
        energy_norm: "l2" (the paper's squared reconstruction error) or "l1".
    """

    required_loss = "energy_margin"

    def __init__(self, *args: Any, pt_weight: float = 0.1, energy_norm: str = "l2", **kwargs: Any) -> None:
        if pt_weight < 0:
            raise ValueError(f"pt_weight must be >= 0, got {pt_weight}.")
        super().__init__(*args, energy_norm=energy_norm, **kwargs)

    def generator_loss(self, real: Any, fake: Any) -> tuple[Tensor, Logs]:
        x = self.packed(images_of(fake))  # PacGAN: packs of m; PT then pulls apart the codes of packs
        recon, codes = self.discriminator.reconstruct_with_codes(x)  # one pass: energies and PT codes
        e_fake = reconstruction_energy(x, recon, self.hparams.energy_norm)  # (B,), or (B/m,) packed
        loss, logs = self.adversarial_g_loss(e_fake)
        logs["train/g_energy"] = e_fake.mean().detach()
        if self.hparams.pt_weight > 0:
            pt = pulling_away_term(codes)
            loss = loss + self.hparams.pt_weight * pt
            logs.update({"train/g_loss": loss, "train/pulling_away": pt.detach()})
        return loss, logs


class BEGAN(AutoencoderGAN):
    """Boundary equilibrium GAN (Berthelot et al. 2017, Section 3.4).

    D minimises L(x) − k_t L(G(z_D)), G minimises L(G(z_G)), with L the per-sample mean absolute
    reconstruction error (``energy_norm="l1"``, the paper's η = 1). After each generator loss
    k_{t+1} = clamp(k_t + λ_k (γ L(x) − L(G(z_G))), 0, 1), starting from k_0 = 0; γ and λ_k are
    ``loss.params.gamma`` / ``loss.params.lambda_k`` (``loss=began``). k_t is a buffer, so it is part of
    the state dict and every checkpoint, and a resumed run continues the controller where it was.
    Logged: ``train/k_t`` and the convergence measure ``train/convergence`` (M_global, Section 3.4.1).

    The k_t update sits in `generator_loss` (under ``torch.no_grad``) because the skeleton has no
    hook after the generator's step; k_t is only read by the next discriminator loss, so updating it
    before G's optimizer step gives the same sequence of k_t. It uses the L(x) of the discriminator
    step on the same real batch (no second pass over the real data).

    Args (besides the skeleton's):
        energy_norm: "l1" (the paper's η = 1) or "l2" (η = 2).
    """

    required_loss = "began"

    def __init__(self, *args: Any, energy_norm: str = "l1", **kwargs: Any) -> None:
        super().__init__(*args, energy_norm=energy_norm, **kwargs)
        params = self.objective.params
        missing = {"gamma", "lambda_k"} - set(params)
        if missing:
            raise ValueError(f"loss.params needs {sorted(missing)} for BEGAN's controller (see conf/loss/began.yaml).")
        if not 0 < params["gamma"] <= 1 or params["lambda_k"] < 0:
            raise ValueError(f"BEGAN needs 0 < gamma <= 1 and lambda_k >= 0, got {params}.")
        self.register_buffer("k_t", torch.zeros(()))  # k_0 = 0; persistent: saved in checkpoints
        self._l_real: Tensor | None = None  # L(x) (B,) of the last discriminator step, for the controller

    def discriminator_loss(self, real: Any, fake: Any) -> tuple[Tensor, Logs]:
        l_real, l_fake = self.d_scores(real), self.d_scores(fake)  # L(x), L(G(z_D)) (B,)
        self._l_real = l_real.detach()
        loss = self.objective.discriminator(l_real, l_fake, k=self.k_t)
        return loss, {"train/d_loss": loss, "train/d_real": l_real.mean(), "train/d_fake": l_fake.mean()}

    def generator_loss(self, real: Any, fake: Any) -> tuple[Tensor, Logs]:
        l_fake = self.d_scores(fake)  # L(G(z_G)) (B,), carries G's graph
        loss = self.objective.generator(l_fake)
        with torch.no_grad():
            l_real = self._l_real if self._l_real is not None else self.d_scores(real)  # L(x)
            gamma, lambda_k = self.objective.params["gamma"], self.objective.params["lambda_k"]
            convergence = began_convergence(l_real, l_fake, gamma)
            self.k_t.copy_(began_k_update(self.k_t, l_real, l_fake, gamma, lambda_k))
        return loss, {"train/g_loss": loss, "train/k_t": self.k_t.clone(), "train/convergence": convergence}
