"""Least-squares GAN losses (Mao et al. 2017, "Least Squares Generative Adversarial Networks").

Sign convention: D returns an unbounded *score* (B,) with no sigmoid; D is trained to output b on
real data and a on fakes, G to make D output c on fakes. Every function returns a scalar to *minimise*.
The paper's two settings: a, b, c = 0, 1, 1 (eq. (9), our default: G wants its samples scored as real)
and a, b, c = −1, 1, 0 (eq. (8): with b − c = 1 and b − a = 2 the game minimises the Pearson χ²
divergence between P_data + P_g and 2 P_g, Theorem 1).
"""

from torch import Tensor


def least_squares_discriminator_loss(d_real: Tensor, d_fake: Tensor, a: float = 0.0, b: float = 1.0,
                                     scale: float = 0.5) -> Tensor:
    """½ E[(D(x) − b)²] + ½ E[(D(G(z)) − a)²] (eq. (2), D's side); ``scale`` replaces the ½ (1: the plain squared
    errors CycleGAN writes, Zhu et al. 2017, Section 4, which then halves D's whole loss itself).

    Example:
        >>> import torch
        >>> float(least_squares_discriminator_loss(torch.tensor([1.0]), torch.tensor([0.0])))  # perfect D
        0.0
    """
    return scale * (d_real - b).pow(2).mean() + scale * (d_fake - a).pow(2).mean()


def least_squares_generator_loss(d_fake: Tensor, c: float = 1.0, scale: float = 0.5) -> Tensor:
    """½ E[(D(G(z)) − c)²] (eq. (2), G's side): unlike the saturating log loss it still pulls
    samples that D scores far on the real side of the boundary back toward it (Section 3.1). ``scale`` replaces
    the ½ (1: CycleGAN's E[(D(G(x)) − 1)²], Zhu et al. 2017, Section 4)."""
    return scale * (d_fake - c).pow(2).mean()
