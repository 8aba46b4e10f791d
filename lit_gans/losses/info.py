"""InfoGAN's variational mutual-information term (Chen et al. 2016, eq. (4)-(5)).

L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)} [log Q(c | x)] + H(c) <= I(c; G(z, c)). Minimising the
negative log-likelihoods below maximises L_I (H(c) is a constant): InfoGAN minimises
V(D, G) − λ L_I(G, Q), i.e. adds λ × NLL to both players' losses.
"""

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def categorical_code_nll(logits: Tensor, codes: Tensor, categories: list[int]) -> Tensor:
    """−E log Q(c_j | x) summed over the categorical codes j: cross-entropies of each code's
    logits block (B, K_j) of ``logits`` (B, sum K_j) against its indices ``codes[:, j]`` (B, J).

    Example:
        >>> logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
        >>> round(float(categorical_code_nll(logits, torch.tensor([[0]]), [3])), 4)  # −log 0.5
        0.6931
    """
    blocks = logits.split(categories, dim=1)
    return sum(F.cross_entropy(block, codes[:, j]) for j, block in enumerate(blocks))


def gaussian_code_nll(mean: Tensor, codes: Tensor, log_var: Tensor | None = None) -> Tensor:
    """−E log N(c; μ, σ²) of continuous codes (B, C), summed over codes, averaged over the batch.
    σ = 1 when ``log_var`` is None: then it is ½ (c − μ)² + ½ log 2π per code.

    Example:
        >>> round(float(gaussian_code_nll(torch.zeros(1, 1), torch.ones(1, 1))), 4)  # ½ + ½ log 2π
        1.4189
    """
    log_var = torch.zeros_like(mean) if log_var is None else log_var
    nll = 0.5 * (math.log(2 * math.pi) + log_var + (codes - mean) ** 2 / log_var.exp())
    return nll.sum(dim=1).mean()


def categorical_entropy(categories: list[int]) -> float:
    """H(c) of independent uniform categorical codes: Σ log K_j (ln 10 ≈ 2.303 for Cat(10)),
    the upper limit of the categorical part of L_I."""
    return float(sum(math.log(k) for k in categories))
