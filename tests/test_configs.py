"""Config is the registry: every model / data / experiment YAML composes and instantiates."""

from pathlib import Path
from typing import Callable

import pytest
import torch
from hydra.errors import InstantiationException, MissingConfigException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from helpers import BUILT_IN_DATA, CONF, batch_kind, config_names
from lit_gans.models import AdversarialModule
from lit_gans.training import instantiate_datamodule

Compose = Callable[..., DictConfig]


def build(cfg: DictConfig) -> tuple[AdversarialModule, object]:
    datamodule = instantiate_datamodule(cfg.data)
    model = instantiate(cfg.model, _recursive_=False)
    assert model.batch_kind == getattr(datamodule, "batch_kind", "images")
    if model.batch_kind == "paired":  # translation: G maps an A image to a B image, D scores (a, b) pairs
        a = torch.zeros(2, *datamodule.shape)
        b = model.eval().translate(a)
        assert tuple(b.shape[1:]) == tuple(datamodule.shape)
        assert len(model.d_scores(model.real_samples((a, b, torch.zeros(2, dtype=torch.long))))) == 2
        return model, datamodule
    if model.batch_kind == "unpaired":  # G: A -> B and F: B -> A on images of the data's shape, Ds score them
        a = torch.zeros(2, *datamodule.shape)
        for direction in ("AtoB", "BtoA"):
            assert tuple(model.eval().translate(a, direction).shape[1:]) == tuple(datamodule.shape)
        assert len(model.d_scores(a)) == len(model.d_a_scores(a)) == 2
        return model, datamodule
    # the networks really are built for the data's shape
    fake = model.sample_fake(2 * model.hparams.get("pack", 1))  # PacGAN: two packs of m
    assert tuple(model.sample_images(2).shape[1:]) == tuple(datamodule.shape)
    if model.discriminator is not None:  # the VAE has none
        assert model.d_scores(fake).shape == (2,)
    return model, datamodule


@pytest.mark.parametrize("name", config_names("model"))
def test_every_model_config_instantiates(compose_cfg: Compose, name: str, tmp_path: Path) -> None:
    model, _ = build(compose_cfg(f"model={name}", f"data={BUILT_IN_DATA[batch_kind('model', name)]}"))
    assert isinstance(model, AdversarialModule)
    # hyper-parameters are plain containers: checkpoints load with weights_only=True (no OmegaConf)
    torch.save(dict(model.hparams), tmp_path / "hparams.pt")
    assert torch.load(tmp_path / "hparams.pt", weights_only=True) == dict(model.hparams)


@pytest.mark.parametrize("name", config_names("data"))
@pytest.mark.parametrize("model", ["dcgan", "wgan_gp"])
def test_every_data_config_instantiates(compose_cfg: Compose, tmp_path: Path, name: str, model: str) -> None:
    if batch_kind("data", name) != "images":
        pytest.skip(f"data={name} serves {batch_kind('data', name)} batches: built with its models below")
    extra = [f"data.root={tmp_path}"] if name in ("image_folder", "text_embeddings") else []  # read at setup only
    build(compose_cfg(f"model={model}", f"data={name}", *extra))


PAIRED_DATA = [name for name in config_names("data") if batch_kind("data", name) == "paired"]
PAIRED_MODELS = [name for name in config_names("model") if batch_kind("model", name) == "paired"]


@pytest.mark.parametrize("name", PAIRED_DATA)
@pytest.mark.parametrize("model", PAIRED_MODELS)
def test_every_paired_data_config_instantiates_with_every_translation_model(compose_cfg: Compose, tmp_path: Path,
                                                                             name: str, model: str) -> None:
    build(compose_cfg(f"model={model}", f"data={name}", f"data.root={tmp_path}"))


UNPAIRED_DATA = [name for name in config_names("data") if batch_kind("data", name) == "unpaired"]
UNPAIRED_MODELS = [name for name in config_names("model") if batch_kind("model", name) == "unpaired"]


@pytest.mark.parametrize("name", UNPAIRED_DATA)
@pytest.mark.parametrize("model", UNPAIRED_MODELS)
def test_every_unpaired_data_config_instantiates_with_every_unpaired_model(compose_cfg: Compose, tmp_path: Path,
                                                                           name: str, model: str) -> None:
    folder = [f"data.root={tmp_path}", "data.crop_size=32"] if name == "unpaired" else []  # 256 px: slow on a CPU
    build(compose_cfg(f"model={model}", f"data={name}", *folder))


