"""The MRGAN regulariser (Che et al. 2017, Section 3.1) against hand computation on tiny tensors, and the direction
of its mode term: a step of E and G on it makes G∘E(x) look *more* real to a fixed D (the literal "+ λ2 log D" of
third-party ports makes it look less real)."""

import math

import pytest
import torch
from torch.testing import assert_close

from lit_gans.losses import (
    least_squares_generator_loss,
    mode_regularized_generator_loss,
    mode_regularizer,
    reconstruction_distance,
)


def test_distances_by_hand() -> None:
    x = torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]], dtype=torch.float64)
    r = torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, -1.0]], dtype=torch.float64)
    assert_close(reconstruction_distance(x, r, "l2"), torch.tensor([1 + 9 + 0, 1 + 1 + 1], dtype=torch.float64))
    assert_close(reconstruction_distance(x, r, "mse"), torch.tensor([10 / 3, 1.0], dtype=torch.float64))
    assert_close(reconstruction_distance(x, r, "l1"), torch.tensor([4.0, 3.0], dtype=torch.float64))
    images = torch.zeros(2, 1, 2, 2)  # image batches: every pixel counts
    assert_close(reconstruction_distance(images, images + 0.5), torch.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="one of"):
        reconstruction_distance(x, r, "l3")
    with pytest.raises(ValueError, match="one shape"):
        reconstruction_distance(x, r[:, :2])


def test_the_regulariser_and_the_generator_objective_by_hand() -> None:
    x = torch.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=torch.float64)
    r = torch.tensor([[0.0, 2.0], [1.0, 1.0]], dtype=torch.float64)
    d_rec = torch.tensor([0.5, -2.0], dtype=torch.float64)  # D's logits of G∘E(x)
    d_fake = torch.tensor([1.0, -1.0], dtype=torch.float64)  # D's logits of G(z)
    l1, l2 = 0.3, 0.7
    dist = torch.tensor([1.0, 5.0], dtype=torch.float64).mean()  # squared L2 per sample, batch mean
    log_d = lambda d: torch.log(1 / (1 + torch.exp(-d)))  # log D = log sigmoid(logit)
    t_e = l1 * dist - l2 * log_d(d_rec).mean()  # the paper's intent: −λ2 log D(G∘E(x)) (module docstring)
    assert_close(mode_regularizer(x, r, d_rec, l1, l2), t_e)
    assert_close(mode_regularized_generator_loss(d_fake, x, r, d_rec, l1, l2), -log_d(d_fake).mean() + t_e)
    assert_close(mode_regularizer(x, r, d_rec, l1, l2, distance="l1"),
                 l1 * torch.tensor([1.0, 3.0], dtype=torch.float64).mean() - l2 * log_d(d_rec).mean())
    # another objective's generator loss as the adversarial term: least squares wants D(G∘E(x)) = 1
    assert_close(mode_regularizer(x, r, d_rec, l1, l2, adversarial=least_squares_generator_loss),
                 l1 * dist + l2 * 0.5 * ((d_rec - 1) ** 2).mean())
    # λ2 = 0: the geometric regulariser alone; λ1 = 0: the mode regulariser alone
    assert_close(mode_regularizer(x, r, d_rec, 1.0, 0.0), dist)
    assert_close(mode_regularizer(x, r, torch.zeros(2, dtype=torch.float64), 0.0, 1.0),
                 torch.tensor(math.log(2), dtype=torch.float64))


def d_of_reconstructions_after_one_step(sign: float) -> tuple[float, float]:
    """Mean D(G∘E(x)) before and after one SGD step of E and G on λ2 · (sign · (−log D(G∘E(x)))), D fixed.
    sign = +1 is our loss, sign = −1 the literal "+ λ2 log D(G∘E(x))"."""
    torch.manual_seed(0)
    e, g, d = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    for p in d.parameters():
        p.requires_grad_(False)
    x = torch.randn(64, 2)
    before = torch.sigmoid(d(g(e(x))).squeeze(1)).mean().item()
    loss = sign * mode_regularizer(x, g(e(x)), d(g(e(x))).squeeze(1), lambda1=0.0, lambda2=1.0)
    loss.backward()
    with torch.no_grad():
        for p in [*e.parameters(), *g.parameters()]:
            p -= 0.1 * p.grad
    after = torch.sigmoid(d(g(e(x))).squeeze(1)).mean().item()
    return before, after


def test_a_step_on_the_mode_term_makes_reconstructions_look_more_real_and_the_literal_sign_less() -> None:
    before, after = d_of_reconstructions_after_one_step(+1.0)
    assert after > before + 1e-3, (before, after)
    before, after = d_of_reconstructions_after_one_step(-1.0)  # what copying "+ λ2 log D" does
    assert after < before - 1e-3, (before, after)


def test_the_regulariser_s_gradient_reaches_e_and_g_and_the_geometric_term_pulls_reconstructions_to_x() -> None:
    torch.manual_seed(1)
    e, g = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    x = torch.randn(32, 2)
    error = lambda: reconstruction_distance(x, g(e(x))).mean().item()
    start = error()
    for _ in range(20):
        loss = mode_regularizer(x, g(e(x)), torch.zeros(32), lambda1=1.0, lambda2=0.0)
        e.zero_grad(), g.zero_grad()
        loss.backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in [*e.parameters(), *g.parameters()])
        with torch.no_grad():
            for p in [*e.parameters(), *g.parameters()]:
                p -= 0.05 * p.grad
    assert error() < 0.5 * start
