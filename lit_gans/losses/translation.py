"""Loss terms of image-to-image translation (pix2pix; the cycle terms of the unpaired models belong here too).

Sign convention: every function returns a scalar to *minimise*; images are (B, C, H, W) in [-1, 1].
"""

from collections.abc import Sequence

from torch import Tensor


def l1_translation_loss(output: Tensor, target: Tensor) -> Tensor:
    """L_L1(G) = E_{x,y}‖y − G(x)‖₁ (Isola et al. 2017, eq. 3), as a mean over pixels and channels (the authors'
    ``torch.nn.L1Loss``), so λ = 100 weighs a per-pixel error.

    Example:
        >>> import torch
        >>> float(l1_translation_loss(torch.tensor([[0.5, -1.0]]), torch.tensor([[1.0, 1.0]])))  # (0.5 + 2) / 2
        1.25
    """
    if output.shape != target.shape:
        raise ValueError(f"output {tuple(output.shape)} and target {tuple(target.shape)} must have one shape")
    return (output - target).abs().mean()


def halved(discriminator_loss: Tensor) -> Tensor:
    """pix2pix's D objective divided by 2 "while optimizing D, which slows down the rate at which D learns relative
    to G" (Isola et al. 2017, Section 3.3; the authors' code: ``0.5 * (loss_D_fake + loss_D_real)``)."""
    return 0.5 * discriminator_loss


def feature_matching_loss(real_features: Sequence[Tensor], fake_features: Sequence[Tensor]) -> Tensor:
    """DiscoGAN's feature matching (the authors' ``get_fm_loss``; not in the paper): for each of D's intermediate
    layers l, the mean over its units of (E_batch f_l(real) − E_batch f_l(fake))², summed over the layers (their
    ``HingeEmbeddingLoss`` against a target of ones is that mean). The real features come from the target domain's
    real batch, the fake ones from the translations.

    Example:
        >>> import torch
        >>> real, fake = [torch.tensor([[1.0, 2.0], [3.0, 2.0]])], [torch.tensor([[0.0, 0.0], [0.0, 0.0]])]
        >>> float(feature_matching_loss(real, fake))  # means (2, 2) vs (0, 0): (4 + 4) / 2
        4.0
    """
    if len(real_features) != len(fake_features) or not real_features:
        raise ValueError("feature matching needs the same, non-empty list of layers for real and fake images")
    return sum(((r.mean(0) - f.mean(0)) ** 2).mean() for r, f in zip(real_features, fake_features))  # type: ignore[return-value]


def l2_blending_loss(output: Tensor, target: Tensor) -> Tensor:
    """GP-GAN's reconstruction term L_l2(x) = ‖x^l − G(x)‖²₂ (Wu et al. 2017, Section 3.1), as a mean over pixels and
    channels (the authors' ``F.mean_squared_error``), in the data's [-1, 1] units.

    Example:
        >>> import torch
        >>> float(l2_blending_loss(torch.tensor([[0.5, -1.0]]), torch.tensor([[1.0, 1.0]])))  # (0.25 + 4) / 2
        2.125
    """
    if output.shape != target.shape:
        raise ValueError(f"output {tuple(output.shape)} and target {tuple(target.shape)} must have one shape")
    return (output - target).pow(2).mean()


def blending_gan_loss(l2: Tensor, adversarial: Tensor, l2_weight: float) -> Tensor:
    """The blending GAN's generator objective: λ·L_l2 + (1 − λ)·L_adv, λ = 0.999 (Wu et al. 2017, Section 3.1, with the
    authors' ``--l2_weight``; their ``g_loss``: ``(1 - l2_weight) * errG + l2_weight * l2_loss``).

    Example:
        >>> import torch
        >>> float(blending_gan_loss(torch.tensor(2.0), torch.tensor(-1.0), 0.75))  # 0.75·2 + 0.25·(−1)
        1.25
    """
    if not 0 <= l2_weight <= 1:
        raise ValueError(f"l2_weight must be in [0, 1], got {l2_weight}.")
    return l2_weight * l2 + (1 - l2_weight) * adversarial