@pytest.mark.parametrize("model", UNPAIRED_MODELS)
def test_an_unpaired_model_on_other_data_is_refused_naming_the_fix(compose_cfg: Compose, model: str) -> None:
    from lit_gans.training import train

    with pytest.raises(ValueError, match="data=mnist_mnistm"):
        train(compose_cfg(f"model={model}", "data=mnist_edges"))
    with pytest.raises(ValueError, match="model=cyclegan for unpaired"):
        train(compose_cfg("model=dcgan", f"data={UNPAIRED_DATA[0]}", "data.root=/nonexistent"))


@pytest.mark.parametrize("model", PAIRED_MODELS)
@pytest.mark.parametrize("data", ["mnist", "ring8"])
def test_a_translation_model_on_image_data_is_refused_naming_the_fix(compose_cfg: Compose, model: str, data: str) -> None:
    from lit_gans.training import train

    with pytest.raises(ValueError, match="data=mnist_edges"):
        train(compose_cfg(f"model={model}", f"data={data}"))
    with pytest.raises(ValueError, match="data=mnist"):
        train(compose_cfg("model=dcgan", f"data={PAIRED_DATA[0]}", "data.root=/nonexistent"))


# the metrics each data config picks when none is given (conf/data/*.yaml)
DEFAULT_METRICS = {"mnist": "mnist", "cifar10": "inception", "ring8": "modes", "grid25": "modes", "mog1d": "modes", "fgan_mixture": "modes",
                   "stacked_mnist": "stacked_mnist", "fashion_mnist": None, "image_folder": None,
                   "parallel_lines": None, "paired": None, "mnist_edges": None, "unpaired": None, "mnist_mnistm": None,
                   "text_embeddings": None, "photo_composites": None, "blending_folder": None}
METRICS_DATA = {"mnist": "mnist", "inception": "cifar10", "modes": "ring8", "stacked_mnist": "stacked_mnist"}


@pytest.mark.parametrize("name", config_names("data"))
def test_data_configs_pick_their_default_metrics(compose_cfg: Compose, name: str) -> None:
    cfg = compose_cfg(f"data={name}", quiet=False)
    assert (cfg.metrics or {}).get("features") == {"modes": "mixture"}.get(DEFAULT_METRICS[name], DEFAULT_METRICS[name])
    assert not compose_cfg(f"data={name}", "metrics=none", quiet=False).metrics  # the command line wins


@pytest.mark.parametrize("name", [n for n in config_names("metrics") if n not in ("none", "from_run")])
def test_every_metrics_config_instantiates(compose_cfg: Compose, name: str) -> None:
    from lit_gans.callbacks import GeneratorMetrics

    cfg = compose_cfg(f"data={METRICS_DATA[name]}", f"metrics={name}")
    assert isinstance(instantiate(cfg.metrics), GeneratorMetrics)


@pytest.mark.parametrize("name", config_names("experiment"))
def test_every_experiment_config_instantiates(compose_cfg: Compose, name: str) -> None:
    build(compose_cfg(f"experiment={name}"))


def model_specific(loss: str) -> str | None:
    """The model a loss config is written for (Cramér features, autoencoder energies), if any."""
    requires = OmegaConf.load(CONF / "loss" / f"{loss}.yaml").get("requires")
    return requires["model"] if requires else None


GENERAL_LOSSES = [name for name in config_names("loss") if not model_specific(name)]


@pytest.mark.parametrize("loss", GENERAL_LOSSES)
@pytest.mark.parametrize("net", ["dcgan_layernorm", "mlp"])
def test_any_loss_combines_with_any_penalty_compatible_critic(compose_cfg: Compose, loss: str, net: str) -> None:
    model, _ = build(compose_cfg("model=dcgan", f"loss={loss}", f"net/discriminator@model.discriminator={net}"))
    assert model.objective.name == loss


@pytest.mark.parametrize("loss", [name for name in config_names("loss") if model_specific(name)])
def test_model_specific_losses_name_their_model(compose_cfg: Compose, loss: str) -> None:
    with pytest.raises(InstantiationException, match=f"Use model={model_specific(loss)}"):
        build(compose_cfg("model=dcgan", f"loss={loss}", "net/discriminator@model.discriminator=dcgan_layernorm"))
    model, _ = build(compose_cfg(f"model={model_specific(loss)}", f"loss={loss}"))
    assert model.objective.name == loss


