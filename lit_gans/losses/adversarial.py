"""Losses of the original GAN game (Goodfellow et al. 2014).

Sign convention: the discriminator returns *logits* ``d`` of shape (B,); higher means
"more real", and ``D(x) = sigmoid(d)``. Every function returns a scalar to *minimise*.
``softplus(-d) = -log(sigmoid(d))`` and ``softplus(d) = -log(1 - sigmoid(d))`` keep them
numerically stable for large |d|.
"""

import math

import torch.nn.functional as F
from torch import Tensor


def minimax_discriminator_loss(d_real: Tensor, d_fake: Tensor, real_label: float = 1.0) -> Tensor:
    """D's side of the value function V(D, G) (Goodfellow et al. 2014, Eq. 1).

    D maximises E[log D(x)] + E[log(1 - D(G(z)))]; we minimise the negation:
    ``softplus(-d_real) + softplus(d_fake)``, the binary cross-entropy with targets 1 / 0.
    The non-saturating and minimax games share this D loss.

    ``real_label`` < 1 is one-sided label smoothing (Salimans et al. 2016, Section 3.4): the real
    target becomes α (e.g. 0.9), −α log D(x) − (1 − α) log(1 − D(x)), while fakes keep target 0
    (smoothing them too would move D*'s optimum toward the generator's density).

    Example:
        >>> import torch
        >>> round(float(minimax_discriminator_loss(torch.zeros(4), torch.zeros(4))), 4)  # 2 log 2
        1.3863
    """
    real = F.softplus(-d_real) if real_label == 1.0 else real_label * F.softplus(-d_real) + (1 - real_label) * F.softplus(d_real)
    return real.mean() + F.softplus(d_fake).mean()


def minimax_generator_loss(d_fake: Tensor) -> Tensor:
    """G's side of the minimax game (Eq. 1): minimise E[log(1 - D(G(z)))] = -softplus(d_fake).

    Saturates when D confidently rejects the samples (gradient vanishes as d_fake -> -inf),
    which is why the paper recommends the non-saturating loss in practice.
    """
    return -F.softplus(d_fake).mean()


def non_saturating_generator_loss(d_fake: Tensor) -> Tensor:
    """The "-log D trick" (Goodfellow et al. 2014, Section 3): minimise -E[log D(G(z))].

    Same fixed point as the minimax game but strong gradients early in training.
    ``softplus(-d_fake) = -log(sigmoid(d_fake))``.
    """
    return F.softplus(-d_fake).mean()


def js_divergence_estimate(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Lower bound on JS(P_r, P_g) from a discriminator: ½·V(D, G) + log 2.

    With the optimal D, V(D*, G) = 2·JS - 2 log 2 (Goodfellow et al. 2014, Theorem 1), so
    this is the estimate the WGAN paper's Figure 4 plots (it saturates at log 2 ≈ 0.69).
    """
    value = -minimax_discriminator_loss(d_real, d_fake)  # V(D, G)
    return 0.5 * value + math.log(2.0)
