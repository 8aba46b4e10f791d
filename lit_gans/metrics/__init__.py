"""Evaluation metrics: a small MNIST classifier as the feature extractor of MNIST-FID and MNIST-IS."""

from lit_gans.metrics.mnist_classifier import (
    ARCH_VERSION,
    TRAIN_COMMAND,
    WEIGHTS_PATH,
    ClassifierWeightsError,
    MNISTClassifier,
    load_mnist_classifier,
    save_mnist_classifier,
)

__all__ = [
    "ARCH_VERSION",
    "TRAIN_COMMAND",
    "WEIGHTS_PATH",
    "ClassifierWeightsError",
    "MNISTClassifier",
    "load_mnist_classifier",
    "save_mnist_classifier",
]
