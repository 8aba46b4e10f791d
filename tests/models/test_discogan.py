"""DiscoGAN's options from the authors' code (feature matching, the reconstruction-rate curriculum, [0, 1] images with a
sigmoid output) and the paper's toy architectures (recongan, gan): loss values by hand, which networks move, refusals."""

import pytest
import torch
from helpers import t
from models.test_cyclegan import NS, PATCH, RESNET, Times, by_hand, cyclegan, discriminators, fit, generators
from torch import Tensor, nn
from torch.testing import assert_close

from lit_gans.losses.translation import feature_matching_loss
from lit_gans.models import DiscoGAN
from lit_gans.models.steps import BatchState
from lit_gans.data import Unpaired

softplus = torch.nn.functional.softplus
DISCO_G = {"_target_": "lit_gans.networks.DiscoGANGenerator", "in_shape": [3, 16, 16], "ngf": 4, "output_activation": "tanh"}
DISCO_D = {"_target_": "lit_gans.networks.DiscoGANDiscriminator", "in_channels": None, "in_size": None, "ndf": 4}


class TimesWithFeatures(Times):
    """x -> k·x, and one 'layer' of features: [k·x]."""

    def features(self, x: Tensor) -> list[Tensor]:
        return [self.k * x]


def disco(**kwargs: object) -> DiscoGAN:
    return cyclegan(DiscoGAN, loss=NS, **kwargs)


def test_feature_matching_loss_by_hand_sums_layers_of_squared_batch_mean_differences() -> None:
    real = [t(1.0, 3.0, 2.0, 2.0).view(2, 2), t(0.0, 2.0).view(2, 1)]  # batch means (1.5, 2.5) and (1)
    fake = [t(0.0, 0.0, 1.0, 0.0).view(2, 2), t(1.0, 1.0).view(2, 1)]  # batch means (0.5, 0) and (1)
    assert_close(feature_matching_loss(real, fake), t((1.0**2 + 2.5**2) / 2 + 0.0)[0])
    with pytest.raises(ValueError, match="same, non-empty"):
        feature_matching_loss(real, fake[:1])


def test_fm_weight_mixes_gan_and_feature_matching_per_direction_by_hand() -> None:
    model = disco(fm_weight=0.9, discriminator=DISCO_D)
    state = by_hand(model)  # G(x) = x/2, F(x) = −x, D_B = 1·x, D_A = 2·x
    model.discriminator, model.discriminator_a = TimesWithFeatures(1.0), TimesWithFeatures(2.0)
    g_loss, logs = model.generator_step(state)
    a, b = state.real.a, state.real.b
    # FM_B: mean((b − a/2)²) = (.75² + 1² + .5² + .5²)/4; FM_A: mean((2a − 2(−b))²) = (3² + 1 + 1 + 2²)/4
    assert_close(logs["train/fm_ab"], t(0.515625)[0])
    assert_close(logs["train/fm_ba"], t(3.75)[0])
    gan_ab, gan_ba = softplus(-0.5 * a).mean(), softplus(2 * b).mean()
    assert_close(logs["train/g_adversarial_ab"], 0.1 * gan_ab + 0.9 * 0.515625)
    assert_close(logs["train/g_adversarial_ba"], 0.1 * gan_ba + 0.9 * 3.75)
    reconstruction = t(2.25 * (0.5625 + 0.375))[0]  # as without FM (test_cyclegan's DiscoGAN terms)
    assert_close(g_loss, 0.1 * (gan_ab + gan_ba) + 0.9 * (0.515625 + 3.75) + reconstruction)


def test_discogans_discriminator_exposes_its_normalised_layers_and_fm_trains_end_to_end() -> None:
    from lit_gans.networks import DiscoGANDiscriminator

    d = DiscoGANDiscriminator(3, in_size=32, ndf=4)  # 3 down blocks, BN on the 2nd and 3rd (the authors' relu2, relu3)
    assert [tuple(f.shape) for f in d.features(torch.zeros(2, 3, 32, 32))] == [(2, 8, 8, 8), (2, 16, 4, 4)]
    torch.manual_seed(0)
    model = disco(generator=DISCO_G, discriminator=DISCO_D, fm_weight=0.9)
    state = BatchState(Unpaired(torch.rand(4, 3, 16, 16) * 2 - 1, torch.rand(4, 3, 16, 16) * 2 - 1, torch.zeros(4), torch.zeros(4)), 0)
    model.batch_start(state)
    g_loss, logs = model.generator_step(state)
    assert torch.isfinite(g_loss) and logs["train/fm_ab"] > 0 and logs["train/fm_ba"] > 0
    g_loss.backward()  # feature matching reaches both generators
    assert all(p.grad is not None for p in [*model.generator.parameters(), *model.generator_ba.parameters()])


