"""Loss terms of image-to-image translation (pix2pix; the cycle terms of the unpaired models belong here too).

Sign convention: every function returns a scalar to *minimise*; images are (B, C, H, W) in [-1, 1].
"""

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
