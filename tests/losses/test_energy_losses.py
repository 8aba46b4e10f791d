"""EBGAN and BEGAN losses: hand-computed values, sign conventions, the per-sample margin, the
pulling-away term and BEGAN's k_t controller."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from helpers import t
from lit_gans.losses.energy import (
    began_convergence,
    began_discriminator_loss,
    began_generator_loss,
    began_k_update,
    energy_generator_loss,
    energy_margin_discriminator_loss,
    pulling_away_term,
    reconstruction_energy,
)


# ----- the energy ---------------------------------------------------------------------------------
def test_reconstruction_energy_is_a_per_sample_mean_error() -> None:
    x = torch.zeros(2, 1, 2, 2, dtype=torch.float64)
    recon = t(1.0, -1.0, 2.0, 0.0, 0.5, 0.5, 0.5, -0.5).view(2, 1, 2, 2)
    assert_close(reconstruction_energy(x, recon), t((1 + 1 + 4 + 0) / 4, 4 * 0.25 / 4))  # squared errors
    assert_close(reconstruction_energy(x, recon, "l1"), t((1 + 1 + 2 + 0) / 4, 0.5))  # absolute errors
    assert_close(reconstruction_energy(recon, recon), t(0.0, 0.0))  # a perfect reconstruction: zero energy
    with pytest.raises(ValueError, match="l2"):
        reconstruction_energy(x, recon, "l3")
    with pytest.raises(ValueError, match="shape"):
        reconstruction_energy(x, recon.flatten(1))


# ----- EBGAN --------------------------------------------------------------------------------------
def test_energy_margin_losses_match_the_papers_equations() -> None:
    e_real, e_fake, m = t(0.5, 1.5), t(3.0, 0.5), 2.0
    # L_D = mean D(x) + mean [m − D(G(z))]⁺ = 1 + mean(0, 1.5)
    assert_close(energy_margin_discriminator_loss(e_real, e_fake, margin=m), t(1.0 + 0.75)[0])
    assert_close(energy_generator_loss(e_fake), t(1.75)[0])  # L_G = mean D(G(z))


def test_the_margin_is_applied_per_sample_not_to_the_batch_mean() -> None:
    e_real, e_fake, m = t(0.0, 0.0), t(0.0, 4.0), 2.0
    per_sample = 0.5 * (max(m - 0.0, 0) + max(m - 4.0, 0))  # = 1: the fake at 0 still costs D
    batch_mean = max(m - e_fake.mean().item(), 0)  # = 0: the fake at 4 would hide it
    assert per_sample != batch_mean
    assert_close(energy_margin_discriminator_loss(e_real, e_fake, margin=m), t(per_sample)[0])


def test_a_better_discriminator_lowers_its_energy_loss_and_fakes_beyond_the_margin_are_ignored() -> None:
    m = 1.0
    # better: real data reconstructed well (low energy), fakes badly (high energy)
    assert energy_margin_discriminator_loss(t(0.1), t(0.9), m) < energy_margin_discriminator_loss(t(0.5), t(0.5), m)
    # G is better off with lower energies on its samples
    assert energy_generator_loss(t(0.1)) < energy_generator_loss(t(0.5))
    e_fake = torch.tensor([0.5, 3.0], requires_grad=True)
    (grad,) = torch.autograd.grad(energy_margin_discriminator_loss(torch.zeros(2), e_fake, m), e_fake)
    assert_close(grad, torch.tensor([-0.5, 0.0]))  # D raises the first fake's energy, leaves the second alone
    (grad,) = torch.autograd.grad(energy_generator_loss(e_fake), e_fake)
    assert_close(grad, torch.tensor([0.5, 0.5]))  # G lowers every fake's energy, margin or not


def test_pulling_away_term_on_three_hand_made_codes() -> None:
    s = t(1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0).view(3, 3)
    # cos² between rows: (1, 2) = 1/2, (1, 3) = 1/3, (2, 3) = (2/√6)² = 2/3; every unordered pair
    # counts twice in Σ_i Σ_{j≠i}, and N(N−1) = 6
    assert_close(pulling_away_term(s), t(2 * (1 / 2 + 1 / 3 + 2 / 3) / 6)[0])
    # only directions matter: rescaling each code leaves the term unchanged
    assert_close(pulling_away_term(s * t(3.0, 0.1, 7.0)[:, None]), t(0.5)[0])
    # squared, not signed: opposite codes are as "similar" as equal ones (an unsquared version gives −1/3)
    opposite = t(1.0, 0.0, -1.0, 0.0, 2.0, 0.0).view(3, 2)
    assert_close(pulling_away_term(opposite), t(1.0)[0])


def test_pulling_away_term_normalises_each_code_not_the_batch() -> None:
    s = t(3.0, 0.0, 1.0, 1.0, 0.0, 2.0).view(3, 2)
    unit = s / s.norm(dim=1, keepdim=True)
    cos2 = (unit @ unit.T) ** 2
    expected = (cos2.sum() - cos2.diagonal().sum()) / 6
    assert_close(pulling_away_term(s), expected)
    wrong = F.normalize(s, dim=0)  # normalised over the batch dimension: another number
    wrong_value = ((wrong @ wrong.T) ** 2).sum() / 6
    assert not torch.isclose(wrong_value, expected)


def test_pulling_away_term_is_zero_for_orthogonal_codes_and_reaches_the_codes() -> None:
    assert_close(pulling_away_term(torch.eye(4, dtype=torch.float64)), t(0.0)[0])
    q, _ = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    assert_close(pulling_away_term(q.T * 4.0), t(0.0)[0])  # any orthogonal set, any scale
    assert_close(pulling_away_term(t(1.0, 2.0).view(1, 2)), t(0.0)[0])  # one sample: no pairs
    codes = torch.tensor([[1.0, 0.2], [1.0, -0.1], [0.9, 0.0]], requires_grad=True)
    (grad,) = torch.autograd.grad(pulling_away_term(codes), codes)
    assert grad.abs().sum() > 0  # G gets a gradient through the encoder's codes


# ----- BEGAN --------------------------------------------------------------------------------------
def test_began_losses_match_the_papers_equations() -> None:
    l_real, l_fake = t(1.0, 3.0), t(2.0, 4.0)
    assert_close(began_discriminator_loss(l_real, l_fake, k=0.5), t(2.0 - 0.5 * 3.0)[0])  # L(x) − k_t L(G(z_D))
    assert_close(began_discriminator_loss(l_real, l_fake, k=0.0), t(2.0)[0])  # k_0 = 0: reconstruct real data only
    assert_close(began_generator_loss(l_fake), t(3.0)[0])
    # M_global = L(x) + |γ L(x) − L(G(z_G))| = 2 + |0.5·2 − 3|
    assert_close(began_convergence(l_real, l_fake, gamma=0.5), t(4.0)[0])
    with pytest.raises(ValueError, match="model=began"):
        began_discriminator_loss(l_real, l_fake)  # k_t is the model's state; a plain GAN cannot supply it


def test_a_better_began_discriminator_lowers_its_loss_and_k_is_not_differentiated() -> None:
    k = 0.5
    assert began_discriminator_loss(t(0.1), t(0.9), k) < began_discriminator_loss(t(0.5), t(0.5), k)
    assert began_generator_loss(t(0.1)) < began_generator_loss(t(0.5))
    k_param = torch.tensor(0.5, requires_grad=True)
    l_fake = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = began_discriminator_loss(torch.tensor([0.5, 0.5]), l_fake, k_param)
    grad_k, grad_fake = torch.autograd.grad(loss, (k_param, l_fake), allow_unused=True)
    assert grad_k is None  # k_t is a controller, not a parameter
    assert_close(grad_fake, torch.tensor([-0.25, -0.25]))  # D raises the fakes' error, weighted by k_t


def test_k_update_matches_the_formula() -> None:
    l_real, l_fake = t(0.8, 1.2), t(0.3, 0.5)  # means 1.0 and 0.4
    # k + λ_k (γ L(x) − L(G(z))) = 0.2 + 0.01 · (0.7 − 0.4)
    assert_close(began_k_update(0.2, l_real, l_fake, gamma=0.7, lambda_k=0.01), t(0.203)[0])
    # fakes reconstructed worse than γ L(x): k decreases
    assert_close(began_k_update(0.2, l_real, t(0.9), gamma=0.5, lambda_k=0.1), t(0.2 + 0.1 * (0.5 - 0.9))[0])
    # at the equilibrium γ L(x) = L(G(z)): unchanged
    assert began_k_update(0.2, l_real, t(0.5), gamma=0.5, lambda_k=0.1) == pytest.approx(0.2)


def test_k_update_is_clamped_to_zero_and_one() -> None:
    # would go to 0.01 + 1·(0.5·1 − 3) = −2.49: clamped at 0
    assert began_k_update(0.01, t(1.0), t(3.0), gamma=0.5, lambda_k=1.0).item() == 0.0
    # would go to 0.99 + 1·(1·2 − 0) = 2.99: clamped at 1
    assert began_k_update(0.99, t(2.0), t(0.0), gamma=1.0, lambda_k=1.0).item() == 1.0
    ks = [0.0]
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):  # random losses (zero-mean steps) and a large gain: k hits both bounds, never leaves them
        l_real, l_fake = torch.rand(4, generator=gen) * 2, torch.rand(4, generator=gen) * 2
        ks.append(began_k_update(ks[-1], l_real, l_fake, gamma=1.0, lambda_k=1.0).item())
    assert min(ks) == 0.0 and max(ks) == 1.0 and all(0.0 <= k <= 1.0 for k in ks)
    assert any(0.0 < k < 1.0 for k in ks)


def test_k_update_keeps_small_steps_under_mixed_precision() -> None:
    # 0.03 + 0.001 · (0.5 · 1 − 0.4375): a step of 6.25e-5, below bfloat16's spacing near 0.03 (1.2e-4)
    k = began_k_update(torch.tensor(0.03), torch.tensor([1.0], dtype=torch.bfloat16),
                       torch.tensor([0.4375], dtype=torch.bfloat16), gamma=0.5, lambda_k=0.001)
    assert k.dtype == torch.float32
    assert_close(k, torch.tensor(0.03 + 6.25e-5))


def test_k_update_ignores_gradients() -> None:
    l_real = torch.tensor([1.0], requires_grad=True)
    k = began_k_update(torch.tensor(0.5), l_real, torch.tensor([0.2]), gamma=0.5, lambda_k=0.1)
    assert not k.requires_grad
    assert math.isclose(k.item(), 0.5 + 0.1 * (0.5 - 0.2), rel_tol=1e-6)
