"""Improved-GAN layers (Salimans et al. 2016): minibatch discrimination, virtual batch norm, and
the MLP discriminator's minibatch option."""

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn
from torch.testing import assert_close

from lit_gans.networks.improved import MinibatchDiscrimination, VirtualBatchNorm, reference_pass
from lit_gans.networks.dcgan import DCGANDiscriminator
from lit_gans.networks.mlp import MLPDiscriminator

# ---------------------------------------------------------------- minibatch discrimination


def test_minibatch_output_is_features_then_kernels() -> None:
    layer = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3)
    x = torch.randn(5, 6)
    y = layer(x)
    assert y.shape == (5, 10) and layer.out_features == 10 and layer.T.shape == (6, 4, 3)
    assert_close(y[:, :6], x)  # f(x) passes through untouched


def test_identical_samples_give_the_batch_size_and_distant_ones_give_one() -> None:
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(4, num_kernels=7, kernel_dim=5)
    same = torch.randn(1, 4).expand(9, 4)
    assert torch.equal(layer(same)[:, 4:], torch.full((9, 7), 9.0))  # Σ_j exp(0), j = i included
    far = torch.randn(9, 4) * 1e4  # every ‖M_i − M_j‖_1 huge: only the self term is left
    assert_close(layer(far)[:, 4:], torch.ones(9, 7))


def test_minibatch_features_by_hand() -> None:
    # A = 2, B = 2, C = 2; kernel 0: M = x (L1 distances 1, 2, 3 — L2 would give √5 for the last);
    # kernel 1: M = (2 x_1, 0) (distances 2, 0, 2)
    layer = MinibatchDiscrimination(2, num_kernels=2, kernel_dim=2)
    with torch.no_grad():
        layer.T.copy_(torch.tensor([[[1.0, 0.0], [2.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]]))  # T[a, b, c]
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    e = math.exp
    expected = torch.tensor([
        [1 + e(-1) + e(-2), 1 + e(-2) + 1],
        [e(-1) + 1 + e(-3), e(-2) + 1 + e(-2)],
        [e(-2) + e(-3) + 1, 1 + e(-2) + 1],
    ])
    assert_close(layer(x)[:, 2:], expected)


def test_gradients_reach_the_tensor_and_the_input() -> None:
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(3, num_kernels=4, kernel_dim=2, init_std=0.5)
    x = torch.randn(6, 3, requires_grad=True)
    layer(x)[:, 3:].sum().backward()
    assert layer.T.grad is not None and layer.T.grad.abs().sum() > 0
    assert x.grad is not None and x.grad.abs().sum() > 0


# ---------------------------------------------------------------- virtual batch norm


def vbn_by_concatenation(r: torch.Tensor, x: torch.Tensor, vbn: VirtualBatchNorm) -> torch.Tensor:
    """Each x_i batch-normalised together with the reference batch: the last row of BN([R; x_i])."""
    rows = [F.batch_norm(torch.cat([r, xi[None]]), None, None, vbn.weight, vbn.bias, training=True,
                         eps=vbn.eps)[-1] for xi in x]
    return torch.stack(rows)


@pytest.mark.parametrize("shape", [(3,), (3, 4, 5)])
def test_vbn_is_batch_norm_over_the_reference_batch_plus_the_example(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(3)
    with torch.no_grad():
        vbn.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
        vbn.bias.copy_(torch.tensor([0.1, -0.3, 1.0]))
    r, x = torch.randn(6, *shape) * 2 + 1, torch.randn(4, *shape)
    assert_close(vbn(x, reference=r), vbn_by_concatenation(r, x, vbn))
    # the reference batch is normalised with its own statistics, as batch norm
    with reference_pass(vbn):
        assert_close(vbn(r), F.batch_norm(r, None, None, vbn.weight, vbn.bias, training=True, eps=vbn.eps))
    assert_close(vbn(x), vbn_by_concatenation(r, x, vbn))  # the stored statistics stay in use


def test_vbn_by_hand_for_one_feature() -> None:
    vbn = VirtualBatchNorm(1, eps=0.0)
    r, x = torch.tensor([[0.0], [2.0]]), torch.tensor([[4.0]])
    # μ = (4 + 2·1) / 3 = 2, E[x²] = (16 + 2·2) / 3 = 20/3, var = 20/3 − 4 = 8/3
    assert_close(vbn(x, reference=r), torch.tensor([[2.0 / math.sqrt(8.0 / 3.0)]]))


def test_vbn_output_of_an_example_does_not_depend_on_its_batch() -> None:
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(3)
    vbn.set_reference(torch.randn(8, 3, 4, 4))
    x = torch.randn(5, 3, 4, 4)
    alone, together = vbn(x[:1]), vbn(x)
    assert_close(together[:1], alone)
    other = torch.cat([x[:1], 10 * torch.randn(4, 3, 4, 4) + 5])  # very different batch mates
    assert_close(vbn(other)[:1], alone)
    bn = F.batch_norm(x, None, None, training=True)  # ordinary batch norm does depend on them
    assert not torch.allclose(bn[:1], F.batch_norm(other, None, None, training=True)[:1])


def test_vbn_gradients_reach_gamma_beta_and_the_reference_batch() -> None:
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(3)
    r, x = torch.randn(6, 3, requires_grad=True), torch.randn(4, 3)
    (vbn(x, reference=r) * torch.randn(4, 3)).sum().backward()
    for g in (vbn.weight.grad, vbn.bias.grad, r.grad):
        assert g is not None and g.abs().sum() > 0


def test_reference_pass_sets_every_vbn_layer_of_a_network() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), VirtualBatchNorm(3), nn.ReLU(), nn.Linear(3, 4), VirtualBatchNorm(4))
    with pytest.raises(RuntimeError, match="reference"):
        net(torch.randn(2, 2))
    z_ref, z = torch.randn(8, 2), torch.randn(5, 2)
    with reference_pass(net):
        net(z_ref)
    assert not any(m.reference_mode for m in net.modules() if isinstance(m, VirtualBatchNorm))
    # the first VBN saw the reference batch through the current first Linear
    h_ref, h = net[0](z_ref), net[0](z)
    assert_close(net[1](h), vbn_by_concatenation(h_ref, h, net[1]))
    # and the second one the reference batch's activations after the first VBN (reference-normalised)
    h2_ref = net[3](net[2](F.batch_norm(h_ref, None, None, net[1].weight, net[1].bias, training=True, eps=1e-5)))
    h2 = net[3](net[2](net[1](h)))
    assert_close(net(z), vbn_by_concatenation(h2_ref, h2, net[4]))


