"""The variational autoencoder (Kingma & Welling 2014): the non-adversarial baseline of the encoder family.

An encoder network q_φ(z|x) = N(μ(x), diag σ²(x)) and the model's ``generator`` as the decoder p_θ(x|z), trained
together (one player, one step per batch) to maximise the evidence lower bound with one reparameterised sample
z = μ + σ ⊙ ε and the closed-form KL to the prior N(0, I) (Section 2.3-2.4, Appendix B; `lit_gans.losses.vae`).
The decoder is the ``generator`` so sample grids, FID/KID, EMA, ``sample.py`` and checkpoints work as for GANs; the
model has no discriminator and no adversarial loss (``model.discriminator`` and ``model.loss`` are null).

Decoders: "bernoulli" (MNIST, the paper's): the generator's tanh output G(z) = tanh(a) is the Bernoulli mean mapped
to the data's [-1, 1]: p = (G(z) + 1)/2 = sigmoid(2a), so the logits 2a are read at the tanh's input (exact and
stable); targets are (x + 1)/2. "gaussian": N(x; G(z), decoder_std² I) with a fixed σ, in the data's range.
"""

from collections.abc import Mapping
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.losses.vae import bernoulli_nll, gaussian_kl, gaussian_nll, negative_elbo, reparameterize
from lit_gans.models.base import AdversarialModule, Logs
from lit_gans.models.steps import BatchState, Step

LIKELIHOODS = ("bernoulli", "gaussian")


class GaussianEncoderMixin:
    """q(z|x) = N(μ, diag σ²) from an ``encoder`` network x -> (B, 2·latent_dim) = [μ, log σ²] (VAE, VAE-GAN)."""

    has_encoder = True
    encoder: nn.Module

    def build_encoder(self, cfg: Mapping[str, Any]) -> nn.Module:
        """The encoder from its config, built with ``out_features = 2·latent_dim`` ([μ, log σ²]); the
        hyper-parameters keep the config as given, so a checkpoint rebuilds the same way."""
        return instantiate({**cfg, "out_features": 2 * self.hparams.latent_dim})

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """μ and log σ² of q(z|x), each (B, latent_dim)."""
        h = self.encoder(x)
        d = self.hparams.latent_dim
        if h.dim() != 2 or h.shape[1] != 2 * d:
            raise ValueError(f"The encoder must return (B, 2·latent_dim) = (B, {2 * d}) values ([μ, log σ²]); it returned "
                             f"{tuple(h.shape)}. Use an encoder network whose out_features sets its output size.")
        mean, log_var = h.chunk(2, dim=1)
        return mean, log_var

    def encode(self, x: Tensor) -> Tensor:
        """E(x): the posterior mean μ(x) (B, latent_dim)."""
        return self.posterior(x)[0]


def refuse_gan_options(model: AdversarialModule) -> None:
    """Options of the GAN skeleton that a VAE(-GAN) does not apply: refuse rather than ignore them."""
    hp = model.hparams
    name = type(model).__name__
    for key in ("instance_noise", "feature_matching", "historical_averaging"):
        if hp.get(key):
            raise ValueError(f"{name} does not support model.{key}; set model.{key}=null.")
    if hp.get("pack", 1) != 1 or hp.get("n_critic", 1) != 1:
        raise ValueError(f"{name} takes one step per player and batch: set model.pack=1 and model.n_critic=1.")
    if hp.get("latent_distribution") != "normal":
        raise ValueError(f"{name}'s prior p(z) is N(0, I): set model.latent_distribution=normal.")


