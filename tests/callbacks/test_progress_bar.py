"""The Rich progress bar of conf/callbacks/progress_bar.yaml shows both losses and, without a terminal (CI), prints
its final state once instead of a line per refresh."""

from pathlib import Path

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch.utils.data import DataLoader, TensorDataset

from helpers import CONF
from lit_gans.models import GAN

G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 2, "out_shape": [2], "hidden": [8], "output_activation": "none"}
D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8]}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}


def test_losses_show_and_a_ci_log_gets_one_final_bar(tmp_path: Path, capfd: pytest.CaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch, one_thread: None) -> None:
    monkeypatch.setenv("CI", "true")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):  # Rich's overrides of terminal detection
        monkeypatch.delenv(name, raising=False)
    bar = instantiate(OmegaConf.load(CONF / "callbacks" / "progress_bar.yaml").progress_bar)
    model = GAN(generator=G, discriminator=D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=2)
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False, enable_model_summary=False,
                        default_root_dir=tmp_path, callbacks=[bar])
    trainer.fit(model, DataLoader(TensorDataset(torch.randn(160, 2), torch.zeros(160)), batch_size=8))  # 20 batches
    shown = bar.get_metrics(trainer, model)
    assert {"train/d_loss", "train/g_loss"} <= set(shown)
    assert float(shown["train/d_loss"]) == pytest.approx(float(trainer.callback_metrics["train/d_loss"]), abs=1e-3)
    out = capfd.readouterr().out
    assert "train/d_loss" in out and "train/g_loss" in out
    assert out.count("Epoch 0") == 1  # the final state, not one line per batch
    assert "\x1b[" not in out  # no cursor movement / colour codes in a log file
