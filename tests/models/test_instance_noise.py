"""Instance noise: the σ schedule's values, what D sees with noise on and off, config errors."""

from typing import Any

import pytest
import torch
from torch.testing import assert_close

from lit_gans.models import GAN
from lit_gans.models.base import Labeled
from lit_gans.models.instance_noise import add_instance_noise, instance_noise_std

TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [2], "hidden": [16], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [16]}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}


@pytest.mark.parametrize("schedule, step, expected", [
    ("linear", 0, 0.2), ("linear", 25, 0.15), ("linear", 99, 0.002), ("linear", 100, 0.0), ("linear", 5000, 0.0),
    ("exponential", 0, 0.2), ("exponential", 50, 0.02), ("exponential", 100, 0.0),
    ("constant", 0, 0.2), ("constant", 10**6, 0.2),
])
def test_schedule_values(schedule: str, step: int, expected: float) -> None:
    # exponential: σ · 0.01^(t/N) -> 0.2 · 0.1 at t = N/2
    assert instance_noise_std(step, 0.2, 100, schedule) == pytest.approx(expected)


def test_noise_is_added_to_images_only() -> None:
    x = torch.zeros(4000, 2)
    torch.manual_seed(0)
    noisy = add_instance_noise(x, 0.5)
    assert noisy.std().item() == pytest.approx(0.5, rel=0.05) and noisy.mean().abs() < 0.05
    labeled = Labeled(torch.zeros(8, 2), torch.arange(8), z=torch.zeros(8, 2))  # z as wide as the 2-D data
    out = add_instance_noise(labeled, 0.5)
    assert not torch.equal(out.images, labeled.images) and torch.equal(out.labels, labeled.labels)
    assert torch.equal(out.z, labeled.z)
    assert add_instance_noise(labeled, 0.0) is labeled  # off: nothing drawn, nothing changed


def gan(**overrides: Any) -> GAN:
    kw = dict(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=4)
    return GAN(**{**kw, **overrides})


def fit_and_record_d_inputs(model: GAN, x: torch.Tensor) -> list[torch.Tensor]:
    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset

    seen: list[torch.Tensor] = []
    model.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, DataLoader(TensorDataset(x, torch.zeros(len(x))), batch_size=len(x)))
    return seen


def test_discriminator_sees_noisy_real_data_only_when_enabled() -> None:
    x = torch.full((64, 2), 3.0)
    clean = fit_and_record_d_inputs(gan(), x)
    assert torch.equal(clean[0], x)  # D step, real batch
    noisy = fit_and_record_d_inputs(gan(instance_noise={"sigma": 1.0, "anneal_steps": 1000}), x)
    assert (noisy[0] - x).std().item() == pytest.approx(1.0, rel=0.25)  # σ_0 = 1 at step 0
    assert_close((noisy[0] - x).mean(), torch.tensor(0.0), atol=0.35, rtol=0)


def test_bad_instance_noise_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="schedule must be one of"):
        gan(instance_noise={"sigma": 0.1, "anneal_steps": 10, "schedule": "cosine"})
    with pytest.raises(ValueError, match="instance_noise takes"):
        gan(instance_noise={"sigma": -1.0, "anneal_steps": 10})
    with pytest.raises(ValueError, match="instance_noise takes"):
        gan(instance_noise={"std": 0.1})
