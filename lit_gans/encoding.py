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


def run_datamodule(cfg: Any) -> Any:
    """The datamodule of the training run behind ``cfg.ckpt_path`` (its ``.hydra/config.yaml``; ``cfg.run_dir`` and
    ``cfg.data_root`` when the run or the data moved), its targets held to the run allow-list first."""
    from omegaconf import OmegaConf

    from lit_gans.checkpoints import RUN_TARGETS, check_config_targets
    from lit_gans.evaluation import run_config
    from lit_gans.training import instantiate_datamodule

    run = run_config(cfg)
    OmegaConf.set_struct(run, False)
    if cfg.get("data_root"):
        run.data.root = cfg.data_root
    run.hydra = None  # the saved config's ${hydra:...} interpolations are unused here
    check_config_targets(OmegaConf.to_container(run.data, resolve=True), "data", RUN_TARGETS, "the run's .hydra/config.yaml")
    return instantiate_datamodule(run.data)


@torch.no_grad()
def reconstruction_grid(model: Any, x: Tensor, per_row: int = 8) -> Tensor:
    """Rows of real images x, each followed by the row of their reconstructions G(E(x)) (model in eval mode,
    restored after): (2·N, C, H, W) for ``make_grid(..., nrow=per_row)``; N is cut to a multiple of per_row."""
    check_encoder(model)
    x = x[: len(x) // per_row * per_row] if len(x) >= per_row else x
    per_row = min(per_row, len(x))
    was_training = model.training
    model.eval()
    try:
        rec = model.reconstruct(x.to(model.device)).to(x.dtype).cpu()
    finally:
        model.train(was_training)
    rows = torch.stack([x.cpu().view(-1, per_row, *x.shape[1:]), rec.view(-1, per_row, *x.shape[1:])], dim=1)
    return rows.reshape(-1, *x.shape[1:])  # x row 0, G(E(x)) row 0, x row 1, ...


@torch.no_grad()
def reconstruction_mse(model: Any, dataset: BatchedTensorDataset, batch_size: int = 500, limit: int | None = None) -> float:
    """Mean over samples and pixels of (G(E(x)) − x)² on the first ``limit`` samples, images in the data's [-1, 1]
    scale, the model in eval mode (restored after)."""
    check_encoder(model)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for x, _ in split_batches(dataset, batch_size, limit):
            x = x.to(model.device).float()
            total += float((model.reconstruct(x).float() - x).pow(2).sum(dtype=torch.float64))
            count += x.numel()
    finally:
        model.train(was_training)
    return total / count


def random_encoder_twin(model: Any, seed: int = 0) -> Any:
    """A freshly initialised model of the same class and hyper-parameters (built under its own seed, the global RNG
    untouched): the "random encoder" floor of the representation metrics, through the same ``encode`` hook."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        twin = type(model)(**dict(model.hparams))
    return twin.to(model.device).eval()
