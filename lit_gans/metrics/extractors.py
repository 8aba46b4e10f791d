"""Feature extractors for generator metrics: one forward pass gives everything FID, KID and IS need.

torchmetrics' FID, KID and IS each run their own copy of the extractor on every image. Computing
the three that way costs three Inception passes per image; torch-fidelity computes them from
one. We extract once and hand the features to torchmetrics (see `lit_gans.metrics.scores`).

Every extractor takes uint8 images (N, C, H, W) in 0..255, the convention of torch-fidelity and
of published FIDs (scores are computed on images as they would be saved), and returns a dict:
    "features": (N, num_features)  the embedding of FID / KID
    "logits":   (N, num_logits)     class logits of IS (optional)
"""

import socket
from pathlib import Path

import torch
from torch import Tensor, nn

from lit_gans.metrics.mnist_classifier import load_mnist_classifier
from lit_gans.metrics.stacked import channel_digits

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{INCEPTION_FILE}"
DOWNLOAD_TIMEOUT_S = 30


class InceptionWeightsError(FileNotFoundError):
    """The Inception weights are not on disk and cannot be downloaded; the message says where to put them."""


def inception_cache_path() -> Path:
    """Where torch hub (and so torch-fidelity / torchmetrics' KID and IS) look for the weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def resolve_inception_weights(path: str | Path | None = None) -> Path:
    """The Inception v3 weights file: ``path`` if given, else the torch hub cache, downloading
    there once if missing. Fails with the file name, URL and both ways to provide it."""
    how = (
        f"Download {INCEPTION_URL} on a machine with internet and either copy it to "
        f"{inception_cache_path()} (the torch hub cache; $TORCH_HOME moves it) or pass "
        "metrics.inception_weights=<path to the .pth>. Or evaluate with metrics=mnist (MNIST-like data) "
        "or metrics=none."
    )
    if path is not None:
        if not Path(path).is_file():
            raise InceptionWeightsError(f"metrics.inception_weights={path} is not a file. {how}")
        return Path(path)
    cached = inception_cache_path()
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # an offline cluster must fail, not hang
    try:
        torch.hub.download_url_to_file(INCEPTION_URL, str(cached), progress=False)
    except OSError as err:  # URLError and socket timeouts are OSErrors
        raise InceptionWeightsError(f"Inception weights {INCEPTION_FILE} not found and the download failed ({err}). {how}") from err
    finally:
        socket.setdefaulttimeout(previous)
    return cached


class InceptionExtractor(nn.Module):
    """torch-fidelity's Inception v3 (the TF-FID graph) through torchmetrics' wrapper: pool
    features (2048) for FID / KID and unbiased logits (1008) for IS, as torch-fidelity uses them.

    ``antialias=False`` resizes to 299 like the TensorFlow reference (scores comparable with
    papers); torchmetrics' own default (True) gives different numbers on 28/32-pixel images.
    Grayscale images are repeated to three channels. The network is frozen and always in eval mode.
    """

    num_features = 2048
    num_logits = 1008

    def __init__(self, weights: str | Path | None = None, antialias: bool = False) -> None:
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        self.net = NoTrainInceptionV3(
            name="inception-v3-compat",
            features_list=[str(self.num_features), "logits_unbiased"],
            feature_extractor_weights_path=str(resolve_inception_weights(weights)),
            antialias=antialias,
        )

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        # torchmetrics' NoTrainInceptionV3.forward returns only the first feature; its
        # _torch_fidelity_forward returns all requested ones from one pass (pinned torchmetrics<2).
        features, logits = self.net._torch_fidelity_forward(images)
        return {"features": features.reshape(len(images), -1), "logits": logits.reshape(len(images), -1)}


class MNISTExtractor(nn.Module):
    """Our MNIST classifier (`lit_gans.metrics.mnist_classifier`): penultimate features (128) for
    "MNIST-FID" / "MNIST-KID" and digit logits (10) for "MNIST-IS". For 1x28x28 images only."""

    num_logits = 10

    def __init__(self, weights: str | Path | None = None) -> None:
        super().__init__()
        self.classifier = load_mnist_classifier(weights)
        self.num_features = self.classifier.num_features

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        if tuple(images.shape[1:]) != (1, 28, 28):
            raise ValueError(
                f"metrics.features=mnist needs 1x28x28 images (MNIST-like data), got {tuple(images.shape[1:])}; "
                "use metrics=inception for other data."
            )
        weight = next(self.classifier.parameters())
        x = images.to(weight.dtype) / 127.5 - 1  # the classifier's input range, [-1, 1]
        features = self.classifier.features(x)
        return {"features": features, "logits": self.classifier.head(features)}


class StackedMNISTExtractor(nn.Module):
    """Stacked MNIST (three digits as R, G, B): each channel through our MNIST classifier.
    Features: the three 128-d embeddings side by side (384) for FID / KID. Logits over the
    1000 modes 100·r + 10·g + b: log p(r) + log p(g) + log p(b), so their softmax is the product
    of the channel posteriors, the argmax names the mode of Metz et al. (2017) and IS is at most 1000."""

    num_logits = 1000

    def __init__(self, weights: str | Path | None = None) -> None:
        super().__init__()
        self.classifier = load_mnist_classifier(weights)
        self.num_features = 3 * self.classifier.num_features

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"metrics.features=stacked_mnist needs (N, 3, H, W) images, got {tuple(images.shape)}.")
        x = channel_digits(images, next(self.classifier.parameters()).dtype)  # (3N, 1, 28, 28)
        features = self.classifier.features(x)
        log_p = self.classifier.head(features).log_softmax(dim=1).view(-1, 3, 10)
        logits = log_p[:, 0, :, None, None] + log_p[:, 1, None, :, None] + log_p[:, 2, None, None, :]
        return {"features": features.view(len(images), -1), "logits": logits.reshape(len(images), 1000)}


def build_extractor(name: str, inception_weights: str | Path | None = None, antialias: bool = False,
                    mnist_weights: str | Path | None = None) -> nn.Module:
    """``mnist``, ``stacked_mnist`` or ``inception`` (the image ``metrics.features`` choices)."""
    if name == "mnist":
        return MNISTExtractor(mnist_weights)
    if name == "stacked_mnist":
        return StackedMNISTExtractor(mnist_weights)
    if name == "inception":
        return InceptionExtractor(inception_weights, antialias=antialias)
    raise ValueError(f"metrics.features must be 'mnist', 'stacked_mnist' or 'inception', got {name!r}.")


def to_uint8(images: Tensor) -> Tensor:
    """Generator output in [-1, 1] -> uint8 0..255 (rounded, as when saved to PNG)."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
