"""Cramér GAN losses (Bellemare et al. 2017, "The Cramér Distance as a Solution to Biased
Wasserstein Gradients", arXiv:1705.10743, Section 5 and Algorithm 1).

Convention: the critic h maps a batch to *features* h(x) of shape (B, K), not to a score.
Every function takes the features of a real batch x_r and of two independent generator
batches x_g, x'_g, row i of each forming one independent triple, and returns a scalar to
*minimise* (or, for :func:`cramer_surrogate`, the per-sample critic value f). ‖·‖ is the
Euclidean norm over the K features.

In more than one dimension the paper trains on the energy distance (Székely & Rizzo)
    E(P, Q) = 2 E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖,   X, X' ~ P and Y, Y' ~ Q independent,
measured in the critic's feature space; in one dimension it is twice the squared Cramér
distance ℓ₂²(P, Q) = ∫ (F_P − F_Q)².
"""

from collections.abc import Callable

from torch import Tensor

from lit_gans.losses.wasserstein import gradient_penalty


def _check(*hs: Tensor) -> None:
    assert all(h.dim() == 2 and h.shape == hs[0].shape for h in hs), \
        f"Cramér losses take critic features (B, K) of equal shapes, got {[tuple(h.shape) for h in hs]}"


def cramer_surrogate(h_x: Tensor, h_fake2: Tensor) -> Tensor:
    """The critic f(x) = ‖h(x) − h(x'_g)‖₂ − ‖h(x)‖₂ per sample (B,) (Algorithm 1).

    Row i of ``h_x`` is compared with row i of ``h_fake2``, the features of the second,
    independent generator batch x'_g. Higher means "more real": E f(X_r) − E f(X_g) is the
    surrogate the critic maximises (:func:`cramer_critic_loss`).
    """
    _check(h_x, h_fake2)
    return (h_x - h_fake2).norm(dim=1) - h_x.norm(dim=1)


def energy_distance_generator_loss(h_real: Tensor, h_fake: Tensor, h_fake2: Tensor) -> Tensor:
    """The generator loss of Algorithm 1, averaged over the batch:
    L_g = ‖h(x_r) − h(x_g)‖₂ + ‖h(x_r) − h(x'_g)‖₂ − ‖h(x_g) − h(x'_g)‖₂.

    Its expectation is 2 E‖X − Y‖ − E‖Y − Y'‖ = E(P_h, Q_h) + E‖X − X'‖: the energy distance
    between the real and generated feature distributions plus a real-real term that does
    not depend on G. So L_g and its gradient w.r.t. G's parameters are unbiased estimates of
    the energy distance and its gradient (the paper's point: unbiased sample gradients).
    """
    _check(h_real, h_fake, h_fake2)
    return ((h_real - h_fake).norm(dim=1) + (h_real - h_fake2).norm(dim=1) - (h_fake - h_fake2).norm(dim=1)).mean()


def cramer_critic_loss(h_real: Tensor, h_fake: Tensor, h_fake2: Tensor) -> Tensor:
    """−L_surrogate = E[f(x_g)] − E[f(x_r)], with L_surrogate = f(x_r) − f(x_g) (Algorithm 1).

    The critic maximises L_surrogate, so a critic that separates the real batch from the
    generated one lowers this loss. The gradient penalty (:func:`cramer_gradient_penalty`,
    weight λ) is added by the model: L_critic = −L_surrogate + λ (‖∇_x̂ f(x̂)‖₂ − 1)².
    """
    return cramer_surrogate(h_fake, h_fake2).mean() - cramer_surrogate(h_real, h_fake2).mean()


def energy_distance_estimate(h_real: Tensor, h_fake: Tensor, h_fake2: Tensor) -> Tensor:
    """An unbiased estimate of the energy distance E(P_h, Q_h) in the critic's feature space,
    to log: L_g minus the real-real term E‖X − X'‖, estimated on pairs of *distinct* real
    samples (row i with row i + 1, cyclically; needs B >= 2). It is 0 in expectation when G
    matches the data (as seen through h) and positive otherwise.
    """
    assert len(h_real) >= 2, "the real-real term needs at least two real samples"
    real_real = (h_real - h_real.roll(1, dims=0)).norm(dim=1).mean()
    return energy_distance_generator_loss(h_real, h_fake, h_fake2) - real_real


def cramer_gradient_penalty(
    h: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    h_fake2: Tensor,
    one_sided: bool = False,
    eps: Tensor | None = None,
) -> Tensor:
    """E[(‖∇_x̂ f(x̂)‖₂ − 1)²] on x̂ = ε x_r + (1 − ε) x_g, ε ~ U[0, 1] (Algorithm 1), where
    f(x̂) = ‖h(x̂) − h(x'_g)‖₂ − ‖h(x̂)‖₂ is the surrogate critic: the WGAN-GP penalty of
    :func:`lit_gans.losses.gradient_penalty` applied to f instead of to a scalar critic.

    ``h_fake2`` (B, K) are the features of the second generator batch, computed by the same
    critic: they are constant w.r.t. x̂ but, left attached, the penalty also trains the critic
    through them, as differentiating L_critic w.r.t. the critic's parameters requires. (Only
    G must be detached.) ε is drawn per sample, as in WGAN-GP.

    Args:
        h: the critic, (B, ...) -> (B, K); it must treat samples independently (no BatchNorm).
        real, fake: x_r and x_g (B, ...); ``fake`` detached from G.
        h_fake2: h(x'_g) (B, K).
        one_sided, eps: as in :func:`lit_gans.losses.gradient_penalty`.
    """
    return gradient_penalty(lambda x: cramer_surrogate(h(x), h_fake2), real, fake, one_sided=one_sided, eps=eps)
