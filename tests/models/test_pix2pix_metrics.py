"""pix2pix's paired validation metrics (val/l1, val/psnr, val/ssim) against hand-known values, and synced across
two DDP processes to the one-process numbers."""

import math
from typing import Any

import lightning as L
import pytest
import torch
from helpers import needs_mnist
from models.test_pix2pix import PATCH, UNET, pix2pix
from torch import Tensor
from torch.testing import assert_close
from torch.utils.data import DataLoader

from lit_gans.data.paired import collate_paired
from lit_gans.models import Pix2Pix

SIZE = 16  # SSIM's 11x11 window needs images larger than it


class Shifted(Pix2Pix):
    """A "generator" with known errors: translate(a) = a + shift, so every metric is a formula of the data."""

    shift = 0.0

    def translate(self, images: Tensor, direction: str = "AtoB", seed: int | None = None) -> Tensor:
        return images + self.shift


def shifted(shift: float) -> Shifted:
    model = Shifted(generator={**UNET, "in_shape": [1, SIZE, SIZE]}, discriminator=PATCH,
                    **{k: v for k, v in pix2pix().hparams.items() if k not in ("generator", "discriminator")})
    model.shift = shift
    return model


def loader(a: Tensor, b: Tensor, batch_size: int = 2) -> DataLoader:
    items = [(a[i], b[i], -1) for i in range(len(a))]
    return DataLoader(items, batch_size=batch_size, collate_fn=collate_paired)


def validate(model: L.LightningModule, data: DataLoader | L.LightningDataModule) -> dict[str, float]:
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False)
    loaders = {"datamodule": data} if isinstance(data, L.LightningDataModule) else {"dataloaders": data}
    return {k: float(v) for k, v in trainer.validate(model, **loaders, verbose=False)[0].items()}


def test_an_exact_copy_scores_ssim_1_psnr_inf_l1_0() -> None:
    a = torch.rand(4, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(0)) * 2 - 1
    logged = validate(shifted(0.0), loader(a, a.clone()))
    assert logged["val/l1"] == 0.0
    assert logged["val/psnr"] == math.inf  # 10·log10(peak² / 0): torchmetrics does not cap it
    assert_close(logged["val/ssim"], 1.0)


def test_known_errors_give_the_formulas_values() -> None:
    """Constant images a = 0.25 against targets b: image 1 off by 0.1 (MSE 0.01), image 2 by 0.2 (MSE 0.04)."""
    a = torch.full((2, 1, SIZE, SIZE), 0.25)
    b = a + torch.tensor([0.1, 0.2]).view(2, 1, 1, 1)
    logged = validate(shifted(0.0), loader(a, b))
    assert_close(logged["val/l1"], 0.15)
    # PSNR per image on the [-1, 1] range (peak-to-peak 2), then averaged: not the PSNR of the mean MSE (22.04 dB)
    psnr = [10 * math.log10(2.0**2 / mse) for mse in (0.01, 0.04)]  # 26.02 and 20.00 dB
    assert_close(logged["val/psnr"], sum(psnr) / 2, rtol=1e-5, atol=1e-5)
    # constant images: no variance, so SSIM is its luminance term (2 μx μy + C1) / (μx² + μy² + C1), C1 = (0.01·2)²
    c1 = (0.01 * 2.0) ** 2
    ssim = [(2 * 0.25 * y + c1) / (0.25**2 + y**2 + c1) for y in (0.35, 0.45)]
    assert_close(logged["val/ssim"], sum(ssim) / 2, rtol=1e-5, atol=1e-5)


def test_values_outside_the_range_are_clamped_first() -> None:
    """A tanh output never leaves [-1, 1]; anything else is clamped before scoring, as an image would be saved."""
    a = torch.full((2, 1, SIZE, SIZE), 0.9)
    logged = validate(shifted(0.5), loader(a, torch.ones_like(a)))  # 1.4 -> 1.0: an exact copy of the target
    assert logged["val/psnr"] == math.inf and logged["val/ssim"] == pytest.approx(1.0)
    assert logged["val/l1"] == pytest.approx(0.4)  # L1 reads the raw output (the training loss's term)


class Recorder(L.Callback):
    def __init__(self, path: str) -> None:
        self.path = path

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        torch.save({k: float(v) for k, v in trainer.callback_metrics.items()}, f"{self.path}.{trainer.global_rank}")


@pytest.mark.slow
@needs_mnist
def test_two_ddp_processes_log_the_one_process_values(tmp_path: Any, one_thread: None) -> None:
    """Each rank validates half of 128 digit pairs; the logged values are the whole set's (states all-gathered or
    summed), val/fid and val/digit_accuracy included."""
    torch.manual_seed(0)
    model = pix2pix(generator={**UNET, "in_shape": [1, 32, 32]}, test_time_dropout=False)
    data = DigitPairs()
    one = validate(model, data)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp_spawn", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[Recorder(str(tmp_path / "m"))])
    trainer.validate(model, datamodule=data, verbose=False)
    for rank in (0, 1):
        logged = torch.load(tmp_path / f"m.{rank}", weights_only=True)
        for key in ("val/l1", "val/psnr", "val/ssim", "val/fid", "val/digit_accuracy"):
            assert_close(logged[key], one[key], rtol=1e-4, atol=1e-5, msg=key)


class DigitPairs(L.LightningDataModule):
    """Validation pairs (a = b = 32 px MNIST test digits) whose targets are digits: pix2pix scores val/fid on them."""

    digit_targets = True

    def __init__(self, n: int = 128) -> None:
        super().__init__()
        from lit_gans.data import MNISTEdgesDataModule

        self.pairs = next(iter(MNISTEdgesDataModule(num_val_samples=n, batch_size=n).val_dataloader()))

    def val_dataloader(self) -> DataLoader:
        items = [(self.pairs.b[i], self.pairs.b[i], int(self.pairs.labels[i])) for i in range(len(self.pairs.b))]
        return DataLoader(items, batch_size=32, collate_fn=collate_paired)


def shifted32(shift: float) -> Shifted:
    model = Shifted(generator={**UNET, "in_shape": [1, 32, 32]}, discriminator=PATCH,
                    **{k: v for k, v in pix2pix().hparams.items() if k not in ("generator", "discriminator")})
    model.shift = shift
    return model


@needs_mnist
def test_val_fid_is_mnist_fid_of_the_translations_against_the_targets(one_thread: None) -> None:
    from torchmetrics.image import FrechetInceptionDistance

    from lit_gans.metrics import load_mnist_classifier
    from lit_gans.metrics.scores import Precomputed
    from lit_gans.models.pix2pix import center_crop

    data = DigitPairs()
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False)
    [copy] = trainer.validate(shifted32(0.0), datamodule=data, verbose=False)
    assert abs(float(copy["val/fid"])) < 1e-3 and float(copy["val/digit_accuracy"]) > 0.97  # G(x) = y
    [off] = trainer.validate(shifted32(0.3), datamodule=data, verbose=False)
    # by hand: torchmetrics' FID on our classifier's features of the central 28x28, targets vs the outputs as scored
    classifier, fid = load_mnist_classifier(), FrechetInceptionDistance(Precomputed(128))
    fid.set_dtype(torch.float64)
    with torch.no_grad():
        fid.update(classifier.features(center_crop(data.pairs.b, 28)).double(), real=True)
        fid.update(classifier.features(center_crop(data.pairs.b + 0.3, 28)).double(), real=False)
    assert_close(float(off["val/fid"]), float(fid.compute()), rtol=1e-4, atol=1e-4)
    assert float(off["val/fid"]) > 1.0
