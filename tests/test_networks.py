"""Networks: shapes for every supported size, clear errors for unsupported ones."""

import pytest
import torch

from lit_gans.networks import (
    DCGANDiscriminator,
    DCGANGenerator,
    InfoGANDiscriminator,
    InfoGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    has_batch_norm,
)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes(size: int, channels: int) -> None:
    g, d = DCGANGenerator(16, (channels, size, size), base_channels=8), DCGANDiscriminator((channels, size, size), 8)
    x = g(torch.randn(5, 16))
    assert x.shape == (5, channels, size, size)
    assert x.abs().max() <= 1  # Tanh output, images live in [-1, 1]
    assert d(x).shape == (5,)


@pytest.mark.parametrize("shape", [(1, 30, 30), (3, 32, 28), (2,)])
def test_dcgan_refuses_unsupported_shapes_with_the_fix(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"data.image_size.*net/generator@model.generator=mlp"):
        DCGANGenerator(16, shape)
    with pytest.raises(ValueError, match="net/discriminator@model.discriminator=mlp"):
        DCGANDiscriminator(shape)


@pytest.mark.parametrize("norm, has_bn", [("batch", True), ("layer", False), ("none", False)])
def test_dcgan_discriminator_norms(norm: str, has_bn: bool) -> None:
    assert has_batch_norm(DCGANDiscriminator((1, 28, 28), 8, norm=norm)) is has_bn


def test_mlp_gan_of_the_lecture_has_its_layer_sizes() -> None:
    g = MLPGenerator(100, (1, 28, 28))  # 100 -> 1200 -> 1200 -> 784
    sizes = [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, torch.nn.Linear)]
    assert sizes == [(100, 1200), (1200, 1200), (1200, 784)]
    d = MLPDiscriminator((1, 28, 28), hidden=(240, 240), activation="maxout", maxout_pieces=5, dropout=0.5)
    out = d(g(torch.rand(4, 100) * 2 - 1))
    assert out.shape == (4,)


def test_maxout_takes_the_max_over_pieces() -> None:
    from lit_gans.networks import Maxout

    m = Maxout(1, 1, pieces=3)
    with torch.no_grad():
        m.linear.weight.copy_(torch.tensor([[1.0], [-1.0], [0.0]]))
        m.linear.bias.zero_()
    x = torch.tensor([[2.0], [-3.0]])
    torch.testing.assert_close(m(x), torch.tensor([[2.0], [3.0]]))


def test_infogan_mnist_networks_shapes_and_shared_features() -> None:
    g, d = InfoGANGenerator(74, (1, 28, 28)), InfoGANDiscriminator((1, 28, 28))
    x = g(torch.randn(3, 74))
    assert x.shape == (3, 1, 28, 28) and x.abs().max() <= 1
    features, score = d.features_and_score(x)
    assert features.shape == (3, 1024) and torch.equal(score, d(x))
    with pytest.raises(ValueError, match="net/generator@model.generator=dcgan"):
        InfoGANGenerator(74, (3, 32, 32))


@pytest.mark.parametrize("make", ["dcgan", "mlp"])
def test_discriminator_features_feed_the_score(make: str) -> None:
    d = DCGANDiscriminator((1, 28, 28)) if make == "dcgan" else MLPDiscriminator((1, 28, 28), hidden=[32])
    d.eval()
    x = torch.randn(4, 1, 28, 28)
    features, score = d.features_and_score(x)
    assert features.shape == (4, d.feature_dim)
    torch.testing.assert_close(score, d(x))


def test_orthogonal_init_gives_scaled_orthonormal_weights_and_zero_biases() -> None:
    g = MLPGenerator(256, (2,), hidden=(128, 128), output_activation="none", init="orthogonal", init_gain=0.8)
    d = MLPDiscriminator((2,), hidden=(128,), activation="relu", init="orthogonal", init_gain=0.8)
    for m in [*g.modules(), *d.modules()]:
        if isinstance(m, torch.nn.Linear):
            w = m.weight.detach().double()
            small = min(w.shape)
            gram = w @ w.T if w.shape[0] == small else w.T @ w  # the orthonormal side
            torch.testing.assert_close(gram, 0.64 * torch.eye(small, dtype=torch.float64), atol=1e-5, rtol=0)
            assert not m.bias.any()
    with pytest.raises(ValueError, match="Unknown init 'xavier'.*orthogonal"):
        MLPGenerator(4, (2,), hidden=(8,), init="xavier")


def test_discriminator_input_scale_multiplies_the_input_first() -> None:
    torch.manual_seed(0)
    scaled = MLPDiscriminator((2,), hidden=(16,), activation="relu", input_scale=0.25)
    plain = MLPDiscriminator((2,), hidden=(16,), activation="relu")
    plain.load_state_dict(scaled.state_dict())  # no new parameters or buffers
    x = torch.randn(5, 2)
    torch.testing.assert_close(scaled(x), plain(x / 4))
    h_scaled, s_scaled = scaled.features_and_score(x)
    h_plain, s_plain = plain.features_and_score(x / 4)
    torch.testing.assert_close(h_scaled, h_plain)
    torch.testing.assert_close(s_scaled, s_plain)


def test_infogan_unit_pixel_range_is_the_authors_sigmoid_generator_and_unit_input_discriminator() -> None:
    # openai/InfoGAN: G's last layer is the mean of a Bernoulli (sigmoid), D reads [0, 1]; we show 2p − 1
    torch.manual_seed(0)
    g_sym, d_sym = InfoGANGenerator(74, (1, 28, 28)), InfoGANDiscriminator((1, 28, 28))
    g_unit = InfoGANGenerator(74, (1, 28, 28), pixel_range="unit")
    d_unit = InfoGANDiscriminator((1, 28, 28), pixel_range="unit")
    g_unit.load_state_dict(g_sym.state_dict())
    d_unit.load_state_dict(d_sym.state_dict())
    z = torch.randn(4, 74)
    logits = g_sym.conv(g_sym.fc(z).view(-1, 128, 7, 7))
    torch.testing.assert_close(g_sym(z), torch.tanh(logits))
    torch.testing.assert_close(g_unit(z), 2 * torch.sigmoid(logits) - 1)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    torch.testing.assert_close(d_unit.features_and_score(x)[1], d_sym((x + 1) / 2))
    with pytest.raises(ValueError, match="pixel_range must be one of"):
        InfoGANGenerator(74, (1, 28, 28), pixel_range="0-1")


def test_infogan_minibatch_discrimination_changes_the_score_not_the_features_q_reads() -> None:
    torch.manual_seed(0)
    plain = InfoGANDiscriminator((1, 28, 28))
    batched = InfoGANDiscriminator((1, 28, 28), minibatch_kernels=8, minibatch_kernel_dim=3)
    batched.body.load_state_dict(plain.body.state_dict())
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    f_plain, _ = plain.features_and_score(x)
    f_batched, score = batched.features_and_score(x)
    torch.testing.assert_close(f_batched, f_plain)  # Q's input is untouched
    mbd, linear = batched.head
    torch.testing.assert_close(score, linear(mbd(f_batched)).squeeze(1))
    assert linear.in_features == 1024 + 8
    # the score of a sample depends on the rest of its batch (in eval mode, so BN does not)
    batched.eval()
    alone = batched(x[:1])
    with_copies = batched(x[:1].expand(6, -1, -1, -1))[:1]
    assert not torch.allclose(alone, with_copies)
