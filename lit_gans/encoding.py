"""Codes E(x) of a data split for models with an encoder (``encode.py``, reconstruction grids, representation
metrics). Everything here goes through the model hooks ``has_encoder`` / ``encode`` / ``reconstruct`` only."""

from typing import Any

import torch
from torch import Tensor

from lit_gans.data.batched import BatchedTensorDataset

ENCODER_MODELS = "bigan, ali, mrgan, mdgan, vae, vaegan, alae"
SPLITS = ("train", "test")


def check_encoder(model: Any) -> None:
    """A clear error for a model without an encoder E: x -> z."""
    if not getattr(model, "has_encoder", False):
        raise ValueError(f"{type(model).__name__} has no encoder E: x -> z, so it has no codes or reconstructions; "
                         f"models with one: {ENCODER_MODELS}.")


def split_dataset(datamodule: Any, split: str) -> BatchedTensorDataset:
    """The ``train`` or ``test`` split of a datamodule as a dataset in its fixed order (image datamodules:
    ``dataset(train)``; toy mixtures: their training sample and their held-out validation sample)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    train = split == "train"
    if hasattr(datamodule, "dataset"):
        return datamodule.dataset(train)
    datamodule.setup("fit")
    dataset = datamodule.train_set if train else datamodule.val_set
    if dataset is None:
        raise ValueError(f"{type(datamodule).__name__} serves no {split} split.")
    return dataset


def split_batches(dataset: BatchedTensorDataset, batch_size: int = 500, limit: int | None = None):
    """(x, labels) batches of the first ``limit`` samples (all when None), in order, as the loaders serve them."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    for start in range(0, n, batch_size):
        yield dataset.__getitems__(list(range(start, min(start + batch_size, n))))


@torch.no_grad()
def encode_dataset(model: Any, dataset: BatchedTensorDataset, batch_size: int = 500,
                   limit: int | None = None) -> dict[str, Tensor]:
    """``codes`` (N, latent_dim) = E(x) (a stochastic encoder's mean) and ``labels`` (N,) of the first ``limit``
    samples of ``dataset``, with the model in eval mode (BatchNorm running statistics; restored after)."""
    check_encoder(model)
    was_training = model.training
    model.eval()
    codes, labels = [], []
    try:
        for x, y in split_batches(dataset, batch_size, limit):
            codes.append(model.encode(x.to(model.device)).float().cpu())
            labels.append(y)
    finally:
        model.train(was_training)
    return {"codes": torch.cat(codes), "labels": torch.cat(labels)}
