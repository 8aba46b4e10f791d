"""The PPGN sampler (lit_gans.ppgn): one step of Eq. 11 against a hand computation on a tiny linear G, R and
classifier; ε = 0 leaves h unchanged; the authors' normalised step and clipping; the class probability rises."""

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lit_gans.metrics.mnist_classifier import ClassifierWeightsError
from lit_gans.ppgn import (
    PRESETS,
    PPGNSettings,
    check_ppgn_model,
    class_log_prob,
    load_condition_network,
    ppgn_chain,
    ppgn_step,
    preset,
    scaled_step_size,
)

D64 = torch.float64
# G: h (2,) -> x = W h viewed as a (1, 1, 3) "image"; classifier: logits = A x (2 classes); R(h) = M h + b
W = torch.tensor([[1.0, 0.5], [-1.0, 2.0], [0.0, 1.0]], dtype=D64)
A = torch.tensor([[1.0, -1.0, 0.5], [0.0, 1.0, -2.0]], dtype=D64)
M = torch.tensor([[0.5, 0.0], [0.1, 0.8]], dtype=D64)
b = torch.tensor([0.2, -0.1], dtype=D64)


def decode(h: torch.Tensor) -> torch.Tensor:
    return (h @ W.T).view(-1, 1, 1, 3)


def classify(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1) @ A.T


def denoise(h: torch.Tensor) -> torch.Tensor:
    return h @ M.T + b


def test_one_step_is_equation_11_by_hand() -> None:
    h = torch.tensor([[0.3, -0.7], [1.0, 0.2]], dtype=D64)
    target = torch.tensor([0, 1])
    noise = torch.tensor([[0.5, -1.0], [2.0, 0.1]], dtype=D64)
    eps1, eps2, eps3 = 0.1, 0.5, 0.01
    new, prob = ppgn_step(h, decode, denoise, classify, target, PPGNSettings(eps1, eps2, eps3, step_size=None),
                          noise=noise)
    for i in range(2):
        logits = A @ (W @ h[i])
        p = torch.softmax(logits, 0)
        onehot = torch.zeros(2, dtype=D64)
        onehot[target[i]] = 1
        # d log softmax(A W h)_c / dh = W^T A^T (e_c - p)
        grad = W.T @ A.T @ (onehot - p)
        expected = h[i] + eps1 * (M @ h[i] + b - h[i]) + eps2 * grad + eps3 * noise[i]
        assert_close(new[i], expected)
        assert_close(prob[i], p[target[i]])


def test_the_authors_condition_gradient_is_one_minus_p_through_the_class_logit() -> None:
    h = torch.tensor([[0.3, -0.7]], dtype=D64, requires_grad=True)
    objective = class_log_prob(classify(decode(h)), torch.tensor([1]), "authors")
    (grad,) = torch.autograd.grad(objective.sum(), h)
    p1 = torch.softmax(A @ (W @ h[0].detach()), 0)[1]
    assert_close(grad[0], (1 - p1) * (W.T @ A[1]))  # (1 - p_c) ∂logit_c/∂h


def test_zero_epsilons_leave_h_unchanged() -> None:
    h = torch.tensor([[0.3, -0.7], [1.0, 0.2]], dtype=D64)
    target = torch.tensor([0, 1])
    for step_size in (None, 1.0):  # the normalised step of a zero update is zero too (no 0/0)
        new, _ = ppgn_step(h, decode, denoise, classify, target, PPGNSettings(0.0, 0.0, 0.0, step_size=step_size))
        assert torch.equal(new, h)
    chain = ppgn_chain(h, decode, denoise, classify, target, PPGNSettings(0.0, 0.0, 0.0, steps=5))
    assert torch.equal(chain.codes, h)


