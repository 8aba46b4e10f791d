"""Feature networks of the projection loss: our MNIST classifier for digits, a torchvision backbone from a file."""

from pathlib import Path

import pytest
import torch

from lit_gans.manipulation import MNISTFeatures, feature_network


def test_auto_picks_the_mnist_classifier_for_digits_and_pixels_otherwise() -> None:
    features = feature_network("auto", (1, 28, 28))
    assert isinstance(features, MNISTFeatures)
    out = features(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, 64, 4, 4) and not out.requires_grad
    features.train()
    assert not features.body.training  # BatchNorm keeps its running statistics
    assert feature_network("auto", (3, 32, 32)) is None
    assert feature_network("none", (1, 28, 28)) is None


def test_gradients_flow_through_the_frozen_features_to_the_image() -> None:
    x = torch.zeros(1, 1, 28, 28, requires_grad=True)
    feature_network("mnist", (1, 28, 28))(x).pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_clear_errors_for_missing_weights_and_wrong_inputs(tmp_path: Path) -> None:
    missing = tmp_path / "alexnet-owt-7be5be79.pth"
    with pytest.raises(FileNotFoundError, match=f"Feature network weights not found: {missing}.*feature_weights="):
        feature_network("torchvision", (3, 64, 64), missing)
    with pytest.raises(ValueError, match="feature=torchvision needs feature_weights"):
        feature_network("torchvision", (3, 64, 64))
    with pytest.raises(ValueError, match="feature=mnist reads 1x28x28 digits"):
        feature_network("mnist", (3, 32, 32))
    with pytest.raises(ValueError, match="feature_arch must be one of"):
        feature_network("torchvision", (3, 64, 64), missing, arch="resnet")
    with pytest.raises(ValueError, match="feature must be auto, none, mnist or torchvision"):
        feature_network("inception", (1, 28, 28))
