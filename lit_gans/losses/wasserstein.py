"""Wasserstein GAN losses (Arjovsky et al. 2017) and the gradient penalty (Gulrajani et al. 2017).

Sign convention: the critic f returns an unbounded *score* of shape (B,); higher means
"more real". No sigmoid. Every function returns a scalar to *minimise*.
"""

from collections.abc import Callable

import torch
from torch import Tensor


def wasserstein_critic_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Negated EM estimate: E[f(G(z))] - E[f(x)] (WGAN paper, Algorithm 1, line 5).

    The critic maximises E[f(x)] - E[f(G(z))] (Eq. 3, Kantorovich-Rubinstein duality); its
    negation is what the WGAN paper's Figure 3 plots as the EM distance estimate.
    """
    return d_fake.mean() - d_real.mean()


def wasserstein_generator_loss(d_fake: Tensor) -> Tensor:
    """G minimises -E[f(G(z))] (Algorithm 1, line 10)."""
    return -d_fake.mean()


def em_estimate(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """The critic's estimate of W(P_r, P_g): E[f(x)] - E[f(G(z))] (Figure 3's y-axis)."""
    return d_real.mean() - d_fake.mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    one_sided: bool = False,
    eps: Tensor | None = None,
    grad_scale: float | Tensor = 1.0,
) -> Tensor:
    """WGAN-GP penalty E[(‖∇f(x̂)‖₂ - 1)²] on x̂ = ε·x + (1 - ε)·G(z), ε ~ U[0, 1]
    (Gulrajani et al. 2017, Eq. 3 and Algorithm 1, lines 6-7).

    ``one_sided=True`` penalises only norms above one: E[max(0, ‖∇f(x̂)‖₂ - 1)²] (the
    paper's appendix). The gradient is taken with ``create_graph=True`` so the penalty is
    differentiable w.r.t. the critic's parameters; add it to the critic loss and call one
    backward (never ``backward(create_graph=True)``: it breaks DDP).

    Mixed precision (PyTorch's AMP recipe, "Gradient penalty"): call it inside the autocast region
    and, under float16 with a ``GradScaler``, pass ``grad_scale=scaler.get_scale()``. The scores are
    multiplied by it before ``autograd.grad`` so the backward through float16 layers does not
    underflow, and the gradient is divided by it right after, so the penalty itself is unscaled
    (the loss it joins is scaled once, by ``manual_backward``). A power of two changes nothing in
    exact arithmetic; bfloat16 has float32's range and needs no scale.

    Args:
        critic: maps (B, ...) inputs to (B,) scores.
        real, fake: (B, ...) batches of the same shape; ``fake`` should be detached.
        one_sided: penalise only ‖∇f‖ > 1.
        eps: optional (B,) interpolation weights (for tests); sampled U[0, 1] otherwise.
        grad_scale: the loss scale of a float16 ``GradScaler`` (1 = none).
    """
    assert real.shape == fake.shape, f"real {tuple(real.shape)} vs fake {tuple(fake.shape)}"
    if eps is None:
        eps = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    eps = eps.view(-1, *([1] * (real.dim() - 1)))  # (B, 1, ..., 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(x_hat)  # (B,); float16 / bfloat16 under autocast
    total = scores.sum(dtype=torch.promote_types(scores.dtype, x_hat.dtype))  # no float16 overflow once scaled
    (scaled,) = torch.autograd.grad(total * grad_scale, x_hat, create_graph=True)
    grad = scaled / grad_scale  # an overflow (inf) stays inf: the scaler then skips the step
    norm = grad.flatten(1).norm(2, dim=1)  # (B,)
    excess = (norm - 1).clamp(min=0) if one_sided else norm - 1
    return excess.pow(2).mean()
