"""In-memory datasets that hand the DataLoader a whole batch per fetch.

With automatic batching, `torch.utils.data` calls `dataset.__getitems__(indices)` when it exists
and passes its return value straight to `collate_fn` (see `_MapDatasetFetcher.fetch`). So one
tensor gather per batch replaces `batch_size` `__getitem__` calls followed by `torch.stack`. The
batch is already collated, hence `collate_fn` must be the identity: `default_collate` would try
to `torch.stack` the (images, labels) pair and fail.
"""

from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

Batch = tuple[Tensor, Tensor]


class BatchedTensorDataset(Dataset[Batch]):
    """`(data[i], labels[i])` pairs; `transform` maps stored data for the model."""

    def __init__(
        self, data: Tensor, labels: Tensor, transform: Callable[[Tensor], Tensor] | None = None
    ) -> None:
        if len(data) != len(labels):
            raise ValueError(f"data has {len(data)} rows but labels has {len(labels)}")
        self.data, self.labels, self.transform = data, labels, transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> Batch:
        return self._take(index)

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        """Return the already collated batch `(data[indices], labels[indices])`."""
        return self._take(torch.as_tensor(indices, dtype=torch.long))

    def images(self, index: int | slice | Tensor) -> Tensor:
        """The stored (untransformed) samples at `index`, e.g. uint8 images."""
        return self.data[index]

    def _take(self, index: int | Tensor) -> Batch:
        x = self.data[index]  # a tensor index gathers the whole batch in one call
        return (self.transform(x) if self.transform else x), self.labels[index]


def collate_prebatched(batch: Batch) -> Batch:
    """Identity collate for `BatchedTensorDataset.__getitems__`, which already returns a batch."""
    return batch


def batched_loader(
    dataset: BatchedTensorDataset,
    batch_size: int,
    shuffle: bool,
    drop_last: bool,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> DataLoader[Batch]:
    """DataLoader over a `BatchedTensorDataset` with the matching identity collate."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,  # avoid re-forking workers every epoch
        collate_fn=collate_prebatched,
    )
