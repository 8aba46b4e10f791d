"""The encoder/generator side of the bidirectional game of BiGAN and ALI (Donahue et al. 2017; Dumoulin et al. 2017).

D scores pairs: ``d_real`` = D(x, E(x)) on data pairs, ``d_fake`` = D(G(z), z) on generated pairs (B,), higher
meaning "data pair". D minimises the configured discriminator loss on (d_real, d_fake) unchanged: the value
function V(D, E, G) = E_x[log D(x, E(x))] + E_z[log(1 − D(G(z), z))] (BiGAN Eq. 3, ALI Eq. 1) for the logistic
losses. G and E are one player that wants the opposite classification of *both* pairs.
"""

from collections.abc import Callable

from torch import Tensor


def bidirectional_generator_loss(d_real: Tensor, d_fake: Tensor, discriminator_loss: Callable[[Tensor, Tensor], Tensor],
                                 zero_sum: bool) -> Tensor:
    """G and E's loss, to minimise, from D's scores of the data pairs ``d_real`` and generated pairs ``d_fake``.

    ``zero_sum`` (the minimax and Wasserstein objectives): −(D's loss), i.e. G and E minimise V(D, E, G) itself
    (BiGAN Eq. 3; for the logistic loss E minimises log D(x, E(x)) and G minimises log(1 − D(G(z), z))).
    Otherwise D's loss with the pairs' labels swapped: the "inverted labels" objective BiGAN trains with in
    practice (Donahue et al. 2017, Section 3.4, after Goodfellow et al.'s non-saturating −log D trick), for the
    logistic loss ``softplus(−d_fake) + softplus(d_real)`` = −log D(G(z), z) − log(1 − D(x, E(x))). The same rule
    gives the least-squares pair its swapped targets.

    Example:
        >>> import torch
        >>> from lit_gans.losses import minimax_discriminator_loss
        >>> d_real, d_fake = torch.tensor([2.0]), torch.tensor([-1.0])
        >>> round(float(bidirectional_generator_loss(d_real, d_fake, minimax_discriminator_loss, False)), 4)
        3.4402
    """
    if zero_sum:
        return -discriminator_loss(d_real, d_fake)
    return discriminator_loss(d_fake, d_real)
