"""Stacked MNIST mode counts: hand-computed histograms, real stacked test digits, a collapsed set."""

import math

import pytest
import torch
from torch.testing import assert_close

from helpers import needs_mnist
from lit_gans.data import StackedMNISTDataModule
from lit_gans.data.images import to_unit_range
from lit_gans.metrics import MNISTClassifier, load_mnist_classifier, stacked_mnist_labels, stacked_mnist_modes

N_EVAL = 26_000  # generated samples per evaluation in VEEGAN / PacGAN Table 2


@pytest.fixture(scope="module")
def classifier() -> MNISTClassifier:
    return load_mnist_classifier()


@pytest.fixture(scope="module")
def stacked() -> StackedMNISTDataModule:
    """Evaluation split: N_EVAL stacks of MNIST *test* digits (unseen by the classifier)."""
    dm = StackedMNISTDataModule(num_val_samples=N_EVAL, download=False)
    dm.prepare_data()
    return dm


@pytest.fixture(scope="module")
def digit_predictions(stacked: StackedMNISTDataModule, classifier: MNISTClassifier) -> torch.Tensor:
    """The classifier's digit (10000,) for each MNIST test digit, computed directly (not through
    `stacked_mnist_labels`): 10,000 forward passes instead of 3 x 26,000 keep the tests fast."""
    digits = stacked.dataset(train=False).digits  # (10000, 28, 28) uint8
    with torch.inference_mode():
        return torch.cat([classifier(to_unit_range(d[:, None])).argmax(1) for d in digits.split(2000)])


def test_modes_of_a_hand_built_histogram() -> None:
    r = stacked_mnist_modes(torch.tensor([5, 5, 5, 999]))
    assert r["modes_covered"] == 2
    # q = (3/4, 1/4) on two of 1000 modes: KL(q || 1/1000) = 3/4 log 750 + 1/4 log 250
    assert_close(r["reverse_kl"], 0.75 * math.log(750) + 0.25 * math.log(250))
    assert stacked_mnist_modes(torch.tensor([5, 5, 5, 999]), min_count=2)["modes_covered"] == 1
    assert stacked_mnist_modes(torch.arange(1000))["reverse_kl"] == pytest.approx(0.0, abs=1e-12)
    assert stacked_mnist_modes(torch.zeros(0, dtype=torch.long))["reverse_kl"] == math.inf
    with pytest.raises(ValueError, match=r"\[0, 1000\)"):
        stacked_mnist_modes(torch.tensor([0, 1000]))


@needs_mnist
def test_labels_compose_the_three_channel_predictions(stacked, classifier, digit_predictions) -> None:
    """`stacked_mnist_labels` = 100 * class(R) + 10 * class(G) + class(B), uint8 or float input."""
    images = stacked.reference_images(False, 0, 2000)
    triples = stacked.dataset(train=False).data[:2000]
    p = digit_predictions[triples]
    labels = stacked_mnist_labels(images, classifier)
    assert labels.dtype == torch.int64 and labels.shape == (2000,)
    assert torch.equal(labels, 100 * p[:, 0] + 10 * p[:, 1] + p[:, 2])
    assert torch.equal(stacked_mnist_labels(to_unit_range(images[:500]), classifier), labels[:500])
    swapped = stacked_mnist_labels(images[:500].flip(1), classifier)  # (B, G, R): digits reversed
    assert torch.equal(swapped, 100 * p[:500, 2] + 10 * p[:500, 1] + p[:500, 0])


