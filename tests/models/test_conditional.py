"""cGAN (projection / concat), the matching-aware discriminator, AC-GAN: maths, ownership, learning."""

from typing import Any, Callable

import pytest
import torch
import torch.nn.functional as F
from omegaconf import DictConfig

from helpers import needs_mnist
from lit_gans.models import ACGAN, CGAN
from lit_gans.models.base import Labeled
from lit_gans.models.conditional import wrong_labels
from lit_gans.training import train
from models.test_skeleton import ADAM, NS

Compose = Callable[..., DictConfig]
G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [1, 4, 4], "hidden": [16]}
D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [1, 4, 4], "hidden": [16]}


def tiny(cls: type, **overrides: Any) -> Any:
    return cls(**{**dict(generator=G, discriminator=D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=4,
                         num_classes=3, embed_dim=2), **overrides})


def batch(n: int = 6) -> Labeled:
    gen = torch.Generator().manual_seed(0)
    return Labeled(torch.rand(n, 1, 4, 4, generator=gen) * 2 - 1, torch.randint(3, (n,), generator=gen))


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
def test_the_discriminator_depends_on_the_label_and_checkpoints_rebuild(conditioning: str) -> None:
    model = tiny(CGAN, conditioning=conditioning)
    torch.nn.init.normal_(model.discriminator.embed.weight)  # projection starts at zero (unconditional)
    x = batch()
    scores = [model.d_scores(Labeled(x.images, torch.full((6,), k))) for k in range(3)]
    assert scores[0].shape == (6,) and not torch.allclose(scores[0], scores[1])
    rebuilt = CGAN(**model.hparams)  # hyper-parameters keep the configs as given
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt.d_scores(x), model.d_scores(x))


def test_projection_adds_the_label_embedding_dot_the_features() -> None:
    model = tiny(CGAN)
    d, x = model.discriminator, batch()
    assert torch.equal(d.embed.weight, torch.zeros_like(d.embed.weight))
    torch.nn.init.normal_(d.embed.weight)
    features, score = d.inner.features_and_score(x.images)
    torch.testing.assert_close(d(x.images, x.labels), score + (d.embed.weight[x.labels] * features).sum(1))


def test_matching_aware_loss_is_the_gan_cls_formula() -> None:
    model = tiny(CGAN, matching_aware=True)
    real, fake = batch(), model.sample_fake(6)
    torch.manual_seed(3)
    loss, logs = model.discriminator_loss(real, fake)
    torch.manual_seed(3)
    wrong = wrong_labels(real.labels, 3)
    s_r, s_f = model.d_scores(real), model.d_scores(fake)
    s_w = model.d_scores(Labeled(real.images, wrong))
    # L_D = log s_r + (log(1 - s_w) + log(1 - s_f)) / 2, maximised; with logits s = σ(logit)
    expected = F.softplus(-s_r).mean() + 0.5 * (F.softplus(s_w).mean() + F.softplus(s_f).mean())
    torch.testing.assert_close(loss, expected)
    assert "train/d_wrong" in logs


def test_wrong_labels_are_always_wrong_and_cover_the_other_classes() -> None:
    labels = torch.randint(10, (5000,))
    wrong = wrong_labels(labels, 10)
    assert not (wrong == labels).any()
    assert set(((wrong - labels) % 10).tolist()) == set(range(1, 10))


def test_acgan_losses_and_the_classifier_belongs_to_d() -> None:
    model = tiny(ACGAN, lambda_class=0.5)
    real, fake = batch(), model.sample_fake(6)
    loss, _ = model.discriminator_loss(real, fake)
    f_r, s_r = model.discriminator.features_and_score(real.images)
    f_f, s_f = model.discriminator.features_and_score(fake.images)
    ce = F.cross_entropy(model.classifier(f_r), real.labels) + F.cross_entropy(model.classifier(f_f), fake.labels)
    torch.testing.assert_close(loss, F.softplus(-s_r).mean() + F.softplus(s_f).mean() + 0.5 * ce)
    g_loss, _ = model.generator_loss(real, fake)
    torch.testing.assert_close(g_loss, F.softplus(-s_f).mean() + 0.5 * F.cross_entropy(model.classifier(f_f), fake.labels))

    opt_g, opt_d = model.configure_optimizers()
    owned = {id(p) for group in opt_d.param_groups for p in group["params"]}
    assert {id(p) for p in model.classifier.parameters()} <= owned
    assert not {id(p) for p in model.classifier.parameters()} & {id(p) for g in opt_g.param_groups for p in g["params"]}


def test_sample_grid_has_one_row_per_class_with_shared_noise() -> None:
    model = tiny(CGAN).eval()
    seen: list[torch.Tensor] = []
    model.generator.inner.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0]))
    images, nrow = model.sample_grid(columns=4)
    assert images.shape == (12, 1, 4, 4) and nrow == 4
    z, label_embedding = seen[0][:, :4], seen[0][:, 4:]
    assert torch.equal(z, z[:4].repeat(3, 1))
    assert torch.equal(label_embedding, model.generator.embed.weight.repeat_interleave(4, 0))


@needs_mnist
def test_cgan_samples_show_the_requested_digit_more_often_than_chance(compose_cfg: Compose) -> None:
    metrics, _ = train(compose_cfg("model=cgan", "data=mnist", "metrics=mnist", "batch_size=64", "seed=0",
                                   "trainer.limit_train_batches=150", "trainer.limit_val_batches=1",
                                   "metrics.num_samples=500", "metrics.num_real=1000", "metrics.samples_per_condition=100"))
    # measured 0.32 after 150 batches (0.18 after 100); chance is 0.1
    assert metrics["val/class_accuracy"] > 0.2, metrics["val/class_accuracy"]


@needs_mnist
def test_a_class_count_mismatch_names_the_fix(compose_cfg: Compose) -> None:
    with pytest.raises(ValueError, match="model.num_classes=10"):
        train(compose_cfg("model=acgan", "data=mnist", "model.num_classes=7", "debug=fdr"))
