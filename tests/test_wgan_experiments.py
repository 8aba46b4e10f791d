"""The WGAN paper's MNIST experiments (Arjovsky et al. 2017, Sections 4.2-4.3): their generators and configs.

tests/test_configs.py composes and instantiates every experiment; here each of these also trains one batch
(``fast_dev_run``) with its own callbacks, and the paper's GPU config runs on a folder of images."""

from pathlib import Path
from typing import Callable

import pytest
import torch
from omegaconf import DictConfig
from PIL import Image

from helpers import needs_mnist
from lit_gans.callbacks.critic_diagnostics import CriticDiagnostics
from lit_gans.callbacks.optimizer_diagnostics import StepGradientCosine
from lit_gans.networks.dcgan import DCGANGenerator
from lit_gans.training import train

Compose = Callable[..., DictConfig]
# one batch each takes ~2 s: by default, one experiment per code path (model, generator, callback); -m slow adds the rest
EXPERIMENTS = ["wgan_meaningful_loss", "wgan_arch_nobn", "gan_arch_mlp", "wgan_adam", "wgan_gp_clipping_diagnostics"]
SIBLINGS = ["gan_meaningful_loss", "wgan_rmsprop", "wgan_clipping_diagnostics", "wgan_arch_dcgan", "wgan_arch_mlp",
            "gan_arch_dcgan", "gan_arch_nobn"]
MNIST_EXPERIMENTS = EXPERIMENTS + [pytest.param(name, marks=pytest.mark.slow) for name in SIBLINGS]


def convs(g: torch.nn.Module) -> list[int]:
    return [m.out_channels for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_constant_width_generator_keeps_base_channels_filters_in_every_hidden_layer() -> None:
    shape = (3, 64, 64)
    assert convs(DCGANGenerator(100, shape)) == [512, 256, 128, 64, 3]  # the default still doubles them
    narrow = DCGANGenerator(100, shape, batch_norm=False, constant_width=True)
    assert convs(narrow) == [64, 64, 64, 64, 3]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in narrow.modules())
    # Figure 6: "the number of parameters is therefore reduced by a bit more than an order of magnitude"
    assert 10 < n_params(DCGANGenerator(100, shape)) / n_params(narrow) < 13
    assert narrow(torch.randn(2, 100)).shape == (2, *shape)
    assert convs(DCGANGenerator(100, (1, 28, 28), base_channels=16, constant_width=True)) == [16, 16, 1]


def test_paper_generators_compose(compose_cfg: Compose) -> None:
    mlp = compose_cfg("experiment=wgan_arch_mlp").model.generator
    assert (list(mlp.hidden), mlp.activation, mlp.batch_norm) == ([512] * 4, "relu", False)  # 4 hidden ReLU layers of 512
    nobn = compose_cfg("experiment=gan_arch_nobn")
    assert (nobn.model.generator.batch_norm, nobn.model.generator.constant_width, nobn.loss.name) == (False, True, "non_saturating")
    assert nobn.model.discriminator.norm == "batch"  # the DCGAN discriminator for every generator
    adam = compose_cfg("experiment=wgan_adam").model.optimizer_d
    assert (adam._target_, adam.lr, list(adam.betas)) == ("torch.optim.Adam", 5e-5, [0.5, 0.999])


@needs_mnist
@pytest.mark.parametrize("name", MNIST_EXPERIMENTS)
def test_every_wgan_paper_experiment_trains_a_batch_with_its_callbacks(compose_cfg: Compose, name: str) -> None:
    cfg = compose_cfg(f"experiment={name}", "debug=fdr", "batch_size=8", "metrics=none", "logger=[]", "~callbacks.progress_bar",
                      "~callbacks.model_checkpoint", "callbacks.samples.every_n_batches=0", quiet=False)
    metrics, objects = train(cfg)
    assert objects["trainer"].global_step == 1 + (objects["model"].hparams.n_critic == 1)  # one D step (+ one G step)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    callbacks = {type(c) for c in objects["trainer"].callbacks}
    assert (StepGradientCosine in callbacks) == (name in ("wgan_rmsprop", "wgan_adam"))
    assert (CriticDiagnostics in callbacks) == name.endswith("clipping_diagnostics")
    if StepGradientCosine in callbacks:
        assert -1 <= metrics["train/d_step_grad_cosine"] <= 1


def test_the_papers_lsun_config_trains_on_an_image_folder(compose_cfg: Compose, tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(0)
    for i in range(4):
        pixels = torch.randint(0, 256, (80, 96, 3), generator=gen, dtype=torch.uint8).numpy()
        Image.fromarray(pixels).save(tmp_path / f"bedroom_{i}.png")
    cfg = compose_cfg("experiment=wgan_lsun", f"data.root={tmp_path}", "batch_size=4", "data.num_workers=0",
                      "trainer.accelerator=cpu", "debug=fdr")
    assert (cfg.trainer.accelerator, cfg.model.clip_value, cfg.model.n_critic) == ("cpu", 0.01, 5)
    _, objects = train(cfg)
    assert objects["model"].sample_images(2).shape == (2, 3, 64, 64)
    assert objects["trainer"].global_step == 1
