"""RunSummary: a toy run writes summary.png and scatter_strip.png; the curves are the logged values; a failed
run still gets its summary."""

import csv
from pathlib import Path
from typing import Callable

import lightning as L
import numpy as np
import pytest
import torch
from omegaconf import DictConfig
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.callbacks.samples import SampleGrid
from lit_gans.callbacks.summary import RunSummary
from lit_gans.models import GAN
from lit_gans.training import train

Compose = Callable[..., DictConfig]
TOY = ["data=ring8", "data.num_samples=64", "+data.num_val_samples=32", "batch_size=16",  # 4 batches an epoch
       "model.generator.hidden=[8]", "model.discriminator.hidden=[8]"]


def logged_series(metrics_csv: Path, key: str) -> list[float]:
    with metrics_csv.open() as f:
        return [float(row[key]) for row in csv.DictReader(f) if row.get(key)]


def test_a_toy_run_writes_the_summary_and_the_scatter_strip(compose_cfg: Compose, one_thread: None) -> None:
    # 2 epochs x 4 batches, one D and one G step per batch: global steps 2, 4, ..., 16
    cfg = compose_cfg("model=gan", *TOY, "trainer.max_epochs=2", "trainer.log_every_n_steps=1", "logger=csv",
                      "callbacks=[samples,summary]", "callbacks.samples.every_n_batches=2", "callbacks.summary.strip_panels=3",
                      "metrics=modes", "metrics.num_samples=64", "metrics.batch_size=64")
    _, objects = train(cfg)
    trainer = objects["trainer"]
    summary = next(c for c in trainer.callbacks if isinstance(c, RunSummary))
    samples = next(c for c in trainer.callbacks if isinstance(c, SampleGrid))
    run = Path(cfg.paths.output_dir)
    assert summary.written == [run / "summary.png", run / "scatter_strip.png"]
    for path in summary.written:
        with Image.open(path) as image:
            assert image.format == "PNG" and min(image.size) > 100

    curves = summary.curves()
    assert {"train/d_loss", "train/g_loss", "train/d_real", "train/d_fake", "val/d_real", "val/modes_covered"} <= set(curves)
    assert summary.panels()[0] == ("losses", ["train/d_loss", "train/g_loss"])
    steps, values = curves["train/d_loss"]
    np.testing.assert_array_equal(steps, np.arange(2, 17, 2))  # every batch (log_every_n_steps=1), at global_step
    # the very values the logger wrote (the CSV's step column counts batches, ours optimizer steps)
    np.testing.assert_allclose(values, logged_series(run / "csv" / "metrics.csv", "train/d_loss"), rtol=1e-6)
    val_steps, modes = curves["val/modes_covered"]
    np.testing.assert_array_equal(val_steps, [8, 16])  # one validation per epoch
    np.testing.assert_allclose(modes, logged_series(run / "csv" / "metrics.csv", "val/modes_covered"))

    # the strip: SampleGrid's renders at steps 4, 8, 12, 16; 3 panels evenly spaced, the first and the last included
    assert [step for step, _ in samples.points] == [4, 8, 12, 16]
    assert summary.strip_steps == [4, 12, 16]
    assert all(points.shape == (64, 2) for _, points in samples.points)


def test_a_failed_run_still_writes_its_summary(tmp_path: Path, one_thread: None) -> None:
    g = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 2, "out_shape": [2], "hidden": [8], "output_activation": "none"}
    d = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8]}
    ns = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
    adam = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}
    model = GAN(generator=g, discriminator=d, loss=ns, optimizer_g=adam, optimizer_d=adam, latent_dim=2, nan_check_every_n_batches=1)
    x = torch.randn(48, 2)
    x[40:] = float("nan")  # the third batch diverges
    summary = RunSummary(every_n_batches=1)
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path, callbacks=[summary])
    with pytest.raises(FloatingPointError):
        trainer.fit(model, DataLoader(TensorDataset(x, torch.zeros(48)), batch_size=16))
    assert summary.written == [tmp_path / "summary.png"]  # no SampleGrid: no strip
    assert summary.written[0].is_file()
    steps, _ = summary.curves()["train/d_loss"]
    np.testing.assert_array_equal(steps, [2, 4])  # the two good batches


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="every_n_batches"):
        RunSummary(every_n_batches=0)
    with pytest.raises(ValueError, match="strip_panels"):
        RunSummary(strip_panels=0)