# ---------------------------------------------------------------- MLP discriminator option


def old_mlp_discriminator(out_features: int) -> nn.Sequential:
    """The MLPDiscriminator((2,), hidden=(16, 8)) of before the option, layer for layer."""
    return nn.Sequential(nn.Flatten(), nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 8), nn.LeakyReLU(0.2),
                         nn.Linear(8, out_features))


@pytest.mark.parametrize("out_features", [1, 3])
def test_minibatch_off_keeps_the_discriminator_as_before(out_features: int) -> None:
    torch.manual_seed(0)
    d = MLPDiscriminator((2,), hidden=(16, 8), out_features=out_features, minibatch_kernel_dim=7)
    torch.manual_seed(0)
    old = old_mlp_discriminator(out_features)
    assert list(d.net.state_dict()) == list(old.state_dict())  # same keys, same order
    for a, b in zip(d.net.state_dict().values(), old.state_dict().values()):
        assert torch.equal(a, b)  # same initial values: no extra random draws either
    x = torch.randn(5, 2)
    expected = old(x).squeeze(1) if out_features == 1 else old(x)
    assert torch.equal(d(x), expected)
    features, score = d.features_and_score(x)
    assert torch.equal(features, old[:-1](x)) and torch.equal(score, expected) and d.feature_dim == 8


def test_minibatch_on_tells_a_collapsed_batch_from_a_diverse_one() -> None:
    torch.manual_seed(0)
    d = MLPDiscriminator((2,), hidden=(16, 8), minibatch_kernels=5, minibatch_kernel_dim=3)
    mbd = d.net[-2]
    assert isinstance(mbd, MinibatchDiscrimination) and (mbd.num_kernels, mbd.kernel_dim) == (5, 3)
    assert d.net[-1].in_features == 8 + 5 and d.feature_dim == 8
    x0 = torch.randn(1, 2)
    collapsed, diverse = x0.expand(8, 2), torch.cat([x0, torch.randn(7, 2) * 3])
    assert d(collapsed).shape == (8,)
    assert not torch.allclose(d(collapsed)[0], d(diverse)[0])  # same x0, different batch mates
    features, score = d.features_and_score(diverse)
    assert features.shape == (8, 8) and torch.equal(score, d(diverse))
    torch.manual_seed(0)
    plain = MLPDiscriminator((2,), hidden=(16, 8))
    assert torch.equal(plain(collapsed)[0], plain(diverse)[0])  # without it D sees samples alone


def test_mlp_minibatch_config_builds_a_toy_gan(compose_cfg: Callable[..., DictConfig]) -> None:
    cfg = compose_cfg("model=gan", "data=ring8", "net/discriminator@model.discriminator=mlp_minibatch")
    model = instantiate(cfg.model, _recursive_=False)
    assert any(isinstance(m, MinibatchDiscrimination) for m in model.discriminator.modules())
    fake = model.sample_fake(4)
    scores = model.d_scores(fake)
    assert scores.shape == (4,)
    scores.sum().backward()  # D's gradient goes through the minibatch layer
    assert model.discriminator.net[-2].T.grad is not None


def test_dcgan_discriminator_with_minibatch_discrimination_scores_against_the_batch() -> None:
    plain = DCGANDiscriminator((3, 28, 28), base_channels=8, norm="none")
    d = DCGANDiscriminator((3, 28, 28), base_channels=8, norm="none", minibatch_kernels=7, minibatch_kernel_dim=3)
    assert [k for k in plain.state_dict() if k.startswith("net.4")] == ["net.4.weight", "net.4.bias"]  # keys kept
    mbd = d.net[-2]
    assert isinstance(mbd, MinibatchDiscrimination) and mbd.in_features == d.feature_dim == 16 * 7 * 7
    x = torch.randn(4, 3, 28, 28)
    scores = d(x)
    features, again = d.features_and_score(x)
    assert scores.shape == (4,) and features.shape == (4, d.feature_dim)
    assert_close(again, scores)
    assert_close(scores, d.net[-1](mbd(features)).flatten())
    y = x.clone()
    y[1:] = torch.randn(3, 3, 28, 28)
    assert not torch.allclose(d(y)[0], scores[0])  # sample 0 unchanged, its batch changed: its score moved
    assert torch.equal(plain(y)[0], plain(x)[0])  # without the layer it would not
