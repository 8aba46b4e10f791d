"""Evaluation metrics: feature extractors (our MNIST classifier, Inception v3), FID / KID / IS and
class histograms over one feature pass, mode coverage on toy mixtures and Stacked MNIST."""

from lit_gans.metrics.extractors import (
    INCEPTION_FILE,
    InceptionExtractor,
    InceptionWeightsError,
    MNISTExtractor,
    StackedMNISTExtractor,
    build_extractor,
    resolve_inception_weights,
    to_uint8,
)
from lit_gans.metrics.mnist_classifier import (
    ARCH_VERSION,
    TRAIN_COMMAND,
    WEIGHTS_PATH,
    ClassifierWeightsError,
    MNISTClassifier,
    load_mnist_classifier,
    save_mnist_classifier,
)
from lit_gans.metrics.modes import MixtureModes, ModeCoverage, mode_coverage
from lit_gans.metrics.scores import ClassHistogram, ImageScores
from lit_gans.metrics.stacked import stacked_mnist_labels, stacked_mnist_modes

__all__ = [
    "ARCH_VERSION",
    "INCEPTION_FILE",
    "TRAIN_COMMAND",
    "WEIGHTS_PATH",
    "ClassHistogram",
    "ClassifierWeightsError",
    "ImageScores",
    "InceptionExtractor",
    "InceptionWeightsError",
    "MNISTClassifier",
    "MNISTExtractor",
    "MixtureModes",
    "ModeCoverage",
    "StackedMNISTExtractor",
    "build_extractor",
    "load_mnist_classifier",
    "mode_coverage",
    "resolve_inception_weights",
    "save_mnist_classifier",
    "stacked_mnist_labels",
    "stacked_mnist_modes",
    "to_uint8",
]
