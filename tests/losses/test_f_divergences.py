"""f-GAN divergences: conjugacy, activations, the variational bound on Gaussians, loss values and signs."""

import functools
import math

import numpy as np
import pytest
import torch
from scipy import integrate, special, stats
from torch.testing import assert_close

from helpers import t
from lit_gans.losses.adversarial import (
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
)
from lit_gans.losses.f_divergences import (
    DIVERGENCES,
    fgan_bound,
    fgan_bound_from_t,
    fgan_discriminator_loss,
    fgan_generator_loss,
    get_divergence,
    lambert_w,
    lambert_w_of_exp,
)

# every divergence, the α-family at one α from each range (α < 0, 0 < α < 1, α > 1)
CASES = [(name, 0.5) for name in DIVERGENCES if name != "alpha"]
CASES += [("alpha", a) for a in (-1.0, 0.5, 2.0, 3.0)]
IDS = [f"{n}-{a}" if n == "alpha" else n for n, a in CASES]
OMEGA = float(special.lambertw(1.0).real)  # W(1) = 0.567143..., the omega constant


# ----------------------------------------------------------------------------------- f, f*, g_f


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
def test_generator_vanishes_at_one(name: str, alpha: float) -> None:
    expected = -math.log(4.0) if name == "gan" else 0.0  # D_GAN = 2·JS − log 4 (Table 5)
    assert get_divergence(name, alpha).f(t(1.0)).item() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
