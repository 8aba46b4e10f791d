"""MNIST-FID / KID / IS / digit histogram through ImageScores with our classifier's features."""

import pytest
import torch

from helpers import needs_mnist
from lit_gans.data import TorchvisionDataModule
from lit_gans.metrics import ImageScores, MNISTExtractor


@pytest.fixture(scope="module")
def test_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The first 4,000 MNIST test digits as uint8 and their labels."""
    dm = TorchvisionDataModule("mnist", download=False)
    return dm.reference_images(False, 0, 4000), dm.dataset(train=False).labels[:4000]


@needs_mnist
def test_real_vs_real_scores_near_zero_and_collapse_or_noise_far(test_digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, labels = test_digits
    scores = ImageScores(MNISTExtractor(), kid_subset_size=500, kid_subsets=20, is_splits=1, class_histogram=True)
    first, second = images[:2000], images[2000:]
    scores.update(first, real=True)
    scores.update(second, real=False)
    real = scores.compute()

    # a "generator" that only produces the digit 1 (mode collapse) and one that produces noise
    ones = images[labels == 1][:500].repeat(4, 1, 1, 1)
    noise = torch.randint(0, 256, (2000, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    fake = {}
    for name, images_ in (("ones", ones), ("noise", noise)):
        scores.reset()  # the real statistics stay
        scores.update(images_, real=False)
        fake[name] = scores.compute()
    assert real["fid"] < 0.05 * min(f["fid"] for f in fake.values()), (real, fake)
    assert abs(real["kid"]) < 0.01 < min(f["kid"] for f in fake.values())
    assert 9.0 < real["is"] <= 10.0  # ten balanced, confidently classified classes
    assert fake["ones"]["is"] < 1.5  # one class: exp(KL) ≈ 1
    assert real["classes_covered"] == 10 and real["class_kl"] < 0.01
    assert fake["ones"]["classes_covered"] <= 2 and fake["ones"]["class_kl"] > 2.0  # ln 10 = 2.30


@needs_mnist
def test_mnist_features_refuse_other_image_sizes() -> None:
    with pytest.raises(ValueError, match="metrics=inception"):
        MNISTExtractor()(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))
