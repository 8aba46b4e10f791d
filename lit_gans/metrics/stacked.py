"""Stacked MNIST mode counting: the numbers of Metz et al. 2016 ("Unrolled GANs", the 1000-mode
Stacked MNIST experiment), VEEGAN Table 2 and PacGAN Tables 2-3.

Each channel of a generated image is classified by a pretrained MNIST classifier (ours:
`load_mnist_classifier`), which names one of 10 x 10 x 10 = 1000 modes. The papers report how
many modes received at least one of 26,000 (VEEGAN, PacGAN Table 2) or 25,600 (Metz et al.,
PacGAN Table 3) samples, and KL(q || uniform) of the mode histogram q.
"""

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.metrics.mnist_classifier import MNISTClassifier
from lit_gans.metrics.modes import coverage_from_counts

# label = 100 * d_R + 10 * d_G + d_B, as served by `StackedMNISTDataModule`
_PLACE = torch.tensor([100, 10, 1])


@torch.inference_mode()
def stacked_mnist_labels(images: Tensor, classifier: MNISTClassifier, batch_size: int = 1024) -> Tensor:
    """Mode labels (N,) int64 in [0, 1000) of stacked images (N, 3, H, W): uint8 in 0..255 or
    float in [-1, 1] (a Tanh generator's output). Images that are not 28x28 are resized to the
    classifier's 28x28 first. Runs on the classifier's device, returns a CPU tensor.
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"need stacked images (N, 3, H, W), got {tuple(images.shape)}")
    if classifier.training:  # dropout and batch statistics would make the labels random
        raise ValueError("classifier is in training mode; call .eval() (load_mnist_classifier freezes it)")
    weight = next(classifier.parameters())
    labels = []
    for part in images.split(batch_size):
        x = channel_digits(part.to(weight.device), weight.dtype)
        digits = classifier(x).argmax(dim=1).view(-1, 3)  # (B, 3) as (R, G, B)
        labels.append((digits * _PLACE.to(digits.device)).sum(dim=1).cpu())
    return torch.cat(labels) if labels else torch.zeros(0, dtype=torch.long)


def channel_digits(images: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """Stacked images (B, 3, H, W), uint8 or float in [-1, 1] -> the classifier's input: every
    channel as a digit, (B * 3, 1, 28, 28) in [-1, 1], in (R, G, B) order per image."""
    # uint8 0..255 -> [-1, 1], the range the classifier was trained on (0 and 255 map exactly)
    x = images.to(dtype).div(127.5).sub(1.0) if images.dtype == torch.uint8 else images.to(dtype)
    x = x.reshape(-1, 1, *x.shape[2:])
    if x.shape[-2:] != (28, 28):
        # Bicubic without antialiasing keeps strokes sharp: test digits resized 28 -> 32 -> 28
        # are recognised 99.3% of the time this way, 98.0% with antialiased bilinear (99.5% native).
        x = F.interpolate(x, size=(28, 28), mode="bicubic", align_corners=False).clamp_(-1.0, 1.0)
    return x


def stacked_mnist_modes(labels: Tensor, num_classes: int = 1000, min_count: int = 1) -> dict[str, float]:
    """`{"modes_covered", "reverse_kl"}` of mode labels (N,) in [0, num_classes).

    A mode is covered with at least `min_count` samples (1 in the papers). `reverse_kl` is
    KL(q || uniform) = sum over non-empty modes of q log(q * num_classes), as in VEEGAN Table 2
    and `lit_gans.metrics.modes`: 0 for a perfectly uniform histogram, log(num_classes) when
    every sample lands in one mode, +inf without samples.

    Example:
        >>> r = stacked_mnist_modes(torch.tensor([7, 7, 7, 123]))
        >>> r["modes_covered"], round(r["reverse_kl"], 4)
        (2.0, 6.3454)
    """
    labels = labels.reshape(-1).long().cpu()
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got [{labels.min()}, {labels.max()}]")
    counts = torch.bincount(labels, minlength=num_classes)
    coverage = coverage_from_counts(counts, len(labels), len(labels), min_count=min_count)
    return {"modes_covered": float(coverage.modes_covered), "reverse_kl": coverage.reverse_kl}
