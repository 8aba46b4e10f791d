"""f-GAN: the f-divergence family and its variational losses (Nowozin, Cseke, Tomioka 2016).

Convention (the paper's): P is the *data* distribution, Q = Q_θ the model, and
D_f(P‖Q) = ∫ q(x) f(p(x)/q(x)) dx for a convex f with f(1) = 0. By Fenchel duality,
f(u) = sup_t {t·u − f*(t)}, so for any T: X → dom f*

    F(θ, ω) = E_P[g_f(V_ω(x))] + E_Q[−f*(g_f(V_ω(x)))] ≤ D_f(P‖Q)        (Eq. 7)

with equality at T*(x) = g_f(V*(x)) = f'(p(x)/q(x)). The critic ("variational function")
returns an unconstrained V(x) of shape (B,); the output activation g_f maps ℝ into dom f*.
D maximises F, G minimises it (Algorithm 1). Higher V means "more real" for every divergence.

Each divergence carries ``f_star_activation(v) = f*(g_f(v))`` in a closed form, because
composing the two in floating point loses the answer where g_f saturates (e.g. for JS,
log 2 − softplus(−v) rounds to log 2 at v ≈ 17 in float32 and −log(2 − e^t) becomes inf).

Notes on the paper's Table 5, whose integrals disagree with its generators f in places
(we follow f, the T* = f' and the f* derived from it): with f = (u − 1)² the divergence is
∫(p − q)²/q (the table's Pearson integral is Neyman's and vice versa); the table's JS
generator gives 2·JS, not JS; the GAN generator gives 2·JS − log 4, so f(1) = −log 4 ≠ 0;
the α-row's integral is D_f(Q‖P), while its f and T* are those of D_f(P‖Q).
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

Fn = Callable[[Tensor], Tensor]
LOG2 = math.log(2.0)


class _LambertWOfExp(torch.autograd.Function):
    """w = W(e^y) on the principal branch: the root of w + log w = y, solved in s = log w."""

    @staticmethod
    def forward(ctx, y: Tensor) -> Tensor:  # type: ignore[override]
        # W(x) ≈ x for small x and ≈ log x − log log x for large x; the two guesses meet at y = 1.
        large = torch.log(y - torch.log(y.clamp(min=1))).clamp(min=0)  # y − log y ≥ 1 when y ≥ 1
        s = torch.where(y > 1, large, F.logsigmoid(y))
        tol = 4 * torch.finfo(y.dtype).eps
        for _ in range(50):  # Newton on h(s) = s + e^s − y: convex and increasing, so it converges
            step = (s + s.exp() - y) / (1 + s.exp())
            s = s - step
            if bool((step.abs() <= tol * (1 + s.abs())).all()):
                break
        w = s.exp()
        ctx.save_for_backward(w)
        return w

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (w,) = ctx.saved_tensors
        return grad * w / (1 + w)  # d W(e^y) / dy = W / (1 + W)


def lambert_w_of_exp(y: Tensor) -> Tensor:
    """W(e^y), principal branch, for any real y without forming e^y (no overflow)."""
    return _LambertWOfExp.apply(y)


def lambert_w(x: Tensor) -> Tensor:
    """Lambert W, principal branch, for x > 0 (W(x)·e^{W(x)} = x), differentiable.

    The chain rule through log x gives the analytic derivative W'(x) = W / (x (1 + W)).
    """
    return lambert_w_of_exp(torch.log(x))


@dataclass(frozen=True)
class FDivergence:
    """One f-divergence: generator f, conjugate f*, output activation g_f and f' (T* = f'(p/q)).

    ``domain = (lo, hi)``: g_f maps ℝ onto the open interval (lo, hi) ⊆ dom f* (an endpoint may
    also belong to dom f*; see each constructor). All functions are elementwise torch ops.
    """

    name: str
    f: Fn
    f_star: Fn
    activation: Fn
    f_prime: Fn
    f_star_activation: Fn  # f*(g_f(v)), the same function in a numerically stable form
    domain: tuple[float, float]


def _xlogx(u: Tensor) -> Tensor:
    return torch.xlogy(u, u)


def _total_variation() -> FDivergence:
    # f*(t) = t on dom f* = [−½, ½]: the conjugate of ½|u − 1| over u ∈ ℝ (over u ≥ 0 it would
    # be max(t, −½) for t < ½); g = ½ tanh keeps t inside, where the two agree.
    half_tanh = lambda v: 0.5 * torch.tanh(v)  # noqa: E731
    return FDivergence("total_variation", lambda u: 0.5 * (u - 1).abs(), lambda t: t, half_tanh,
                       lambda u: 0.5 * torch.sign(u - 1), half_tanh, (-0.5, 0.5))


def _kl() -> FDivergence:
    return FDivergence("kl", _xlogx, lambda t: torch.exp(t - 1), lambda v: v,
                       lambda u: 1 + torch.log(u), lambda v: torch.exp(v - 1), (-math.inf, math.inf))


def _reverse_kl() -> FDivergence:
    # g = −e^{−v}, f*(t) = −1 − log(−t): f*(g(v)) = v − 1 exactly.
    return FDivergence("reverse_kl", lambda u: -torch.log(u), lambda t: -1 - torch.log(-t),
                       lambda v: -torch.exp(-v), lambda u: -1 / u, lambda v: v - 1, (-math.inf, 0.0))


def _pearson() -> FDivergence:
    # f*(t) = t²/4 + t is the conjugate of (u − 1)² over u ∈ ℝ; for t < −2 = f'(0) it exceeds the
    # conjugate over u ≥ 0 (−1), which only loosens the bound. The paper's choice (Table 6).
    quad = lambda t: 0.25 * t**2 + t  # noqa: E731
    return FDivergence("pearson", lambda u: (u - 1) ** 2, quad, lambda v: v, lambda u: 2 * (u - 1), quad,
                       (-math.inf, math.inf))


def _neyman() -> FDivergence:
    # f = (1 − u)²/u = u − 2 + 1/u, f' = 1 − 1/u²; sup_u (t − 1)u − 1/u + 2 is attained at
    # u = (1 − t)^{−½}: f*(t) = 2 − 2√(1 − t), dom f* = (−∞, 1] (f*(1) = 2 is a supremum).
    # With g = 1 − e^{−v}: f*(g(v)) = 2 − 2e^{−v/2}.
    return FDivergence("neyman", lambda u: (1 - u) ** 2 / u, lambda t: 2 - 2 * torch.sqrt(1 - t),
                       lambda v: -torch.expm1(-v), lambda u: 1 - u ** -2.0,
                       lambda v: 2 - 2 * torch.exp(-0.5 * v), (-math.inf, 1.0))


def _squared_hellinger() -> FDivergence:
    # f*(t) = t / (1 − t) on t < 1; with g = 1 − e^{−v}: f*(g(v)) = e^v − 1.
    return FDivergence("squared_hellinger", lambda u: (torch.sqrt(u) - 1) ** 2,
                       lambda t: t / (1 - t), lambda v: -torch.expm1(-v), lambda u: 1 - torch.rsqrt(u),
                       torch.expm1, (-math.inf, 1.0))


def _jeffrey_f_star(t: Tensor) -> Tensor:
    """Jeffrey: f(u) = (u − 1) log u, f'(u) = 1 + log u − 1/u maps (0, ∞) onto ℝ = dom f*.

    Solve t = f'(u) with w = 1/u: log w + w = 1 − t, i.e. w = W(e^{1−t}). Then log u = t + w − 1 and
    f*(t) = t·u − (u − 1) log u = u + w + t − 2 = W + 1/W + t − 2 (W = W(e^{1−t})), and
    1/W = e^{W + t − 1} (from W e^W = e^{1−t}) avoids dividing by an underflowed W.
    """
    w = lambert_w_of_exp(1 - t)
    return w + torch.exp(w + t - 1) + t - 2


def _jeffrey() -> FDivergence:
    # dom f* = ℝ, so g = v (the paper's Table 6 leaves Jeffrey's f* out).
    return FDivergence("jeffrey", lambda u: (u - 1) * torch.log(u), _jeffrey_f_star, lambda v: v,
                       lambda u: 1 + torch.log(u) - 1 / u, _jeffrey_f_star, (-math.inf, math.inf))


def _jensen_shannon() -> FDivergence:
    # g = log 2 − softplus(−v) = log(2 sigmoid v); f*(g(v)) = −log(2 − 2 sigmoid v) = softplus(v) − log 2.
    return FDivergence("jensen_shannon", lambda u: _xlogx(u) - (u + 1) * torch.log((u + 1) / 2),
                       lambda t: -torch.log(2 - torch.exp(t)), lambda v: LOG2 - F.softplus(-v),
                       lambda u: LOG2 + torch.log(u) - torch.log1p(u), lambda v: F.softplus(v) - LOG2,
                       (-math.inf, LOG2))


def _gan() -> FDivergence:
    # g = −softplus(−v) = log sigmoid v = log D; f*(g(v)) = −log(1 − sigmoid v) = softplus(v).
    return FDivergence("gan", lambda u: _xlogx(u) - (u + 1) * torch.log1p(u),
                       lambda t: -torch.log(-torch.expm1(t)), lambda v: -F.softplus(-v),
                       lambda u: torch.log(u) - torch.log1p(u), F.softplus, (-math.inf, 0.0))


def _alpha(alpha: float) -> FDivergence:
    """α-divergence, f(u) = (u^α − 1 − α(u − 1)) / (α(α − 1)), α ∉ {0, 1}.

    f'(u) = (u^{α−1} − 1)/(α − 1). For t = f'(u), r := 1 + (α − 1)t = u^{α−1} > 0 and
    f*(t) = t·u − f(u) = (u^α − 1)/α = (r^{α/(α−1)} − 1)/α.
    * α > 1: f' maps (0, ∞) onto (−1/(α−1), ∞); f(0) = 1/α is finite, so for t ≤ −1/(α−1) the sup
      is at u = 0 and f*(t) = −1/α, i.e. f*(t) = (max(r, 0)^{α/(α−1)} − 1)/α on dom f* = ℝ. We take
      g = v (like Pearson, which is α = 2 up to a factor ½): polynomial growth, no overflow.
    * α < 1: dom f* = (−∞, 1/(1−α)) (closed at the right end when α < 0, where f* → −1/α).
      g(v) = expm1((α−1)v)/(α−1) maps ℝ onto it with V* = log(p/q); then r = e^{(α−1)v} and
      f*(g(v)) = expm1(α v)/α.
    """
    if alpha in (0.0, 1.0):
        raise ValueError(f"alpha must not be 0 or 1 (the limits are reverse KL and KL), got {alpha}")
    a = float(alpha)

    def f_star(t: Tensor) -> Tensor:
        r = 1 + (a - 1) * t
        return ((r.clamp(min=0) if a > 1 else r) ** (a / (a - 1)) - 1) / a

    if a > 1:
        activation, f_star_activation, domain = (lambda v: v), f_star, (-math.inf, math.inf)
    else:
        activation = lambda v: torch.expm1((a - 1) * v) / (a - 1)  # noqa: E731
        f_star_activation = lambda v: torch.expm1(a * v) / a  # noqa: E731
        domain = (-math.inf, 1 / (1 - a))
    return FDivergence("alpha", lambda u: (u**a - 1 - a * (u - 1)) / (a * (a - 1)), f_star, activation,
                       lambda u: torch.expm1((a - 1) * torch.log(u)) / (a - 1), f_star_activation, domain)


_FACTORIES: dict[str, Callable[[], FDivergence]] = {
    "total_variation": _total_variation, "kl": _kl, "reverse_kl": _reverse_kl, "pearson": _pearson,
    "neyman": _neyman, "squared_hellinger": _squared_hellinger, "jeffrey": _jeffrey,
    "jensen_shannon": _jensen_shannon, "gan": _gan,
}
DIVERGENCES: tuple[str, ...] = (*_FACTORIES, "alpha")


@functools.lru_cache(maxsize=None)  # the losses call it every step; an FDivergence is immutable
def get_divergence(name: str, alpha: float = 0.5) -> FDivergence:
    """The f-divergence called ``name`` (one of ``DIVERGENCES``); ``alpha`` only affects "alpha"."""
    if name == "alpha":
        return _alpha(alpha)
    if name not in _FACTORIES:
        raise ValueError(f"unknown f-divergence {name!r}; valid names: {', '.join(DIVERGENCES)}")
    return _FACTORIES[name]()


def fgan_bound(d_real: Tensor, d_fake: Tensor, divergence: str = "kl", alpha: float = 0.5) -> Tensor:
    """F = E_P[g_f(V(x))] − E_Q[f*(g_f(V(G(z))))] (Eq. 7): a lower bound on D_f(P‖Q) to log.

    ``d_real``, ``d_fake``: the critic's raw outputs V, shape (B,).

    Example:
        >>> round(float(fgan_bound(torch.zeros(2), torch.ones(2), "kl")), 4)  # 0 − e^0
        -1.0
    """
    div = get_divergence(divergence, alpha)
    return div.activation(d_real).mean() - div.f_star_activation(d_fake).mean()


def fgan_bound_from_t(
    t_real: Tensor, t_fake: Tensor, divergence: str = "kl", alpha: float = 0.5
) -> Tensor:
    """Eq. (6): E_P[T(x)] − E_Q[f*(T(x))] for a variational function T already in dom f*."""
    return t_real.mean() - get_divergence(divergence, alpha).f_star(t_fake).mean()


def fgan_discriminator_loss(
    d_real: Tensor, d_fake: Tensor, divergence: str = "kl", alpha: float = 0.5
) -> Tensor:
    """−F (Eq. 7): the critic ascends F (Algorithm 1, line 3), so it minimises the negation.

    For ``divergence="gan"`` this is exactly ``minimax_discriminator_loss``: g(v) = log sigmoid v and
    f*(g(v)) = softplus(v), so −F = softplus(−d_real) + softplus(d_fake). ("jensen_shannon" gives
    the same minus log 4.)
    """
    return -fgan_bound(d_real, d_fake, divergence, alpha)


def fgan_generator_loss(
    d_fake: Tensor, divergence: str = "kl", alpha: float = 0.5, alternative: bool = False
) -> Tensor:
    """G descends F (Algorithm 1, line 4); only the Q-term depends on θ: E_Q[−f*(g_f(V(G(z))))].

    ``alternative=True`` is Section 3.2's heuristic, maximise E_Q[g_f(V(G(z)))], i.e. minimise
    −E_Q[g_f(V)]; for "gan" it is the non-saturating loss softplus(−d_fake), while the default
    equals ``minimax_generator_loss``.
    """
    div = get_divergence(divergence, alpha)
    if alternative:
        return -div.activation(d_fake).mean()
    return -div.f_star_activation(d_fake).mean()