class VAE(GaussianEncoderMixin, AdversarialModule):
    """Args (besides the skeleton's ``generator``, the decoder):
        encoder: Hydra config of a network x -> (B, K) taking ``out_features`` K, which the model sets to
            2·latent_dim ([μ, log σ²] of q(z|x)).
        optimizer_vae, scheduler_vae: ``_partial_`` optimizer (and optional LR scheduler) configs for the encoder
            and decoder together (the one player).
        likelihood: "bernoulli" (default; needs a generator ending in tanh) or "gaussian".
        decoder_std: σ of the Gaussian decoder (data range [-1, 1]); unused by the Bernoulli decoder.
        discriminator, loss: must be None (the VAE has neither).
    """

    adversarial_optional = True
    players = {"vae": ("encoder", "generator")}
    steps = (Step("vae", "elbo_step"),)
    packing_unsupported = "the VAE has no discriminator."

    def __init__(self, generator: Mapping[str, Any], encoder: Mapping[str, Any], *args: Any,
                 optimizer_vae: Mapping[str, Any] | None = None,
                 scheduler_vae: Mapping[str, Any] | None = None, likelihood: str = "bernoulli", decoder_std: float = 0.1,
                 latent_dim: int = 20, latent_distribution: str = "normal", **kwargs: Any) -> None:
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"model.likelihood must be one of {LIKELIHOODS}, got {likelihood!r}.")
        if decoder_std <= 0:
            raise ValueError(f"model.decoder_std must be > 0, got {decoder_std}.")
        super().__init__(generator, *args, latent_dim=latent_dim, latent_distribution=latent_distribution, **kwargs)
        if self.discriminator is not None or self.objective is not None:
            raise ValueError("The VAE has no discriminator and no adversarial loss: set model.discriminator=null and "
                             "model.loss=null (toy data configs add a discriminator; override it after data=...).")
        refuse_gan_options(self)
        self.encoder = self.build_encoder(self.hparams.encoder)
        self._output_tanh = self._final_tanh() if likelihood == "bernoulli" else None

    def _final_tanh(self) -> str:
        """The name of the generator's last layer, which must be a tanh (the Bernoulli logits are read at its input)."""
        leaves = [(name, m) for name, m in self.generator.named_modules() if not any(True for _ in m.children())]
        if not leaves or not isinstance(leaves[-1][1], nn.Tanh):
            raise ValueError("The Bernoulli decoder reads its logits at the generator's final tanh, but this generator "
                             f"ends in {type(leaves[-1][1]).__name__ if leaves else 'nothing'}: use a tanh output "
                             "(output_activation: tanh) or model.likelihood=gaussian.")
        return leaves[-1][0]

    # ----- the ELBO ---------------------------------------------------------------------------------------------
    def decode(self, z: Tensor) -> tuple[Tensor, Tensor | None]:
        """G(z) (B, C, H, W) in [-1, 1], and the Bernoulli logits 2a where G(z) = tanh(a) (None for a Gaussian)."""
        if self._output_tanh is None:
            return self.generator(z), None
        captured: list[Tensor] = []
        tanh = self.generator.get_submodule(self._output_tanh)
        handle = tanh.register_forward_hook(lambda module, args, output: captured.append(args[0]))
        try:
            images = self.generator(z)
        finally:
            handle.remove()
        return images, 2 * captured[-1].reshape(images.shape)  # (MLP generators reshape after the tanh)

    def reconstruction_nll(self, x: Tensor, z: Tensor) -> Tensor:
        """−log p(x|z) per sample (B,)."""
        images, logits = self.decode(z)
        if logits is not None:
            return bernoulli_nll(logits, x)
        return gaussian_nll(images, x, self.hparams.decoder_std)

    def elbo_terms(self, x: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """−log p(x|z) and KL(q(z|x) ‖ p(z)), each (B,), for one reparameterised z = μ + σ ⊙ ε (ε ~ N(0, I) unless
        given)."""
        mean, log_var = self.posterior(x)
        eps = torch.randn_like(mean) if eps is None else eps
        return self.reconstruction_nll(x, reparameterize(mean, log_var, eps)), gaussian_kl(mean, log_var)

    def elbo_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """The negative ELBO per datapoint (nats) on the real batch: encoder and decoder take one step on it."""
        nll, kl = self.elbo_terms(state.real)
        loss = negative_elbo(nll, kl)
        return loss, {"train/vae_loss": loss, "train/elbo": -loss.detach(), "train/kl": kl.mean().detach(),
                      "train/reconstruction_nll": nll.mean().detach()}

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """The ELBO per datapoint on held-out data (one z sample each), ``val/elbo`` (nats; beside ``train/elbo`` it
        shows overfitting), and its KL term ``val/kl``."""
        x = self.real_samples(batch)
        if len(x):
            nll, kl = self.elbo_terms(x)
            self.log("val/elbo", -(nll + kl).mean(), sync_dist=True, batch_size=len(x))
            self.log("val/kl", kl.mean(), sync_dist=True, batch_size=len(x))