def test_the_authors_step_has_mean_absolute_size_step_size_and_is_clipped_to_the_box() -> None:
    h = torch.tensor([[0.3, -0.7], [1.0, 0.2]], dtype=D64)
    target = torch.tensor([0, 1])
    settings = PPGNSettings(1e-5, 1.0, 1e-17, step_size=0.05)
    new, _ = ppgn_step(h, decode, denoise, classify, target, settings)
    assert_close((new - h).abs().mean(dim=1), torch.full((2,), 0.05, dtype=D64))
    bare, _ = ppgn_step(h, decode, denoise, classify, target, PPGNSettings(1e-5, 1.0, 0.0), noise=torch.zeros_like(h))
    # the same direction as the bare update (ε3 = 1e-17 is negligible)
    assert_close(torch.nn.functional.cosine_similarity(new - h, bare - h), torch.ones(2, dtype=D64))
    clipped, _ = ppgn_step(h, decode, denoise, classify, target, PPGNSettings(0, 100.0, 0), box=(-0.5, 0.5))
    assert clipped.min() >= -0.5 and clipped.max() <= 0.5


def test_the_requested_class_probability_rises_along_the_chain() -> None:
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 9), nn.Tanh(), nn.Unflatten(1, (1, 3, 3)))
    c = nn.Sequential(nn.Flatten(), nn.Linear(9, 5))
    with torch.no_grad():
        c[1].weight.mul_(10)  # confident enough for p(y = c) to reach > 0.5 inside the box
    r = nn.Linear(4, 4)
    h = torch.randn(20, 4)
    target = torch.arange(20) % 5
    chain = ppgn_chain(h, g, r, c, target, PPGNSettings(1e-5, 1.0, 1e-17, steps=30, step_size=0.1), box=(-3, 3),
                       record_every=10)
    assert chain.probs.shape == (31, 20)
    assert (chain.probs[-1] > chain.probs[0]).all()
    assert chain.probs[-1].mean() > 0.5 > chain.probs[0].mean()
    assert chain.frame_steps == [0, 10, 20, 30] and chain.frames[0].shape == (20, 1, 3, 3)
    off = ppgn_chain(h, g, r, c, target, PPGNSettings(1e-5, 0.0, 1e-17, steps=30, step_size=0.1), box=(-3, 3))
    assert off.probs[-1].mean() < chain.probs[-1].mean()  # ε2 = 0: no pull toward the class


def test_the_noise_is_reproducible_with_a_seeded_generator() -> None:
    h = torch.zeros(3, 2, dtype=D64)
    target = torch.tensor([0, 1, 0])
    settings = PPGNSettings(0.0, 0.0, 0.3, steps=4)
    runs = [ppgn_chain(h, decode, denoise, classify, target, settings, generator=torch.Generator().manual_seed(1)).codes
            for _ in range(2)]
    assert torch.equal(runs[0], runs[1]) and runs[0].abs().sum() > 0


def test_presets_and_scaling_rule() -> None:
    p = PRESETS["noiseless_joint_ppgn_h"]
    assert (p.eps1, p.eps2, p.eps3, p.steps, p.step_size) == (1e-5, 1.0, 1e-17, 200, 1.0)  # the authors' sampler script
    assert preset("joint_ppgn_h", steps=50, eps1=None).steps == 50
    assert math.isclose(scaled_step_size(1.0, (-1.0, 1.0)), 2 / 30)  # fc6 in [0, 30] -> U[-1, 1] codes
    assert math.isclose(scaled_step_size(1.0, (0.0, 30.0)), 1.0)
    with pytest.raises(ValueError, match="Unknown PPGN preset 'nope'"):
        preset("nope")
    with pytest.raises(ValueError, match="condition must be one of"):
        PPGNSettings(1e-5, 1, 0, condition="softmax")
    with pytest.raises(ValueError, match=">= 0"):
        PPGNSettings(-1, 1, 0)


def test_clear_errors_for_a_missing_classifier_a_wrong_image_size_and_a_plain_generator(tmp_path) -> None:
    with pytest.raises(ClassifierWeightsError, match="not found.*train_classifier"):
        load_condition_network(str(tmp_path / "missing.pt"), (1, 28, 28))
    with pytest.raises(ValueError, match=r"reads \(1, 28, 28\) digits"):
        load_condition_network(None, (3, 32, 32))
    with pytest.raises(ValueError, match="model=ppgn_dae model.generator_ckpt="):
        check_ppgn_model(nn.Linear(2, 2))
