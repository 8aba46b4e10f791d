"""FID / KID / IS over precomputed features: the maths against a direct scipy computation."""

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import Tensor, nn

from lit_gans.metrics.extractors import to_uint8
from lit_gans.metrics.scores import ClassHistogram, ImageScores


class ProjectionFeatures(nn.Module):
    """A small fixed extractor: a random projection of the pixels (features) and of those (logits)."""

    num_features, num_logits = 16, 5

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.proj = torch.randn(3 * 8 * 8, self.num_features, generator=gen) / 8
        self.head = torch.randn(self.num_features, self.num_logits, generator=gen)

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        features = (images.float() / 255).flatten(1) @ self.proj
        return {"features": features, "logits": features @ self.head}


def _images(n: int, seed: int, shift: float = 0.0) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return to_uint8((torch.rand(n, 3, 8, 8, generator=gen) * 1.6 - 0.8 + shift))


def scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    """Heusel et al. 2017, eq. (6): ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s_a @ s_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean))


def test_fid_matches_scipy_and_is_zero_against_itself() -> None:
    extractor = ProjectionFeatures()
    real, fake = _images(600, 0), _images(700, 1, shift=0.1)
    scores = ImageScores(extractor, kid=False, inception_score=False)
    for chunk in real.split(128):  # batch boundaries must not matter (float64 sums)
        scores.update(chunk, real=True)
    scores.update(fake, real=False)
    expected = scipy_fid(extractor(real)["features"].double().numpy(), extractor(fake)["features"].double().numpy())
    assert expected > 0.05
    torch.testing.assert_close(scores.compute()["fid"], expected, rtol=1e-6, atol=0)

    scores.reset()  # real statistics stay, fakes go
    scores.update(real, real=False)
    assert abs(scores.compute()["fid"]) < 1e-8


def test_kid_and_inception_score_match_direct_formulas() -> None:
    extractor = ProjectionFeatures()
    real, fake = _images(300, 2), _images(300, 3, shift=0.2)
    scores = ImageScores(extractor, fid=False, kid_subset_size=300, kid_subsets=1, is_splits=1)
    scores.update(real, real=True)
    scores.update(fake, real=False)
    out = scores.compute()

    # KID (Binkowski et al. 2018, eq. 4): unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3 on one full subset
    x, y = extractor(real)["features"].double(), extractor(fake)["features"].double()
    d, m = x.shape[1], len(x)
    k = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    mmd = (kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (m * (m - 1)) - 2 * kxy.mean()
    torch.testing.assert_close(out["kid"], float(mmd), rtol=1e-4, atol=1e-6)

    # IS (Salimans et al. 2016): exp E_x KL(p(y|x) || p(y)), one split
    p = extractor(fake)["logits"].double().softmax(1)
    expected_is = torch.exp((p * (p.log() - p.mean(0).log())).sum(1).mean())
    torch.testing.assert_close(out["is"], float(expected_is), rtol=1e-5, atol=0)


def test_compute_leaves_the_global_rng_alone() -> None:
    scores = ImageScores(ProjectionFeatures(), kid_subset_size=50, kid_subsets=5, is_splits=2)
    scores.update(_images(100, 4), real=True)
    scores.update(_images(100, 5), real=False)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = scores.compute()
    assert torch.equal(torch.rand(3), expected)  # KID / IS subsets did not consume the global stream
    assert scores.compute() == first  # and are the same every time


def test_kid_subset_size_shrinks_to_the_samples_available() -> None:
    scores = ImageScores(ProjectionFeatures(), fid=False, inception_score=False, kid_subset_size=1000)
    scores.update(_images(40, 6), real=True)
    scores.update(_images(30, 7), real=False)
    assert np.isfinite(scores.compute()["kid"])


def test_update_refuses_float_images() -> None:
    scores = ImageScores(ProjectionFeatures())
    with pytest.raises(TypeError, match="uint8"):
        scores.update(torch.zeros(2, 3, 8, 8), real=True)


def test_class_histogram_counts_modes_and_kl() -> None:
    hist = ClassHistogram(num_classes=4)
    hist.update(torch.tensor([0, 0, 1, 1]))
    out = hist.compute()
    assert out["classes_covered"] == 2
    torch.testing.assert_close(out["class_kl"], float(np.log(2)))  # q = (½, ½, 0, 0)
    hist.reset()
    hist.update(torch.arange(4).repeat(5))
    assert hist.compute()["classes_covered"] == 4 and abs(float(hist.compute()["class_kl"])) < 1e-12


def test_to_uint8_maps_generator_range_to_pixels() -> None:
    x = torch.tensor([-1.5, -1.0, 0.0, 1.0, 2.0])
    assert to_uint8(x).tolist() == [0, 0, 128, 255, 255]


def test_code_accuracy_finds_the_best_matching_and_noise_scores_chance() -> None:
    from lit_gans.metrics.scores import ConditionAccuracy

    perm = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    perfect = ConditionAccuracy(10, 10)
    noise = ConditionAccuracy(10, 10)
    gen = torch.Generator().manual_seed(1)
    for code in range(10):
        perfect.update(code, torch.full((100,), int(perm[code])))  # code k always draws digit perm[k]
        noise.update(code, torch.randint(10, (1000,), generator=gen))
    assert perfect.compute()["code_accuracy"] == 1.0
    assert perfect.compute()["class_accuracy"] == pytest.approx(float((perm == torch.arange(10)).sum()) / 10)
    assert 0.09 < noise.compute()["code_accuracy"] < 0.13  # chance, plus the matching's small optimism
