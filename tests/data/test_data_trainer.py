"""The data modules under a real Trainer: prepare_data -> setup -> loaders -> model steps."""

import lightning as L
import torch
from torch import nn

from lit_gans.data import ImageFolderDataModule, ToyDataModule, TorchvisionDataModule


class _Recorder(L.LightningModule):
    """Fits a linear layer and records what each step receives."""

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.layer = nn.Linear(in_features, 1)
        self.train_batches: list[tuple[torch.Size, torch.dtype, torch.dtype]] = []
        self.val_batches: list[torch.Size] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        self.train_batches.append((x.shape, x.dtype, y.dtype))
        return self.layer(x.flatten(1)).mean()

    def validation_step(self, batch, batch_idx):
        self.val_batches.append(batch[0].shape)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def _fit(model: L.LightningModule, dm: L.LightningDataModule, tmp_path, **limits) -> None:
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=tmp_path,
        **limits,
    )
    trainer.fit(model, datamodule=dm)


def test_toy_with_trainer(tmp_path):
    dm = ToyDataModule("ring8", num_samples=2048, batch_size=256)
    model = _Recorder(in_features=2)
    _fit(model, dm, tmp_path, limit_val_batches=0)
    assert model.train_batches == [(torch.Size([256, 2]), torch.float32, torch.int64)] * 8


def test_mnist_with_trainer(tmp_path, mnist_root):
    dm = TorchvisionDataModule("mnist", root=str(mnist_root), batch_size=32, download=False)
    model = _Recorder(in_features=28 * 28)
    _fit(model, dm, tmp_path, limit_train_batches=3, limit_val_batches=2)
    assert model.train_batches == [(torch.Size([32, 1, 28, 28]), torch.float32, torch.int64)] * 3
    assert model.val_batches == [torch.Size([32, 1, 28, 28])] * 2


def test_image_folder_with_trainer(tmp_path):
    from PIL import Image

    for i in range(4):
        Image.new("RGB", (12, 12), (60 * i, 0, 0)).save(tmp_path / f"{i}.png")
    dm = ImageFolderDataModule(str(tmp_path), image_size=8, batch_size=2, num_workers=0)
    model = _Recorder(in_features=3 * 8 * 8)
    _fit(model, dm, tmp_path / "run", limit_val_batches=0)
    assert model.train_batches == [(torch.Size([2, 3, 8, 8]), torch.float32, torch.int64)] * 2
