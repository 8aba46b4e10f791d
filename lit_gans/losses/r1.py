"""The R1 penalty (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?", Eq. 9).

R1(ψ) = (γ/2) E_{x~P_D}[‖∇_x D_ψ(x)‖²]: the squared norm of D's gradient with respect to its *input*, on *real*
data only. It is the penalty of ALAE's Step I (Pidhorskyi et al. 2020, Algorithm 1, line 6) and of StyleGAN.
A popular port differentiates with respect to D's parameters instead; that is a different regulariser (and not
the one whose local convergence the paper proves).
"""

from collections.abc import Callable

import torch
from torch import Tensor


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, grad_scale: float | Tensor = 1.0) -> Tensor:
    """E_x[‖∇_x D(x)‖²] over a real batch (without the γ/2 factor, which the caller applies).

    The gradient is taken with ``create_graph=True`` so the penalty trains D (double backprop): add
    (γ/2)·r1_penalty to D's loss and call one backward (never ``backward(create_graph=True)``: it breaks DDP).
    ``grad_scale`` is the float16 GradScaler's scale (see `gradient_penalty`): the scores are multiplied by it
    before ``autograd.grad`` and the gradient divided by it right after.

    Args:
        critic: maps (B, ...) inputs to (B,) scores (logits, higher = more real).
        real: (B, ...) real data; it is detached here and made a leaf that requires grad.
        grad_scale: the loss scale of a float16 ``GradScaler`` (1 = none).

    Example:
        >>> w = torch.tensor([3.0, 4.0])
        >>> float(r1_penalty(lambda x: x @ w, torch.randn(5, 2)))  # a linear D: ‖∇_x D‖² = ‖w‖² = 25
        25.0
    """
    x = real.detach().requires_grad_(True)
    scores = critic(x)  # (B,)
    assert scores.shape == x.shape[:1], f"critic must return (B,) scores, got {tuple(scores.shape)}"
    total = scores.sum(dtype=torch.promote_types(scores.dtype, x.dtype))  # Σ_i D(x_i): ∂/∂x_i = ∇D(x_i)
    (scaled,) = torch.autograd.grad(total * grad_scale, x, create_graph=True)
    grad = scaled / grad_scale
    return grad.flatten(1).pow(2).sum(1).mean()  # mean over the batch of ‖∇_x D(x_i)‖²
