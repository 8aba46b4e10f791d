"""FID in a translation's target domain: which features, and the metric that sums them (unpaired models).

The issue's rule, "our MNIST features for digit domains, Inception for the rest":

    target domain   features (the metric's name says which)                         logged as
    "mnist"         our MNIST classifier's 128-d features of the channel mean,      val/fid_<ab|ba>_mnist
                    central 28x28 (the built-in 32 px digits are 28 px padded by 2)
    "mnistm"        the same features of the *grey conversion* (channel mean) of    val/fid_<ab|ba>_mnist_grey
                    the colour images: an offline stand-in, because Inception
                    weights cannot be downloaded everywhere; it compares grey
                    levels and strokes, not colours
    anything else   Inception v3 pool features (torch-fidelity's TF-FID graph,      val/fid_<ab|ba>_inception
                    `lit_gans.metrics.InceptionExtractor`, antialias off), from
                    ``inception_weights`` or the torch hub cache

Every number compares translations with the *real* images of the target domain in the same validation loop,
through the same conversion, so only scores with the same suffix are comparable (and MNIST features are only
comparable with runs scored by the same classifier weights). The metric is torchmetrics' FID on precomputed features
in float64 (sums as states: all-reduced under DDP).
"""

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn
from torchmetrics.image import FrechetInceptionDistance

from lit_gans.metrics.extractors import InceptionWeightsError, inception_cache_path, to_uint8
from lit_gans.metrics.scores import Precomputed

DIGIT_DOMAINS = ("mnist", "mnistm")
FID_MODES = ("auto", "inception", "none")  # model.val_fid


def fid_suffix(domain: str | None) -> str:
    """The feature set named in the metric key for a target domain: "mnist", "mnist_grey" or "inception"."""
    return {"mnist": "mnist", "mnistm": "mnist_grey"}.get(domain or "", "inception")


def grey_digits(images: Tensor) -> Tensor:
    """(B, C, H, W) in [-1, 1] -> (B, 1, 28, 28): the channels' mean, the central 28x28 (what our classifier reads)."""
    grey = images.mean(dim=1, keepdim=True)
    top, left = (grey.shape[-2] - 28) // 2, (grey.shape[-1] - 28) // 2
    if top < 0 or left < 0:
        raise ValueError(f"MNIST features need images of at least 28x28, got {tuple(images.shape[-2:])}.")
    return grey[..., top: top + 28, left: left + 28]


def new_fid(num_features: int) -> FrechetInceptionDistance:
    """FID over ``num_features``-d features computed elsewhere, float64 (in float32 it depends on the batch size,
    torchmetrics #1620), real statistics reset with the rest (each validation compares with its own real images)."""
    fid = FrechetInceptionDistance(Precomputed(num_features), reset_real_features=True)
    fid.set_dtype(torch.float64)
    return fid


def inception_available(weights: str | Path | None) -> bool:
    """Whether Inception weights are on disk (the given file or the torch hub cache), without downloading."""
    return Path(weights).is_file() if weights is not None else inception_cache_path().is_file()


def domain_features(domain: str | None, classifier: Callable[[], nn.Module],
                    inception: Callable[[], nn.Module]) -> tuple[Callable[[Tensor], Tensor], int]:
    """(images in [-1, 1] -> (B, d) features, d) for FID in ``domain`` (see the module's table). ``classifier`` and
    ``inception`` build the networks on demand (the MNIST classifier; `InceptionExtractor`)."""
    if domain in DIGIT_DOMAINS:
        net = classifier()
        return (lambda images: net.features(grey_digits(images).to(next(net.parameters()).dtype))), net.num_features
    extractor = inception()
    return (lambda images: extractor(to_uint8(images))["features"]), extractor.num_features


def inception_error(err: InceptionWeightsError) -> ValueError:
    """The extractor's missing-weights error in the model's option names."""
    return ValueError(f"model.val_fid=inception needs the Inception v3 weights ({err}). Pass model.inception_weights="
                      "<path to weights-inception-2015-12-05-6726825d.pth>, or set model.val_fid=auto (Inception only "
                      "when the weights are on disk) or model.val_fid=none.")
