"""Losses of text/class-conditioned GANs: the matching-aware discriminator (GAN-CLS, Reed et al. 2016) and the
conditioning-augmentation regulariser of StackGAN (Zhang et al. 2017).

Sign convention as in `lit_gans.losses.adversarial`: D returns logits (B,), higher means "more real, and
matching its condition"; every function returns a scalar to *minimise*.
"""

from collections.abc import Callable

from torch import Tensor

from lit_gans.losses.vae import gaussian_kl

KL_REDUCTIONS = ("mean", "sum")


def matching_aware_discriminator_loss(d_loss: Callable[[Tensor, Tensor], Tensor], d_real: Tensor, d_fake: Tensor,
                                      d_wrong: Tensor) -> Tensor:
    """GAN-CLS's discriminator loss (Reed et al. 2016, Algorithm 1): D sees three kinds of pairs, real image with
    its right condition (s_r), real image with a wrong condition (s_w), fake image with the right condition
    (s_f), and minimises −(log s_r + (log(1 − s_w) + log(1 − s_f)) / 2). With any D loss ``d_loss(d_pos, d_neg)``
    (real term + fake term) this is ½ d_loss(d_real, d_fake) + ½ d_loss(d_real, d_wrong); for the minimax loss,
    BCE(real) + ½ (BCE(fake) + BCE(wrong)), exactly StackGAN's ``errD_real + (errD_fake + errD_wrong) * 0.5``
    (the authors' code, ``compute_discriminator_loss``).

    Example:
        >>> import torch
        >>> from lit_gans.losses import minimax_discriminator_loss
        >>> zero = torch.zeros(3)
        >>> round(float(matching_aware_discriminator_loss(minimax_discriminator_loss, zero, zero, zero)), 4)  # 2 log 2
        1.3863
    """
    return 0.5 * d_loss(d_real, d_fake) + 0.5 * d_loss(d_real, d_wrong)


def conditioning_augmentation_kl(mean: Tensor, log_var: Tensor, reduction: str = "mean") -> Tensor:
    """D_KL(N(μ(φ), Σ(φ)) ‖ N(0, I)) of StackGAN's conditioning augmentation (Zhang et al. 2017, Section 3.1),
    Σ = diag(exp(log_var)), in closed form: −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²) (`lit_gans.losses.vae.gaussian_kl`).

    ``reduction``: "mean" averages over the batch *and* the condition's dimensions, as the authors' code does
    (``KL_loss``: ``torch.mean(KLD_element).mul_(-0.5)``); its weight 2.0 in their configs goes with this
    reduction. "sum" is the KL of each sample (summed over dimensions) averaged over the batch: the paper's
    D_KL, c_dim times larger.

    Example:
        >>> import torch
        >>> float(conditioning_augmentation_kl(torch.ones(2, 4), torch.zeros(2, 4)))  # ½ μ² per dimension
        0.5
    """
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"reduction must be one of {KL_REDUCTIONS}, got {reduction!r}.")
    kl = gaussian_kl(mean, log_var).mean()  # (B,) summed over dimensions -> batch mean
    return kl / mean[0].numel() if reduction == "mean" else kl