def test_paper_defaults(compose_cfg: Compose) -> None:
    wgan = compose_cfg("model=wgan")
    assert (wgan.model.n_critic, wgan.model.clip_value, wgan.data.batch_size) == (5, 0.01, 64)
    assert wgan.model.optimizer_d._target_ == "torch.optim.RMSprop" and wgan.model.optimizer_d.lr == 5e-5
    gp = compose_cfg("model=wgan_gp")  # Algorithm 1's λ and n_critic; the tuned Adam, critic and G (quality_per_minute)
    assert (gp.model.n_critic, gp.loss.gp_weight, gp.model.reuse_fake) == (5, 10.0, False)
    assert gp.model.discriminator._target_.endswith("MLPDiscriminator") and gp.model.generator.base_channels == 32
    assert (gp.model.optimizer_d.lr, gp.model.optimizer_g.lr, list(gp.model.optimizer_g.betas)) == (4e-4, 4e-4, [0.5, 0.9])
    assert compose_cfg("model=wgan_gp", "loss.gp_weight=5").model.loss.gp_weight == 5
    paper = compose_cfg("experiment=wgan_gp_paper_mnist")  # the paper's own setting, one override away
    assert (paper.model.n_critic, paper.loss.gp_weight, list(paper.model.optimizer_d.betas), paper.model.optimizer_g.lr,
            paper.data.batch_size) == (5, 10.0, [0.0, 0.9], 1e-4, 64)
    assert (paper.model.discriminator.norm, paper.model.generator.base_channels, paper.model.reuse_fake) == ("layer", 64, False)
    dcgan, dcgan_paper = compose_cfg("model=dcgan"), compose_cfg("experiment=dcgan_paper")
    assert (dcgan.data.batch_size, dcgan.model.latent_distribution, dcgan.model.generator.base_channels,
            dcgan.model.reuse_fake, dcgan.model.optimizer_g.lr, dcgan.model.optimizer_d.lr) == (64, "normal", 128, True,
                                                                                               4e-4, 2e-4)
    assert (dcgan_paper.data.batch_size, dcgan_paper.model.latent_distribution, dcgan_paper.model.generator.base_channels,
            dcgan_paper.model.reuse_fake, dcgan_paper.model.optimizer_g.lr) == (128, "uniform", 64, False, 2e-4)
    for name in ("dcgan_cifar10", "gan_arch_dcgan", "gan_meaningful_loss"):  # paper settings keep G's 2e-4
        paper_g = compose_cfg(f"experiment={name}").model.optimizer_g
        assert (paper_g._target_, paper_g.lr, list(paper_g.betas)) == ("torch.optim.Adam", 2e-4, [0.5, 0.999]), name
    info = compose_cfg("model=infogan", "data=mnist")  # D and Q at G's rate, batch 64 (quality_per_minute)
    assert (info.data.batch_size, info.model.optimizer_g.lr, info.model.optimizer_d.lr) == (64, 1e-3, 1e-3)
    for name in ("infogan_mnist", "infogan_mnist_authors_code", "infogan_mnist_authors_exact", "infogan_mnist_mbd"):
        paper = compose_cfg(f"experiment={name}")  # Appendix C's rates, the authors' batch of 128
        assert (paper.data.batch_size, paper.model.optimizer_g.lr, paper.model.optimizer_d.lr) == (128, 1e-3, 2e-4), name


def test_unknown_model_lists_the_choices(compose_cfg: Compose) -> None:
    with pytest.raises(MissingConfigException, match="model/nope") as err:
        compose_cfg("model=nope")
    assert {"dcgan", "wgan", "wgan_gp"} <= set(err.value.options)


def test_penalty_on_a_batchnorm_critic_is_refused_with_the_fix(compose_cfg: Compose) -> None:
    cfg = compose_cfg("model=dcgan", "loss=wasserstein_gp")  # DCGAN's critic has BatchNorm
    with pytest.raises(InstantiationException, match="dcgan_layernorm"):  # wraps our ValueError
        instantiate(cfg.model, _recursive_=False)


def test_wrong_image_size_names_the_fix(compose_cfg: Compose) -> None:
    with pytest.raises(InstantiationException, match=r"data.image_size to one of \[28, 32, 64\]"):
        instantiate(compose_cfg("data.image_size=30").model, _recursive_=False)


def test_declared_data_shape_must_match_the_data(compose_cfg: Compose) -> None:
    with pytest.raises(ValueError, match="does not match"):
        instantiate_datamodule(compose_cfg("data.shape=[3,28,28]").data)
