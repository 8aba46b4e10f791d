"""Train the MNIST classifier behind MNIST-FID / MNIST-IS and save its weights with metadata.

    python -m lit_gans.metrics.train_classifier [--seed 0] [--epochs 4] [--out PATH] [--data-root DIR]

A plain PyTorch loop over the preloaded uint8 train split: AdamW with a one-cycle schedule and
random shifts of up to 2 pixels. The model is evaluated once on the test split (never used for
model selection) and saved to `--out`, by default the weights shipped with the package. With the
same seed, thread count and PyTorch build, the run is bit-for-bit repeatable.
"""

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.data.images import TorchvisionDataModule, to_unit_range
from lit_gans.metrics.mnist_classifier import (
    TRAIN_COMMAND,
    WEIGHTS_PATH,
    MNISTClassifier,
    save_mnist_classifier,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=TRAIN_COMMAND, description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--max-shift", type=int, default=2, help="random translation in pixels (0: none)")
    # One thread by default: on a shared machine, OpenMP threads spin-waiting for a descheduled
    # sibling made 2-thread steps ~5x slower than 1-thread ones; one thread also makes the result
    # independent of the core count.
    p.add_argument("--threads", type=int, default=1, help="intra-op CPU threads (default: 1)")
    p.add_argument("--out", type=Path, default=WEIGHTS_PATH, help=f"weights file (default: {WEIGHTS_PATH})")
    p.add_argument("--data-root", default=None, help="folder holding MNIST/raw (default: $LIT_GANS_DATA_DIR or ./data)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (smoke tests)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N train and test images (smoke tests)")
    args = p.parse_args(argv)
    if args.limit is not None and args.limit < args.batch_size:
        p.error(f"--limit {args.limit} leaves not even one batch of --batch-size {args.batch_size}")
    return args


def random_shift(images: Tensor, max_shift: int, generator: torch.Generator) -> Tensor:
    """Translate each uint8 image (B, 1, H, W) by up to `max_shift` pixels, filling with 0 (background)."""
    if max_shift == 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, b, 1), generator=generator)
    rows = (dy + torch.arange(h))[:, :, None]  # (B, H, 1): the crop window of each image
    cols = (dx + torch.arange(w))[:, None, :]  # (B, 1, W)
    return padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)


def _as_input(images: Tensor) -> Tensor:
    """uint8 batch -> [-1, 1] float in channels-last layout, which makes CPU convolutions ~1.5x faster."""
    return to_unit_range(images).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def accuracy(model: MNISTClassifier, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy of `model` (put in eval mode) on uint8 images (N, 1, 28, 28)."""
    model.eval()
    correct = sum(
        int((model(_as_input(x)).argmax(1) == y).sum())
        for x, y in zip(images.split(batch_size), labels.split(batch_size))
    )
    return correct / len(labels)


def train(model: MNISTClassifier, images: Tensor, labels: Tensor, args: argparse.Namespace) -> int:
    """Fit `model` on uint8 `images` with labels; returns the number of optimizer steps taken."""
    generator = torch.Generator().manual_seed(args.seed)  # shuffling and shifts
    # Full batches only: a tiny last batch would give noisy BatchNorm statistics.
    steps_per_epoch = len(images) // args.batch_size
    total_steps = args.epochs * steps_per_epoch
    if args.max_steps is not None:
        total_steps = min(total_steps, args.max_steps)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, args.lr, total_steps=max(total_steps, 1), pct_start=0.2
    )
    print(
        f"Training MNISTClassifier ({sum(p.numel() for p in model.parameters()):,} parameters) on "
        f"{len(images):,} images for {total_steps} steps, {torch.get_num_threads()} thread(s).",
        flush=True,
    )
    start, step = time.perf_counter(), 0
    model.train()
    for epoch in range(1, args.epochs + 1):
        if step == total_steps:
            break
        order = torch.randperm(len(images), generator=generator)[: steps_per_epoch * args.batch_size]
        batches = order.split(args.batch_size)[: total_steps - step]
        loss_sum = 0.0
        for batch in batches:
            x = _as_input(random_shift(images[batch], args.max_shift, generator))
            loss = F.cross_entropy(model(x), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.item()
        step += len(batches)
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch}: train loss {loss_sum / len(batches):.4f}, {elapsed:.0f}s", flush=True)
    return step


def main(argv: Sequence[str] | None = None) -> float:
    """Train, evaluate on the test split, save; returns the test accuracy."""
    args = parse_args(argv)
    dm = TorchvisionDataModule("mnist", root=args.data_root)
    dm.prepare_data()
    train_split, test_split = dm.dataset(train=True), dm.dataset(train=False)
    x_train, y_train = train_split.data[: args.limit], train_split.labels[: args.limit]
    x_test, y_test = test_split.data[: args.limit], test_split.labels[: args.limit]

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:  # restore the thread count: tests call main() in-process
        torch.manual_seed(args.seed)  # weight init and dropout
        model = MNISTClassifier().to(memory_format=torch.channels_last)
        start = time.perf_counter()
        steps = train(model, x_train, y_train, args)
        train_seconds = time.perf_counter() - start
        test_accuracy = accuracy(model, x_test, y_test)
    finally:
        torch.set_num_threads(previous_threads)
    print(f"test accuracy: {test_accuracy:.4f} ({len(y_test):,} images)")

    meta: dict[str, Any] = {
        "test_accuracy": test_accuracy,
        "test_images": len(y_test),
        "train_images": len(y_train),
        "seed": args.seed,
        "epochs": args.epochs,
        "steps": steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "max_shift": args.max_shift,
        "threads": args.threads,
        "train_seconds": round(train_seconds, 1),
        "torch_version": str(torch.__version__),  # TorchVersion, a str subclass, fails weights_only
        "command": shlex.join([*TRAIN_COMMAND.split(), *(sys.argv[1:] if argv is None else argv)]),
    }
    path = save_mnist_classifier(model, args.out, meta)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return test_accuracy


if __name__ == "__main__":
    main()
