"""The VAE's evidence lower bound (Kingma & Welling 2014) and the VAE-GAN's losses (Larsen et al. 2016).

Every function returns a value to *minimise*. Per-sample terms are summed over the sample's dimensions
(pixels, latents, features) and averaged over the batch: the "per datapoint" numbers papers report (nats).
Images live in [-1, 1] as everywhere in lit_gans; a Bernoulli decoder's targets are mapped to [0, 1] first.
"""

import math

import torch.nn.functional as F
from torch import Tensor


def gaussian_kl(mean: Tensor, log_var: Tensor) -> Tensor:
    """KL(q(z|x) ‖ p(z)) per sample (B,) for q = N(μ, diag σ²) and p = N(0, I), in closed form
    (Kingma & Welling 2014, Appendix B): −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²).

    Example:
        >>> import torch
        >>> gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)).abs().tolist()  # q = p (the sum may give -0.0)
        [0.0, 0.0]
    """
    return -0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).flatten(1).sum(1)


def reparameterize(mean: Tensor, log_var: Tensor, eps: Tensor) -> Tensor:
    """z = μ + σ ⊙ ε with ε ~ N(0, I) (Kingma & Welling 2014, Section 2.4): differentiable in μ and σ."""
    return mean + (0.5 * log_var).exp() * eps


def to_unit_interval(x: Tensor) -> Tensor:
    """Images in [-1, 1] -> [0, 1], the Bernoulli decoder's targets (grey levels are read as probabilities)."""
    return (x + 1) / 2


def bernoulli_nll(logits: Tensor, x: Tensor) -> Tensor:
    """−log p(x|z) per sample (B,) of a Bernoulli decoder with probabilities sigmoid(logits), for data x in
    [-1, 1] (targets (x + 1)/2): Σ_pixels BCE-with-logits (Kingma & Welling 2014, Appendix C.1)."""
    return F.binary_cross_entropy_with_logits(logits, to_unit_interval(x), reduction="none").flatten(1).sum(1)


def gaussian_nll(mean: Tensor, x: Tensor, std: float) -> Tensor:
    """−log N(x; mean, std² I) per sample (B,): Σ ((x − mean)²/(2 std²) + log std + ½ log 2π) (Kingma & Welling
    2014, Appendix C.2, with a fixed σ); mean and x in the data's range."""
    d = x[0].numel()
    return (x - mean).pow(2).flatten(1).sum(1) / (2 * std**2) + d * (math.log(std) + 0.5 * math.log(2 * math.pi))


def negative_elbo(nll: Tensor, kl: Tensor) -> Tensor:
    """−L(θ, φ; x) averaged over the batch: E_q[−log p(x|z)] (one sample z, ``nll`` (B,)) + KL(q ‖ p) (``kl`` (B,))
    (Kingma & Welling 2014, eq. (7)). The ELBO is minus this, a lower bound on log p(x)."""
    return (nll + kl).mean()


# ----- VAE-GAN (Larsen et al. 2016, Section 2 and Algorithm 1) ------------------------------------------------
# D returns logits d; Dis(x) = sigmoid(d). softplus(−d) = −log Dis(x), softplus(d) = −log(1 − Dis(x)).

def feature_reconstruction_nll(features_recon: Tensor, features_real: Tensor) -> Tensor:
    """L_llike^{Dis_l} = −E_q[log p(Dis_l(x)|z)] with p(Dis_l(x)|z) = N(Dis_l(x̃), I) (Larsen et al. 2016, eq. (6)),
    without the constant: ½ Σ_features (Dis_l(x̃) − Dis_l(x))² per sample, averaged over the batch (the authors'
    code: a unit-variance Gaussian NLL summed over the layer's units)."""
    return 0.5 * (features_recon - features_real).pow(2).flatten(1).sum(1).mean()


def vaegan_gan_value(d_real: Tensor, d_recon: Tensor, d_prior: Tensor) -> Tensor:
    """L_GAN = log Dis(x) + log(1 − Dis(Dec(Enc(x)))) + log(1 − Dis(Dec(z_p))) (Larsen et al. 2016, Algorithm 1),
    each term a batch mean. Dis maximises it; its step minimises −L_GAN = `vaegan_discriminator_loss`."""
    return -(F.softplus(-d_real).mean() + F.softplus(d_recon).mean() + F.softplus(d_prior).mean())


def vaegan_discriminator_loss(d_real: Tensor, d_recon: Tensor, d_prior: Tensor) -> Tensor:
    """−L_GAN: what Dis minimises (it sees x as real, x̃ = Dec(Enc(x)) and x_p = Dec(z_p) as fakes)."""
    return -vaegan_gan_value(d_real, d_recon, d_prior)


def vaegan_decoder_gan_loss(d_recon: Tensor, d_prior: Tensor, non_saturating: bool = False) -> Tensor:
    """The decoder's adversarial term. Algorithm 1's −L_GAN restricted to the terms that depend on Dec (the
    minimax form, as in the authors' code, which negates D's gradient): log(1 − Dis(x̃)) + log(1 − Dis(x_p)) =
    −softplus(d_recon) − softplus(d_prior). ``non_saturating``: −log Dis(x̃) − log Dis(x_p) instead (not the
    paper's; stronger gradients while D rejects the fakes)."""
    if non_saturating:
        return F.softplus(-d_recon).mean() + F.softplus(-d_prior).mean()
    return -(F.softplus(d_recon).mean() + F.softplus(d_prior).mean())
