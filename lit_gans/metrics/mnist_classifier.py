"""A small MNIST digit classifier: the feature extractor of MNIST-FID, MNIST-IS and digit histograms.

Inception-v3, the network behind the standard FID and IS, takes seconds per batch on a couple of
CPU cores and was trained on ImageNet photos, not digits. This CNN is orders of magnitude cheaper
and was trained on the digits themselves. Scores computed with it are only comparable with scores
computed with the same weights: `ARCH_VERSION` and the metadata saved with the weights say which.
"""

import os
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "mnist_classifier.pt"
TRAIN_COMMAND = "python -m lit_gans.metrics.train_classifier"
# Bump whenever the layers change, so that old weight files are refused instead of half-loaded.
ARCH_VERSION = 1


class ClassifierWeightsError(RuntimeError):
    """The classifier weights are missing or unreadable; the message says how to recreate them."""


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    # No conv bias: the BatchNorm shift that follows makes it redundant.
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size=5, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    ]


class MNISTClassifier(nn.Module):
    """CNN for 28x28 digits: conv5x5(32)-pool-conv5x5(64)-pool-fc(128)-dropout-fc(10).

    Input: (B, 1, 28, 28) float images in [-1, 1] with a black (-1) background and white (+1)
    strokes, i.e. what a Tanh generator emits and what `TorchvisionDataModule("mnist")` yields.
    Images in [0, 1] or inverted images are out of distribution: only ~20% of the test digits
    are recognised when given that way. Like any softmax classifier it is also confident on some
    non-digits (uniform noise is an "8" with p ~ 1), so an IS-like score alone cannot tell noise
    from digits.

    `forward` returns logits (B, 10); `features` returns the penultimate activations
    (B, num_features) after BatchNorm and ReLU, the embedding used for MNIST-FID.

    A frozen classifier (as returned by `load_mnist_classifier`) ignores `.train()`: a metric that
    holds it as a submodule would otherwise be switched to batch statistics and dropout whenever
    Lightning puts the surrounding LightningModule in training mode.
    """

    num_features = 128

    def __init__(self, dropout: float = 0.3) -> None:
        super().__init__()
        self.frozen = False
        self.meta: dict[str, Any] = {}  # metadata of the loaded weights (accuracy, seed, ...)
        self.body = nn.Sequential(
            *_conv_block(1, 32),  # 28 -> 24 -> 12
            *_conv_block(32, 64),  # 12 -> 8 -> 4
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, self.num_features, bias=False),
            nn.BatchNorm1d(self.num_features),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.num_features, 10))

    def features(self, x: Tensor) -> Tensor:
        """(B, 1, 28, 28) in [-1, 1] -> penultimate activations (B, num_features)."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 1, 28, 28) in [-1, 1] -> class logits (B, 10)."""
        return self.head(self.features(x))

    def train(self, mode: bool = True) -> "MNISTClassifier":
        return super().train(mode and not self.frozen)


def save_mnist_classifier(model: MNISTClassifier, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write `{"state_dict", "meta"}` to `path` (atomically, so a crash leaves no half file)."""
    path = Path(path).expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "arch_version": ARCH_VERSION, "num_features": model.num_features}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # a unique name: two processes may write at once
    torch.save({"state_dict": state, "meta": meta}, tmp)
    os.replace(tmp, path)
    return path


def load_mnist_classifier(
    path: str | Path | None = None, device: torch.device | str | None = None
) -> MNISTClassifier:
    """The trained classifier, frozen: eval mode, no gradients, `.meta` holding its metadata.

    `path` defaults to the weights shipped with the package (`WEIGHTS_PATH`). A missing, corrupt
    or incompatible file raises `ClassifierWeightsError` naming the file and the command that
    recreates it.
    """
    path = Path(path).expanduser().absolute() if path is not None else WEIGHTS_PATH
    command = TRAIN_COMMAND if path == WEIGHTS_PATH else f"{TRAIN_COMMAND} --out {path}"
    fix = f"Recreate it with `{command}` (a few minutes on a CPU)."
    if not path.is_file():
        raise ClassifierWeightsError(f"MNIST classifier weights not found: {path}. {fix}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's own message suggests weights_only=False, i.e. running the file's code: not here.
        raise ClassifierWeightsError(
            f"Cannot read the MNIST classifier weights {path}: not a weights-only PyTorch file. {fix}"
        ) from err
    except (RuntimeError, EOFError, ValueError, OSError) as err:
        # A truncated zip archive raises RuntimeError, an empty file EOFError (with no message).
        reason = (str(err).splitlines() or ["empty or truncated file"])[0][:200]
        raise ClassifierWeightsError(
            f"Cannot read the MNIST classifier weights {path} ({type(err).__name__}: {reason}). {fix}"
        ) from err
    if not (
        isinstance(checkpoint, dict)
        and isinstance(checkpoint.get("state_dict"), dict)
        and isinstance(checkpoint.get("meta"), dict)
    ):
        raise ClassifierWeightsError(
            f"{path} is not an MNIST classifier checkpoint (expected a dict with 'state_dict' "
            f"and 'meta'). {fix}"
        )
    meta = checkpoint["meta"]
    if meta.get("arch_version") != ARCH_VERSION:
        raise ClassifierWeightsError(
            f"{path} holds weights of classifier architecture version {meta.get('arch_version')}, "
            f"this code builds version {ARCH_VERSION}. {fix}"
        )
    model = MNISTClassifier()
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:  # missing/unexpected keys or mismatched shapes
        reason = " ".join(str(err).split()).rstrip(".")  # torch's message spans several lines
        raise ClassifierWeightsError(f"The weights in {path} do not fit MNISTClassifier: {reason}. {fix}") from err
    model.meta = meta
    model.eval().requires_grad_(False)
    model.frozen = True
    # Channels-last weights make CPU (mkldnn) convolutions ~1.3x faster; outputs are unchanged.
    model.to(device=device, memory_format=torch.channels_last)
    return model
