"""Tiny generators for the iGAN tests: real lit_gans models from the real configs, shrunk so every test runs in
seconds. Random weights, calibrated so that G(z) spans [-1, 1] like a trained generator's images (a freshly
initialised G makes near-constant grey images, on which a colour stroke could never be met)."""

from collections.abc import Callable
from pathlib import Path

import torch
from hydra.utils import instantiate
from torch import nn

TINY_MLP = ("model.latent_dim=8", "model.generator.hidden=[64,64]")
TINY_CONV = ("model.generator.base_channels=8",)
# InfoGAN with a small MLP G (its 10-way categorical and 2 continuous codes as the paper's; a 4-d z so the codes
# are a real share of G's input)
TINY_INFOGAN = ("model=infogan", "net/generator@model.generator=mlp", "model.latent_dim=4", "model.generator.hidden=[64,64]")


@torch.no_grad()
def calibrate(model: nn.Module, spread: float = 1.5) -> nn.Module:
    """BatchNorm running statistics from a few prior batches, then G's last layer (before its tanh) scaled so its
    output has standard deviation ``spread``."""
    gen = model.generator
    inner = getattr(gen, "inner", gen)  # ConditionalGenerator wraps the network
    layers = [m for m in inner.modules() if isinstance(m, (nn.Linear, nn.ConvTranspose2d, nn.Conv2d))]
    seen: list[torch.Tensor] = []
    handle = layers[-1].register_forward_hook(lambda _m, _args, out: seen.append(out))  # G's pre-activation
    model.train()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # a cumulative average over the calibration batches
    for _ in range(3):
        model.sample_images(64)
    model.eval()
    seen.clear()
    model.sample_images(128)
    handle.remove()
    scale = spread / seen[-1].std()
    layers[-1].weight.mul_(scale)
    if layers[-1].bias is not None:
        layers[-1].bias.mul_(scale)
    return model


def tiny_model(compose_cfg: Callable, *overrides: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return calibrate(instantiate(compose_cfg(*overrides).model, _recursive_=False)).eval()



def save_checkpoint(model: nn.Module, out: Path) -> Path:
    """A lit_gans checkpoint of ``model`` as training writes it (class name, hyper-parameters, weights) without a
    training run: the app's tests open it through the same safe loader as a real run's last.ckpt."""
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"lit_gans_class": f"{type(model).__module__}.{type(model).__qualname__}",
                "hyper_parameters": dict(model.hparams), "state_dict": model.state_dict()}, out)
    return out
