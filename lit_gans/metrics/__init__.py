"""Evaluation metrics: a small MNIST classifier (the feature extractor of MNIST-FID and MNIST-IS)
and mode coverage on toy mixtures."""

from lit_gans.metrics.features import MNISTFeatures, MNISTLogits
from lit_gans.metrics.mnist_classifier import (
    ARCH_VERSION,
    TRAIN_COMMAND,
    WEIGHTS_PATH,
    ClassifierWeightsError,
    MNISTClassifier,
    load_mnist_classifier,
    save_mnist_classifier,
)
from lit_gans.metrics.modes import ModeCoverage, mode_coverage

__all__ = [
    "ARCH_VERSION",
    "TRAIN_COMMAND",
    "WEIGHTS_PATH",
    "ClassifierWeightsError",
    "MNISTClassifier",
    "MNISTFeatures",
    "MNISTLogits",
    "ModeCoverage",
    "load_mnist_classifier",
    "mode_coverage",
    "save_mnist_classifier",
]
