"""MNIST-FID / KID / IS through torchmetrics with our classifier's features."""

import pytest
import torch
from torchmetrics.image import FrechetInceptionDistance, InceptionScore, KernelInceptionDistance

from helpers import needs_mnist
from lit_gans.data import TorchvisionDataModule
from lit_gans.metrics import MNISTFeatures, MNISTLogits, load_mnist_classifier


@pytest.fixture(scope="module")
def test_images() -> tuple[torch.Tensor, torch.Tensor]:
    """The first 4,000 MNIST test digits in [-1, 1] and their labels."""
    dm = TorchvisionDataModule("mnist", download=False)
    ds = dm.dataset(train=False)
    batch = ds.__getitems__(list(range(4000)))
    return batch[0], batch[1]


@needs_mnist
def test_real_vs_real_scores_near_zero_and_noise_scores_far(test_images: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, labels = test_images
    classifier = load_mnist_classifier()
    fid = FrechetInceptionDistance(feature=MNISTFeatures(classifier), normalize=False)
    fid.set_dtype(torch.float64)
    kid = KernelInceptionDistance(feature=MNISTFeatures(classifier), subset_size=500, subsets=20)
    first, second = images[:2000], images[2000:]
    for metric in (fid, kid):
        metric.update(first, real=True)
        metric.update(second, real=False)
    real_fid, real_kid = fid.compute().item(), kid.compute()[0].item()

    # a "generator" that only produces the digit 1 (mode collapse) and one that produces noise
    ones = images[labels == 1][:500].repeat(4, 1, 1, 1)
    noise = torch.rand(2000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    scores = {}
    for name, fake in (("ones", ones), ("noise", noise)):
        fid.reset()  # keeps the real statistics (reset_real_features=True resets them: refill)
        fid.update(first, real=True)
        fid.update(fake, real=False)
        scores[name] = fid.compute().item()
    assert real_fid < 0.05 * min(scores.values()), (real_fid, scores)
    assert abs(real_kid) < 0.01

    inception = InceptionScore(feature=MNISTLogits(classifier), splits=1)
    inception.update(second)
    is_real = inception.compute()[0].item()
    inception.reset()
    inception.update(ones)
    is_ones = inception.compute()[0].item()
    assert 9.0 < is_real <= 10.0  # ten balanced, confidently classified classes
    assert is_ones < 1.5  # one class: exp(KL) ≈ 1
