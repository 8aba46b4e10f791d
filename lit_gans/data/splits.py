"""The datamodule skeleton shared by the preloaded image sets: a train and a test split held in
memory, their loaders, and the fixed-order uint8 reference images the generator metrics read."""

import lightning as L
from torch import Tensor
from torch.utils.data import DataLoader

from lit_gans.data.batched import Batch, BatchedTensorDataset, batched_loader


class PreloadedSplits(L.LightningDataModule):
    """Subclasses build a split in `_build(train)`; it is built once, on first use. Training
    shuffles and may drop the last partial batch; validation and test iterate the test split in
    order and see every sample (evaluation must not lose images)."""

    def __init__(self, batch_size: int, num_workers: int, drop_last: bool, pin_memory: bool) -> None:
        super().__init__()
        self.batch_size, self.num_workers = batch_size, num_workers
        self.drop_last, self.pin_memory = drop_last, pin_memory
        self._splits: dict[bool, BatchedTensorDataset] = {}

    def _build(self, train: bool) -> BatchedTensorDataset:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        """Build the train split for fitting (the test split is built lazily by its loaders)."""
        if stage in (None, "fit"):
            self.dataset(train=True)

    def dataset(self, train: bool = True) -> BatchedTensorDataset:
        """The train or the test split."""
        if train not in self._splits:
            self._splits[train] = self._build(train)
        return self._splits[train]

    def reference_images(self, train: bool, start: int, stop: int) -> Tensor:
        """uint8 images (stop - start, C, H, W): samples `start:stop` of a split in their fixed
        (unshuffled) order, the images the loaders serve before mapping to [-1, 1]; a copy."""
        split = self.dataset(train)
        if not 0 <= start <= stop <= len(split):
            raise ValueError(f"need 0 <= start <= stop <= {len(split)}, got start={start}, stop={stop}")
        return split.images(slice(start, stop)).clone()

    def train_dataloader(self) -> DataLoader[Batch]:
        return self._loader(train=True)

    def val_dataloader(self) -> DataLoader[Batch]:
        return self._loader(train=False)

    def test_dataloader(self) -> DataLoader[Batch]:
        return self._loader(train=False)

    def _loader(self, train: bool) -> DataLoader[Batch]:
        return batched_loader(
            self.dataset(train),
            batch_size=self.batch_size,
            shuffle=train,
            drop_last=self.drop_last and train,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
        )