def test_activation_maps_the_real_line_into_dom_f_star(name: str, alpha: float) -> None:
    d = get_divergence(name, alpha)
    lo, hi = d.domain
    inner = d.activation(torch.linspace(-15, 15, 3001, dtype=torch.float64))
    assert ((inner > lo) & (inner < hi)).all()  # strictly inside while |v| is moderate
    # beyond, g may round onto an endpoint (1 − e^{−50} == 1): f*∘g stays finite in its fused form
    for dtype in (torch.float64, torch.float32):
        if dtype == torch.float32 and alpha < 0:
            continue  # α = −1: g(v) = −(e^{2|v|} − 1)/2 overflows float32 at v = −50; that is its scale
        v = torch.linspace(-50, 50, 1001, dtype=dtype)
        g = d.activation(v)
        assert g.isfinite().all() and ((g >= lo) & (g <= hi)).all()
        assert d.f_star_activation(v).isfinite().all()


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
def test_fused_f_star_of_activation_equals_the_composition(name: str, alpha: float) -> None:
    d = get_divergence(name, alpha)
    v = torch.linspace(-8, 8, 801, dtype=torch.float64)
    assert_close(d.f_star_activation(v), d.f_star(d.activation(v)), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
def test_fenchel_duality_at_the_derivative(name: str, alpha: float) -> None:
    """f*(f'(u)) = u f'(u) − f(u): the sup over u is attained where f'(u) = t."""
    d = get_divergence(name, alpha)
    u = torch.linspace(0.05, 20, 400, dtype=torch.float64)
    assert_close(d.f_star(d.f_prime(u)), u * d.f_prime(u) - d.f(u), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
def test_fenchel_young_inequality(name: str, alpha: float) -> None:
    """f*(t) ≥ t·u − f(u) for all u > 0 and t ∈ dom f*: f* is no smaller than the conjugate."""
    d = get_divergence(name, alpha)
    gen = torch.Generator().manual_seed(0)
    u = torch.exp(torch.empty(20000, dtype=torch.float64).uniform_(-7, 7, generator=gen))  # (N,)
    tt = d.activation(3 * torch.randn(20000, dtype=torch.float64, generator=gen))  # (N,) inside dom f*
    gap = d.f_star(tt) - (tt * u - d.f(u))
    assert (gap >= -1e-9 * (1 + gap.abs())).all()
    assert gap.min() < 0.05  # and the pairs get close to equality: the test can see a too-small f*


def test_alpha_family_contains_pearson_neyman_and_hellinger() -> None:
    u = torch.linspace(0.05, 20, 100, dtype=torch.float64)
    assert_close(get_divergence("alpha", 2.0).f(u), 0.5 * get_divergence("pearson").f(u))
    assert_close(get_divergence("alpha", -1.0).f(u), 0.5 * get_divergence("neyman").f(u))
    assert_close(get_divergence("alpha", 0.5).f(u), 2 * get_divergence("squared_hellinger").f(u))


def test_alpha_f_star_below_its_range_is_the_value_at_u_zero() -> None:
    """α > 1: for t ≤ f'(0) = −1/(α−1) the sup of t·u − f(u) over u ≥ 0 sits at u = 0: −f(0) = −1/α."""
    d = get_divergence("alpha", 3.0)
    assert_close(d.f_star(t(-0.5, -2.0, -10.0)), t(-1 / 3, -1 / 3, -1 / 3))
    assert_close(d.f(t(0.0)), t(1 / 3))


def test_unknown_divergence_and_bad_alpha_raise() -> None:
    with pytest.raises(ValueError, match="jensen_shannon"):  # the message lists the valid names
        get_divergence("hellinger")
    for alpha in (0.0, 1.0):
        with pytest.raises(ValueError, match="alpha"):
            get_divergence("alpha", alpha)
    assert len(DIVERGENCES) == 10


# ------------------------------------------------------------------------------------ Lambert W


def test_lambert_w_matches_scipy() -> None:
    x = torch.logspace(-30, 30, 2001, dtype=torch.float64)
    expected = torch.from_numpy(special.lambertw(x.numpy()).real)
    assert_close(lambert_w(x), expected, rtol=1e-13, atol=0)
    assert_close(lambert_w(x.float()), expected.float(), rtol=1e-5, atol=0)  # log/exp rounding
    # W(e^y) for y far beyond float's exp range: the defining identity w + log w = y
    y = torch.linspace(-700, 5000, 1001, dtype=torch.float64)
    w = lambert_w_of_exp(y)
    assert_close(w + torch.log(w), y, rtol=1e-14, atol=1e-12)


def test_lambert_w_gradient() -> None:
    x = t(0.01, 0.5, 1.0, math.e, 40.0, 1e4).requires_grad_(True)
    assert torch.autograd.gradcheck(lambert_w, (x,))
    y = t(-30.0, -1.0, 0.0, 3.0, 200.0).requires_grad_(True)
    assert torch.autograd.gradcheck(lambert_w_of_exp, (y,))
    assert torch.autograd.gradgradcheck(lambert_w_of_exp, (y,))  # a penalty may differentiate twice
    xe = t(math.e).requires_grad_(True)
    (grad,) = torch.autograd.grad(lambert_w(xe).sum(), xe)
    assert_close(grad, t(1 / (2 * math.e)))  # W(e) = 1: W' = W / (x (1 + W)) = 1 / (2e)


# --------------------------------------------------------------- the bound on two 1-D Gaussians

# data N(0.5, 1²), model N(0, 1.05²): unequal scales make every divergence asymmetric (KL ≠ reverse KL),
# and close ones keep the tails of q²/p (Neyman) light enough for the deterministic estimates below
P, Q = (0.5, 1.0), (0.0, 1.05)


def log_ratio(x: torch.Tensor) -> torch.Tensor:
    """log p(x)/q(x), (N,)."""
    return torch.from_numpy(stats.norm.logpdf(x.numpy(), *P) - stats.norm.logpdf(x.numpy(), *Q))


@functools.lru_cache
def quantile_samples(loc: float, scale: float, n: int = 100_000) -> torch.Tensor:
    """Deterministic "samples" x_i = F^{-1}((i + ½)/n): sample means are quasi-Monte-Carlo integrals."""
    return torch.from_numpy(stats.norm.ppf((np.arange(n) + 0.5) / n, loc, scale))


def kl(a: tuple[float, float], b: tuple[float, float]) -> float:
    (m1, s1), (m2, s2) = a, b
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def closed_form(name: str, alpha: float) -> float:
    (m1, s1), (m2, s2) = P, Q
    if name == "kl":
        return kl(P, Q)
    if name == "reverse_kl":
        return kl(Q, P)
    if name == "jeffrey":
        return kl(P, Q) + kl(Q, P)
    if name == "pearson":  # ∫ p²/q − 1
        return s2**2 / (s1 * math.sqrt(2 * s2**2 - s1**2)) * math.exp((m1 - m2) ** 2 / (2 * s2**2 - s1**2)) - 1
    if name == "neyman":  # ∫ q²/p − 1
        return s1**2 / (s2 * math.sqrt(2 * s1**2 - s2**2)) * math.exp((m1 - m2) ** 2 / (2 * s1**2 - s2**2)) - 1
    if name == "squared_hellinger":  # 2 − 2·Bhattacharyya coefficient
        bc = math.sqrt(2 * s1 * s2 / (s1**2 + s2**2)) * math.exp(-((m1 - m2) ** 2) / (4 * (s1**2 + s2**2)))
        return 2 - 2 * bc
    # no closed form at hand: quadrature of the divergence's own integral, independent of our f
    integrands = {
        "total_variation": lambda p, q: 0.5 * abs(p - q),
        "jensen_shannon": lambda p, q: p * math.log(2 * p / (p + q)) + q * math.log(2 * q / (p + q)),  # 2·JS
        "gan": lambda p, q: p * math.log(p / (p + q)) + q * math.log(q / (p + q)),  # 2·JS − log 4
        "alpha": lambda p, q: (p**alpha * q ** (1 - alpha) - q) / (alpha * (alpha - 1)),  # ∫ q f(p/q), Σp = Σq
    }
    integrand = lambda x: integrands[name](stats.norm.pdf(x, *P), stats.norm.pdf(x, *Q))  # noqa: E731
    value, _ = integrate.quad(integrand, -15, 15, limit=200, points=[0.0])
    return value


def optimal_critic(name: str, alpha: float, lr: torch.Tensor) -> torch.Tensor:
    """V* with g_f(V*) = f'(p/q) = T*, written with the log-ratio lr (TV's V* is ±∞: take ±40)."""
    return {
        "total_variation": 40 * torch.sign(lr),
        "kl": 1 + lr,
        "reverse_kl": lr,
        "pearson": 2 * torch.expm1(lr),
        "neyman": 2 * lr,
        "squared_hellinger": lr / 2,
        "jeffrey": 1 + lr - torch.exp(-lr),
        "jensen_shannon": lr,
        "gan": lr,
        "alpha": torch.expm1((alpha - 1) * lr) / (alpha - 1) if alpha > 1 else lr,
    }[name]


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
def test_generator_f_gives_the_divergence(name: str, alpha: float) -> None:
    """∫ q f(p/q) dx with our f against the closed form / the divergence's own integral."""
    f = get_divergence(name, alpha).f

    def integrand(x: float) -> float:
        ratio = math.exp(stats.norm.logpdf(x, *P) - stats.norm.logpdf(x, *Q))
        return stats.norm.pdf(x, *Q) * float(f(torch.tensor(ratio, dtype=torch.float64)))

    value, _ = integrate.quad(integrand, -15, 15, limit=200, points=[0.0])
    assert value == pytest.approx(closed_form(name, alpha), rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
def test_bound_at_the_optimal_critic_equals_the_divergence(name: str, alpha: float) -> None:
    d = get_divergence(name, alpha)
    x_p, x_q = quantile_samples(*P), quantile_samples(*Q)  # (N,), (N,)
    expected = torch.tensor(closed_form(name, alpha), dtype=torch.float64)
    t_p, t_q = d.f_prime(log_ratio(x_p).exp()), d.f_prime(log_ratio(x_q).exp())  # T* = f'(p/q)
    assert_close(fgan_bound_from_t(t_p, t_q, name, alpha), expected, rtol=3e-3, atol=1e-4)
    # the same through the critic's raw output V*, with g_f(V*) = T*
    v_p, v_q = optimal_critic(name, alpha, log_ratio(x_p)), optimal_critic(name, alpha, log_ratio(x_q))
    assert_close(d.activation(v_p), t_p, rtol=1e-9, atol=1e-9)
    assert_close(fgan_bound(v_p, v_q, name, alpha), expected, rtol=3e-3, atol=1e-4)
    assert_close(-fgan_discriminator_loss(v_p, v_q, name, alpha), expected, rtol=3e-3, atol=1e-4)


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "pearson", "squared_hellinger", "jeffrey"])
def test_monte_carlo_bound_is_unbiased_against_the_closed_form(name: str) -> None:
    gen = torch.Generator().manual_seed(1)
    n = 50_000
    x_p = P[0] + P[1] * torch.randn(n, dtype=torch.float64, generator=gen)
    x_q = Q[0] + Q[1] * torch.randn(n, dtype=torch.float64, generator=gen)
    d = get_divergence(name)
    t_p, t_q = d.f_prime(log_ratio(x_p).exp()), d.f_prime(log_ratio(x_q).exp())
    stderr = math.sqrt(t_p.var().item() / n + d.f_star(t_q).var().item() / n)
    assert fgan_bound_from_t(t_p, t_q, name).item() == pytest.approx(closed_form(name, 0.5), abs=4 * stderr)


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
def test_a_critic_closer_to_the_optimum_has_a_lower_loss(name: str, alpha: float) -> None:
    """F ≤ D_f with equality at V*: a shrunk V*, a V* of the wrong sign on x ∈ (0, 1) and a constant
    critic all have a higher −F."""
    x_p, x_q = quantile_samples(*P, n=20_000), quantile_samples(*Q, n=20_000)
    v_p, v_q = optimal_critic(name, alpha, log_ratio(x_p)), optimal_critic(name, alpha, log_ratio(x_q))
    best = fgan_discriminator_loss(v_p, v_q, name, alpha)
    scale = 0.02 if name == "total_variation" else 0.5  # tanh(40·0.5) would still be saturated
    flip_p, flip_q = (torch.where((x > 0) & (x < 1), -1.0, 1.0).double() for x in (x_p, x_q))
    for worse in (fgan_discriminator_loss(scale * v_p, scale * v_q, name, alpha),
                  fgan_discriminator_loss(flip_p * v_p, flip_q * v_q, name, alpha),
                  fgan_discriminator_loss(torch.zeros_like(v_p), torch.zeros_like(v_q), name, alpha)):
        assert worse > best + 1e-3


# ---------------------------------------------------------------------------- losses by hand


def test_discriminator_loss_values() -> None:
    ln2, ln3 = math.log(2.0), math.log(3.0)
    # KL: g = v, f*(t) = e^{t−1}: −F = e^{t−1} mean − v mean = (1 + e)/2 − ½
    assert_close(fgan_discriminator_loss(t(0.0, 1.0), t(1.0, 2.0), "kl"), t(math.e / 2)[0])
    # Pearson: g = v, f* = t²/4 + t: f*(2) = 3, f*(0) = 0; real mean 0
    assert_close(fgan_discriminator_loss(t(2.0, -2.0), t(2.0, 0.0), "pearson"), t(1.5)[0])
    # reverse KL: g = −e^{−v} → (−1, −½); f*(g(v)) = v − 1 → (0, 2)
    assert_close(fgan_discriminator_loss(t(0.0, ln2), t(1.0, 3.0), "reverse_kl"), t(0.75 + 1.0)[0])
    # TV: ½ tanh(ln 3) = ½·0.8 = 0.4 and f*(t) = t
    assert_close(fgan_discriminator_loss(t(0.0, ln3), t(ln3), "total_variation"), t(0.4 - 0.2)[0])
    # squared Hellinger: g(ln 2) = ½, f*(½) = ½ / ½ = 1
    assert_close(fgan_discriminator_loss(t(ln2), t(ln2), "squared_hellinger"), t(0.5)[0])
    # JS: g(ln 3) = log 2 − log(4/3) = log(3/2); f*(log(3/2)) = −log(2 − 3/2) = log 2
    assert_close(fgan_discriminator_loss(t(ln3), t(ln3), "jensen_shannon"), t(ln2 - math.log(1.5))[0])
    # Jeffrey (g = v): f*(1) = W(e^0) + 1/W(e^0) + 1 − 2; the real v = 0 contributes 0
    assert_close(fgan_discriminator_loss(t(0.0), t(1.0), "jeffrey"), t(OMEGA + 1 / OMEGA - 1)[0])
    # α = 2 (g = v): f*(1) = ((1 + 1)² − 1)/2 = 3/2
    # α = ½: g(ln 4) = 2(1 − ½) = 1 and f*(g(ln 4)) = expm1(ln 2)/½ = 2
    assert_close(fgan_discriminator_loss(t(1.0), t(1.0), "alpha", alpha=2.0), t(0.5)[0])
    assert_close(fgan_discriminator_loss(t(math.log(4)), t(math.log(4)), "alpha", alpha=0.5), t(1.0)[0])


def test_generator_losses_saturating_and_alternative() -> None:
    # KL: saturating −E_Q[f*(g(v))] = −mean(e^{v−1}); alternative −E_Q[g(v)] = −mean(v)
    assert_close(fgan_generator_loss(t(0.0, 1.0), "kl"), t(-(math.exp(-1) + 1) / 2)[0])
    assert_close(fgan_generator_loss(t(0.0, 1.0), "kl", alternative=True), t(-0.5)[0])
    # reverse KL: −mean(v − 1) and mean(e^{−v})
    v = t(0.0, math.log(2.0))
    assert_close(fgan_generator_loss(v, "reverse_kl"), t((2 - math.log(2.0)) / 2)[0])
    assert_close(fgan_generator_loss(v, "reverse_kl", alternative=True), t(0.75)[0])


@pytest.mark.parametrize("name, alpha", CASES, ids=IDS)
@pytest.mark.parametrize("alternative", [False, True])
def test_generator_is_pushed_towards_higher_critic_values(name: str, alpha: float, alternative: bool) -> None:
    """Both G losses decrease in V where g(V) is in the range of f': d/dv −f*(g(v)) = −u*·g'(v) < 0 with
    u* = (f*)'(g(v)) > 0. Below f'(0⁺) (finite only for Pearson, −2, and α > 1, −1/(α−1)) the saturating
    loss is flat for α > 1 (f* = −1/α there) and, with the paper's Pearson f* = t²/4 + t, pushes G the
    wrong way."""
    d = get_divergence(name, alpha)
    v = torch.linspace(-5, 5, 101, dtype=torch.float64).requires_grad_(True)
    (grad,) = torch.autograd.grad(fgan_generator_loss(v, name, alpha, alternative), v)
    in_range = d.activation(v.detach()) > d.f_prime(t(0.0))  # (101,)
    assert (grad[in_range] < 0).all()
    below = grad[~in_range]
    if alternative:  # −g_f is decreasing everywhere
        assert (grad < 0).all()
    elif name == "pearson":
        assert len(below) > 0 and (below > 0).all()
    elif name == "alpha" and alpha > 1:
        assert len(below) > 0 and (below == 0).all()
    else:  # f'(0⁺) = −∞: the whole line is in range
        assert in_range.all()


def test_generator_loss_is_the_q_term_of_the_bound() -> None:
    """G's loss differs from F only by the P-term, which does not depend on θ."""
    v_r, v_f = t(0.3, -1.2, 2.0), t(0.7, 0.1)
    for name in ("kl", "jeffrey", "neyman", "alpha"):
        g_real = get_divergence(name).activation(v_r).mean()
        assert_close(fgan_generator_loss(v_f, name), fgan_bound(v_r, v_f, name) - g_real)


def test_gan_divergence_is_the_minimax_game() -> None:
    """g(v) = log sigmoid v and f*(g(v)) = softplus(v): −F is binary cross-entropy exactly, and JS
    differs from it by the constant log 4 (its g and f* are the GAN's shifted by log 2)."""
    v_r, v_f = t(-1.0, 0.0, 2.5), t(0.4, -3.0)
    assert_close(fgan_discriminator_loss(v_r, v_f, "gan"), minimax_discriminator_loss(v_r, v_f))
    assert_close(fgan_discriminator_loss(v_r, v_f, "jensen_shannon"),
                 minimax_discriminator_loss(v_r, v_f) - math.log(4.0))
    assert_close(fgan_generator_loss(v_f, "gan"), minimax_generator_loss(v_f))
    assert_close(fgan_generator_loss(v_f, "gan", alternative=True), non_saturating_generator_loss(v_f))
