"""Feature extractors in the form torchmetrics' FID / KID / IS take as ``feature=nn.Module``.

torchmetrics passes the images it is given straight to a custom module, which must return
(N, d) and expose ``num_features``. Our modules take generator-range images: float in [-1, 1].
"""

from pathlib import Path

from torch import Tensor, nn

from lit_gans.metrics.mnist_classifier import MNISTClassifier, load_mnist_classifier


class MNISTFeatures(nn.Module):
    """Penultimate activations (N, 128) of our MNIST classifier: the embedding of "MNIST-FID"
    and "MNIST-KID". Scores are comparable only between runs that use the same weights."""

    def __init__(self, classifier: MNISTClassifier | None = None, weights: str | Path | None = None) -> None:
        super().__init__()
        self.classifier = classifier if classifier is not None else load_mnist_classifier(weights)
        self.num_features = self.classifier.num_features

    def forward(self, images: Tensor) -> Tensor:
        return self.classifier.features(_like_weights(images, self.classifier))  # (N, 128)


class MNISTLogits(nn.Module):
    """Class logits (N, 10) of our MNIST classifier: torchmetrics' InceptionScore applies the
    softmax itself, which gives "MNIST-IS" (at most 10, the number of classes)."""

    num_features = 10

    def __init__(self, classifier: MNISTClassifier | None = None, weights: str | Path | None = None) -> None:
        super().__init__()
        self.classifier = classifier if classifier is not None else load_mnist_classifier(weights)

    def forward(self, images: Tensor) -> Tensor:
        return self.classifier(_like_weights(images, self.classifier))  # (N, 10)


def _like_weights(images: Tensor, module: nn.Module) -> Tensor:
    """Match the network's dtype: ``Metric.set_dtype(torch.float64)`` casts the extractor too."""
    return images.to(next(module.parameters()).dtype)