def test_the_curriculum_weighs_adversarial_by_one_minus_r_and_reconstruction_by_r(monkeypatch: pytest.MonkeyPatch) -> None:
    model = disco(curriculum={"start_rate": 0.01, "rate": 0.5, "steps": 10})
    state = by_hand(model)
    a, b = state.real.a, state.real.b
    adversarial = softplus(-0.5 * a).mean() + softplus(2 * b).mean()
    reconstruction = t(2.25 * (0.5625 + 0.375))[0]
    for global_step, rate in ((0, 0.01), (19, 0.01), (20, 0.5), (1000, 0.5)):  # 2 optimizer steps per batch
        monkeypatch.setattr(DiscoGAN, "global_step", property(lambda self, s=global_step: s))
        g_loss, logs = model.generator_step(state)
        assert model.reconstruction_rate() == rate
        assert_close(g_loss, (1 - rate) * adversarial + rate * reconstruction)
        assert_close(float(logs["train/reconstruction_rate"]), rate)
    assert disco().reconstruction_rate() is None  # the paper: lambda_cycle weighs the reconstruction


def test_unit_range_feeds_the_networks_zero_one_images_and_maps_translations_back() -> None:
    torch.manual_seed(0)
    model = disco(generator=DISCO_G, discriminator=DISCO_D, unit_range=True)
    for g in (model.generator, model.generator_ba):
        assert isinstance(g.net[-1], nn.Sigmoid)
    assert isinstance(disco(generator=DISCO_G, discriminator=DISCO_D).generator.net[-1], nn.Tanh)
    a, b = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    state = BatchState(Unpaired(a, b, torch.zeros(2), torch.zeros(2)), 0)
    model.batch_start(state)
    assert_close(state.real.a, (a + 1) / 2) and assert_close(state.real.b, (b + 1) / 2)
    assert state.cache["fake_b"].min() >= 0 and state.cache["fake_b"].max() <= 1
    model.eval()
    with torch.no_grad():
        expected = model.generator((a + 1) / 2) * 2 - 1
    assert_close(model.translate(a, "AtoB"), expected)
    with pytest.raises(ValueError, match="output_activation"):
        disco(unit_range=True)  # a ResNet generator has no output_activation option


@pytest.mark.parametrize("architecture, moved", [("recongan", {"generator", "generator_ba", "discriminator"}),
                                                 ("gan", {"generator", "discriminator"})])
def test_the_toy_architectures_train_only_their_networks(architecture: str, moved: set[str]) -> None:
    torch.manual_seed(0)
    model = disco(architecture=architecture)
    names = ("generator", "generator_ba", "discriminator", "discriminator_a")
    before = {n: [p.detach().clone() for p in getattr(model, n).parameters()] for n in names}
    fit(model, 2)
    for n in names:
        changed = any(not torch.equal(p0, p) for p0, p in zip(before[n], getattr(model, n).parameters()))
        assert changed == (n in moved), n


def test_the_toy_architectures_losses_by_hand() -> None:
    recongan, gan = disco(architecture="recongan"), disco(architecture="gan")
    for model, expected_terms in ((recongan, 2.25 * 0.5625), (gan, 0.0)):
        state = by_hand(model)
        g_loss, logs = model.generator_step(state)
        a, b = state.real.a, state.real.b
        assert_close(g_loss, softplus(-0.5 * a).mean() + expected_terms)  # L_GAN_B (+ L_CONST_A)
        d_loss, _ = model.discriminator_step(state)  # D_B only
        assert_close(d_loss, softplus(-b).mean() + softplus(0.5 * a).mean())


def test_bad_options_are_refused_naming_the_fix() -> None:
    with pytest.raises(ValueError, match="architecture"):
        disco(architecture="cyclegan")
    with pytest.raises(ValueError, match="fm_weight"):
        disco(fm_weight=1.5)
    with pytest.raises(ValueError, match="features"):
        disco(fm_weight=0.9)  # a PatchGAN exposes no features
    with pytest.raises(ValueError, match="curriculum"):
        disco(curriculum={"start_rate": 0.01, "rate": 0.5})
