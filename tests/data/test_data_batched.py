"""The DataLoader hands `__getitems__`'s result straight to `collate_fn` (torch 2.x behaviour)."""

import pytest
import torch
from torch.utils.data import DataLoader

from lit_gans.data.batched import BatchedTensorDataset, batched_loader, collate_prebatched


def _dataset() -> BatchedTensorDataset:
    data = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    return BatchedTensorDataset(data, torch.arange(10), transform=lambda x: -x)


def test_getitems_matches_getitem():
    ds = _dataset()
    x, y = ds.__getitems__([3, 0, 7])
    for row, i in enumerate([3, 0, 7]):
        xi, yi = ds[i]
        torch.testing.assert_close(x[row], xi)
        assert y[row] == yi
    torch.testing.assert_close(x, -torch.tensor([[6.0, 7.0], [0.0, 1.0], [14.0, 15.0]]))


def test_loader_uses_getitems_with_identity_collate():
    calls = []
    ds = _dataset()
    original = ds.__getitems__
    ds.__getitems__ = lambda idx: calls.append(list(idx)) or original(idx)
    loader = batched_loader(ds, batch_size=4, shuffle=False, drop_last=False)
    batches = list(loader)
    assert calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]  # one call per batch, not per sample
    assert [tuple(x.shape) for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert all(y.dtype == torch.int64 for _, y in batches)
    assert loader.collate_fn is collate_prebatched


def test_drop_last_and_shuffle_cover_every_row_once():
    loader = batched_loader(_dataset(), batch_size=3, shuffle=True, drop_last=True)
    labels = torch.cat([y for _, y in loader])
    assert len(loader) == 3 and len(labels) == 9
    assert len(set(labels.tolist())) == 9


def test_default_collate_would_not_work():
    """Documents why the identity collate is needed: default_collate stacks (images, labels)."""
    with pytest.raises(RuntimeError, match="stack"):
        next(iter(DataLoader(_dataset(), batch_size=4)))