@needs_mnist
def test_real_stacked_digits_cover_every_mode(stacked, digit_predictions) -> None:
    """26,000 real stacks: labels agree with the truth >= 97% (0.995^3 per triple), all 1000
    modes are covered and the KL is only the finite-sample bias (about 999 / (2 * 26000))."""
    val = stacked.dataset(train=False)
    p = digit_predictions[val.data]  # labels as stacked_mnist_labels gives them (test above)
    labels = 100 * p[:, 0] + 10 * p[:, 1] + p[:, 2]
    agreement = (labels == val.labels).double().mean().item()
    assert agreement >= 0.97
    r, truth = stacked_mnist_modes(labels), stacked_mnist_modes(val.labels)
    assert r["modes_covered"] >= 990 and truth["modes_covered"] == 1000
    assert r["reverse_kl"] < 0.1
    assert abs(r["reverse_kl"] - truth["reverse_kl"]) < 0.01


@needs_mnist
def test_a_collapsed_generator_covers_one_mode(stacked, classifier) -> None:
    images = stacked.reference_images(False, 0, 1).expand(1000, -1, -1, -1)  # one triple, 1000 times
    r = stacked_mnist_modes(stacked_mnist_labels(images, classifier))
    assert r["modes_covered"] == 1
    assert r["reverse_kl"] == pytest.approx(math.log(1000), abs=1e-6)


@needs_mnist
def test_32_pixel_stacks_are_resized_for_the_classifier(classifier) -> None:
    dm = StackedMNISTDataModule(image_size=32, num_val_samples=1000, download=False)
    labels = stacked_mnist_labels(dm.reference_images(False, 0, 1000), classifier)
    # 28 -> 32 -> 28 costs a little: 99.3% per digit, 97.9% per triple measured (99.5%, 98.6% native)
    assert (labels == dm.dataset(train=False).labels).double().mean() >= 0.96


def test_refuses_bad_input(classifier) -> None:
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        stacked_mnist_labels(torch.zeros(2, 1, 28, 28), classifier)
    training = MNISTClassifier().train()
    with pytest.raises(ValueError, match="training mode"):
        stacked_mnist_labels(torch.zeros(2, 3, 28, 28), training)


@needs_mnist
@pytest.mark.slow
def test_end_to_end_on_26000_real_stacks(stacked, classifier) -> None:
    """The coverage test without the per-digit shortcut (78,000 forward passes, ~25 s on 2 cores)."""
    labels = stacked_mnist_labels(stacked.reference_images(False, 0, N_EVAL), classifier)
    assert (labels == stacked.dataset(train=False).labels).double().mean() >= 0.97
    r = stacked_mnist_modes(labels)
    assert r["modes_covered"] >= 990 and r["reverse_kl"] < 0.1


@needs_mnist
def test_extractor_logits_name_the_same_modes_and_multiply_the_channel_posteriors(stacked, classifier) -> None:
    from lit_gans.metrics.extractors import StackedMNISTExtractor
    from lit_gans.metrics.scores import ImageScores

    images = stacked.reference_images(False, 0, 3000)
    extractor = StackedMNISTExtractor()
    out = extractor(images[:200])
    assert out["features"].shape == (200, 384) and out["logits"].shape == (200, 1000)
    assert torch.equal(out["logits"].argmax(1), stacked_mnist_labels(images[:200], classifier))
    p = classifier(to_unit_range(images[:1, :, None].flatten(0, 1))).softmax(1)  # (3, 10): R, G, B
    assert_close(out["logits"][0].softmax(0), torch.einsum("i,j,k->ijk", p[0], p[1], p[2]).flatten())

    scores = ImageScores(extractor, kid=False, class_histogram=True, is_splits=1)
    scores.update(images[:1500], real=True)
    scores.update(images[1500:], real=False)
    result = scores.compute()
    assert result["classes_covered"] > 700  # 1,500 draws from ~1000 equally likely modes cover ~78%
    assert result["is"] > 500  # confident and spread over the modes
    scores.reset()
    scores.update(images[1500:1501].repeat(1500, 1, 1, 1), real=False)  # one image: total collapse
    collapsed = scores.compute()
    assert collapsed["classes_covered"] == 1 and collapsed["is"] < 1.01
    assert result["fid"] < 0.1 * collapsed["fid"]  # two halves of one distribution vs a collapse
