"""Hinge adversarial loss (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, SN-GAN eq. (16)).

Sign convention: D returns an unbounded *score* (B,), higher means more real, no sigmoid. Every
function returns a scalar to *minimise*. D only pays for real samples scored below +1 and fakes above
−1 (a margin, like an SVM); G maximises D's raw score on its samples.
"""

import torch.nn.functional as F
from torch import Tensor


def hinge_discriminator_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """E[relu(1 − D(x))] + E[relu(1 + D(G(z)))].

    Example:
        >>> import torch
        >>> float(hinge_discriminator_loss(torch.tensor([2.0, 0.0]), torch.tensor([-3.0, 1.0])))  # (0+1)/2 + (0+2)/2
        1.5
    """
    return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()


def hinge_generator_loss(d_fake: Tensor) -> Tensor:
    """−E[D(G(z))] (no margin on G's side: saturating D scores would stall it)."""
    return -d_fake.mean()
