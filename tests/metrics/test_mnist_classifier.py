"""The MNIST classifier behind MNIST-FID / MNIST-IS: the shipped weights, their accuracy, shapes,
the [-1, 1] input convention, clear errors for bad weight files, and a smoke run of the trainer."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import Tensor

from helpers import needs_mnist
from lit_gans.data.images import TorchvisionDataModule, to_unit_range
from lit_gans.metrics import (
    ARCH_VERSION,
    TRAIN_COMMAND,
    WEIGHTS_PATH,
    ClassifierWeightsError,
    MNISTClassifier,
    load_mnist_classifier,
    save_mnist_classifier,
)
from lit_gans.metrics import mnist_classifier as mc
from lit_gans.metrics.train_classifier import main as train_main
from lit_gans.metrics.train_classifier import random_shift


@pytest.fixture(scope="module")
def classifier() -> MNISTClassifier:
    return load_mnist_classifier()


@pytest.fixture(scope="module")
def mnist_test() -> tuple[Tensor, Tensor]:
    """The full MNIST test split: images (10000, 1, 28, 28) in [-1, 1] and labels."""
    split = TorchvisionDataModule("mnist", download=False).dataset(train=False)
    return to_unit_range(split.data), split.labels


@torch.inference_mode()
def predict(model: MNISTClassifier, images: Tensor) -> Tensor:
    """Softmax probabilities (N, 10), computed in batches to bound memory."""
    return torch.cat([model(x).softmax(1) for x in images.split(2000)])


@pytest.fixture(scope="module")
def real_probs(classifier: MNISTClassifier, mnist_test: tuple[Tensor, Tensor]) -> Tensor:
    return predict(classifier, mnist_test[0])


def test_shipped_weights_load_frozen_with_metadata(classifier: MNISTClassifier) -> None:
    assert WEIGHTS_PATH.stat().st_size < 5e6
    assert not classifier.training and not any(p.requires_grad for p in classifier.parameters())
    classifier.train()  # e.g. Lightning switching a LightningModule that holds the metric
    assert not classifier.training, "a frozen classifier must keep BatchNorm statistics and no dropout"
    assert classifier.meta["arch_version"] == ARCH_VERSION
    assert classifier.meta["test_accuracy"] >= 0.993
    assert {"seed", "epochs", "torch_version", "command"} <= classifier.meta.keys()


def test_shapes(classifier: MNISTClassifier) -> None:
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    feats, logits = classifier.features(x), classifier(x)
    assert feats.shape == (5, classifier.num_features) and logits.shape == (5, 10)
    assert torch.allclose(classifier.head(feats), logits)  # features really are the penultimate layer
    assert (feats >= 0).all()  # post-ReLU


@needs_mnist
def test_accuracy_on_the_full_test_split(
    classifier: MNISTClassifier, mnist_test: tuple[Tensor, Tensor], real_probs: Tensor
) -> None:
    acc = (real_probs.argmax(1) == mnist_test[1]).float().mean().item()
    assert acc >= 0.99
    assert acc == pytest.approx(classifier.meta["test_accuracy"], abs=1e-3)  # the weights that were evaluated


@needs_mnist
def test_inputs_are_expected_in_minus_one_to_one(
    classifier: MNISTClassifier, mnist_test: tuple[Tensor, Tensor], real_probs: Tensor
) -> None:
    """White digits on a -1 background are recognised; the two likely mistakes are not: images
    left in [0, 1] (a missing `x * 2 - 1`) and inverted polarity. Scores of such inputs would be
    meaningless, so they must not pass as the original digits."""
    assert real_probs.max(1).values.mean() > 0.98  # confident on real digits in the right range
    images, labels = mnist_test[0][:2000], mnist_test[1][:2000]
    for wrong in (images.add(1).div(2), images.neg()):
        assert (predict(classifier, wrong).argmax(1) == labels).float().mean() < 0.5


def test_random_shift_translates_within_bounds() -> None:
    images = torch.zeros(64, 1, 28, 28, dtype=torch.uint8)
    images[:, 0, 14, 14] = 255
    shifted = random_shift(images, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape and shifted.dtype == torch.uint8
    rows, cols = (shifted[:, 0] == 255).nonzero()[:, 1:].T
    assert (shifted == 255).sum() == 64  # every pixel moved, none lost
    assert rows.sub(14).abs().max() <= 2 and cols.sub(14).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10  # shifts actually vary
    assert torch.equal(random_shift(images, 0, torch.Generator()), images)


def test_missing_weights_name_the_file_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "nowhere" / "mnist_classifier.pt"
    fix = f"{path}. Recreate it with `{TRAIN_COMMAND} --out {path}`"
    with pytest.raises(ClassifierWeightsError, match=re.escape(fix)):
        load_mnist_classifier(path)
    monkeypatch.setattr(mc, "WEIGHTS_PATH", path)  # the default file: the plain command recreates it
    with pytest.raises(ClassifierWeightsError, match=re.escape(f"{path}. Recreate it with `{TRAIN_COMMAND}`")):
        load_mnist_classifier()


def _write_garbage(path: Path) -> None:
    path.write_bytes(b"definitely not a checkpoint")


def _write_empty(path: Path) -> None:
    path.write_bytes(b"")


def _write_truncated(path: Path) -> None:
    path.write_bytes(WEIGHTS_PATH.read_bytes()[:5000])


def _write_other_dict(path: Path) -> None:
    torch.save({"weights": torch.zeros(3)}, path)


def _write_old_version(path: Path) -> None:
    save_mnist_classifier(MNISTClassifier(), path, {})
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["meta"]["arch_version"] = ARCH_VERSION - 1
    torch.save(checkpoint, path)


def _write_wrong_shapes(path: Path) -> None:
    save_mnist_classifier(MNISTClassifier(), path, {})
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["state_dict"]["head.1.weight"] = torch.zeros(3, 3)
    torch.save(checkpoint, path)


@pytest.mark.parametrize(
    "write",
    [_write_garbage, _write_empty, _write_truncated, _write_other_dict, _write_old_version, _write_wrong_shapes],
)
def test_corrupt_weights_name_the_file_and_the_fix(tmp_path: Path, write: Callable[[Path], None]) -> None:
    path = tmp_path / "mnist_classifier.pt"
    write(path)
    with pytest.raises(ClassifierWeightsError, match=re.escape(str(path)) + ".*" + re.escape(TRAIN_COMMAND)):
        load_mnist_classifier(path)


@needs_mnist
def test_training_entry_point_is_reproducible_and_writes_a_loadable_file(tmp_path: Path) -> None:
    args = ["--seed", "3", "--limit", "512", "--batch-size", "64", "--max-steps", "3"]
    threads = torch.get_num_threads()
    accuracy = train_main([*args, "--out", str(tmp_path / "a.pt")])
    assert torch.get_num_threads() == threads  # restored after the (1-thread) run
    train_main([*args, "--out", str(tmp_path / "b.pt")])
    a = load_mnist_classifier(tmp_path / "a.pt", device="cpu")
    b = load_mnist_classifier(str(tmp_path / "b.pt"))
    assert a.meta["steps"] == 3 and a.meta["seed"] == 3 and a.meta["test_accuracy"] == accuracy
    assert a.meta["command"].startswith(TRAIN_COMMAND)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), f"{name} differs between two runs with the same seed"
