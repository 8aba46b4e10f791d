"""Virtual batch norm wired into a generator: BatchNorm swapped, outputs independent of the batch,
gradients through the reference pass, the reference batch saved with the weights, a run through train()."""

import pytest
import torch
from helpers import needs_mnist
from torch import nn
from torch.testing import assert_close

from lit_gans.networks import DCGANGenerator, MLPGenerator, VirtualBatchNorm, VirtualBatchNormGenerator


def vbn_mlp(seed: int = 0) -> VirtualBatchNormGenerator:
    torch.manual_seed(seed)
    return VirtualBatchNormGenerator(MLPGenerator(4, [3], hidden=[16, 16], batch_norm=True), reference_size=32)


def test_batch_norm_layers_become_vbn_layers_of_the_same_width() -> None:
    g = VirtualBatchNormGenerator(DCGANGenerator(8, [1, 28, 28], base_channels=8), reference_size=16)
    vbn = [m for m in g.modules() if isinstance(m, VirtualBatchNorm)]
    assert g.num_vbn_layers == len(vbn) == 2 and not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in g.modules())
    assert sorted(m.num_features for m in vbn) == [8, 16]
    assert g(torch.randn(5, 8)).shape == (5, 1, 28, 28) and g.latent_dim == 8


def test_a_sample_does_not_depend_on_the_rest_of_its_batch() -> None:
    g = vbn_mlp()
    z0 = torch.randn(1, 4)
    a = g(torch.cat([z0, torch.randn(7, 4)]))[0]
    b = g(torch.cat([z0, 5 * torch.randn(3, 4) + 2]))[0]
    assert_close(a, b)
    plain = MLPGenerator(4, [3], hidden=[16, 16], batch_norm=True)  # ordinary BatchNorm: it does depend
    assert not torch.allclose(plain(torch.cat([z0, torch.randn(7, 4)]))[0], plain(torch.cat([z0, 5 * torch.randn(3, 4) + 2]))[0])


def test_the_reference_batch_is_normalised_by_its_own_statistics_at_each_layer() -> None:
    g = vbn_mlp()
    first_vbn = g.inner.net[1]
    pre = g.inner.net[0](g.z_ref)  # (N, 16): the first VBN layer's input on the reference batch
    g(torch.randn(2, 4))
    assert_close(first_vbn.ref_mean, pre.mean(0))
    assert_close(first_vbn.ref_meansq, (pre * pre).mean(0))


def test_gradients_flow_through_the_reference_pass_too() -> None:
    g = vbn_mlp()
    z = torch.randn(1, 4)
    g(z).sum().backward()
    with_ref = g.inner.net[0].weight.grad.clone()
    # a single sample with frozen reference statistics would give a different gradient
    g.zero_grad()
    g(z)  # statistics of the current parameters
    layers = [m for m in g.modules() if isinstance(m, VirtualBatchNorm)]
    for m in layers:
        m.ref_mean, m.ref_meansq = m.ref_mean.detach(), m.ref_meansq.detach()
    g.inner(z).sum().backward()
    assert not torch.allclose(with_ref, g.inner.net[0].weight.grad)


def test_reference_batch_is_seeded_and_saved() -> None:
    a, b = vbn_mlp(0), vbn_mlp(1)
    assert torch.equal(a.z_ref, b.z_ref)  # the seed argument, not the global RNG, draws it
    assert "z_ref" in a.state_dict()
    b.load_state_dict(a.state_dict())
    z = torch.randn(3, 4)
    assert_close(a(z), b(z))


def test_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="no BatchNorm layer"):
        VirtualBatchNormGenerator(MLPGenerator(4, [3], hidden=[8], batch_norm=False))
    with pytest.raises(ValueError, match="reference_size"):
        VirtualBatchNormGenerator(MLPGenerator(4, [3], hidden=[8], batch_norm=True), reference_size=1)


@needs_mnist  # the default data is MNIST
def test_dcgan_vbn_config_trains(compose_cfg, one_thread) -> None:
    from lit_gans.training import train

    cfg = compose_cfg("net/generator@model.generator=dcgan_vbn", "model.generator.generator.base_channels=8",
                      "model.discriminator.base_channels=8", "trainer.fast_dev_run=2", "batch_size=8")
    metrics, objects = train(cfg)
    assert isinstance(objects["model"].generator, VirtualBatchNormGenerator)
    assert torch.isfinite(torch.tensor(metrics["train/g_loss"]))
