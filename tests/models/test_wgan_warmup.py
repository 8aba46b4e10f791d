"""WGAN's critic warm-up schedule (the authors' code: 100 critic steps for the first 25 generator
iterations and every 500th): which batches take a generator step, across epochs and checkpoints."""

from typing import Any

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.models import WGAN

TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [2], "hidden": [8], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8]}
RMS = {"_target_": "torch.optim.RMSprop", "_partial_": True, "lr": 5e-5}
W = {"discriminator": "lit_gans.losses.wasserstein_critic_loss", "generator": "lit_gans.losses.wasserstein_generator_loss"}


def wgan(**overrides: Any) -> WGAN:
    kw = dict(generator=TOY_G, discriminator=TOY_D, loss=W, optimizer_g=RMS, optimizer_d=RMS, latent_dim=4, n_critic=2)
    return WGAN(**{**kw, **overrides})


def generator_batches(model: WGAN, n_batches: int) -> list[int]:
    return [b for b in range(1, n_batches + 1) if model.generator_step_due(b - 1)]


def test_warmup_schedule_picks_the_generator_batches() -> None:
    model = wgan(n_critic_warmup={"n_critic": 3, "first": 2, "every": 4})
    # G iterations 0, 1 (< first) and 4, 8 (multiples of every) wait 3 critic steps, the others n_critic = 2
    assert generator_batches(model, 20) == [3, 6, 8, 10, 13, 15, 17, 19]
    assert generator_batches(wgan(), 8) == [2, 4, 6, 8]  # no warm-up: every n_critic-th batch


class CountSteps(L.Callback):
    def __init__(self) -> None:
        self.g_steps: list[int] = []

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.g_steps.append(trainer.global_step)  # D steps + G steps so far


def test_schedule_runs_through_training_across_epochs_and_checkpoints(tmp_path) -> None:
    warmup = {"n_critic": 3, "first": 2, "every": 4}
    x = torch.randn(40, 2)
    data = DataLoader(TensorDataset(x, torch.zeros(40)), batch_size=4)  # 10 batches per epoch
    counter = CountSteps()
    model = wgan(n_critic_warmup=warmup)
    trainer = L.Trainer(accelerator="cpu", max_epochs=2, logger=False, callbacks=[counter], default_root_dir=tmp_path,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, data)
    g_batches = [i + 1 for i, (after, before) in enumerate(zip(counter.g_steps, [0] + counter.g_steps)) if after - before == 2]
    assert g_batches == [3, 6, 8, 10, 13, 15, 17, 19]  # the counters span epochs (batch_idx restarts at 0)
    ckpt = torch.load(next(tmp_path.rglob("*.ckpt")), weights_only=False)
    assert ckpt["wgan_schedule"] == {"critic_steps_since_g": 1, "generator_iterations": 8}
    resumed = wgan(n_critic_warmup=warmup)
    resumed.on_load_checkpoint(ckpt)
    assert [b + 20 for b in generator_batches(resumed, 6)] == [22, 24, 26]  # g = 8 waits 3 (1 done): 2 more; then 2, 2


def test_bad_warmup_is_refused() -> None:
    with pytest.raises(ValueError, match="n_critic_warmup takes"):
        wgan(n_critic_warmup={"n_critic": 100, "first": 25})
