"""The Inception path without network: weights from a file, resizing, channels, errors.

The weights here are random (plumbing only); the real file cannot be downloaded on this machine.
"""

import urllib.error
from pathlib import Path

import pytest
import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

from lit_gans.metrics import extractors
from lit_gans.metrics.extractors import INCEPTION_FILE, InceptionExtractor, InceptionWeightsError
from lit_gans.metrics.scores import ImageScores


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised torch-fidelity Inception state dict saved to a file."""
    original = FeatureExtractorInceptionV3.load_state_dict
    FeatureExtractorInceptionV3.load_state_dict = lambda self, state: None  # keep the random init
    try:
        import torch_fidelity.feature_extractor_inceptionv3 as module

        saved_loader = module.load_state_dict_from_url
        module.load_state_dict_from_url = lambda *a, **k: {}
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
        module.load_state_dict_from_url = saved_loader
    finally:
        FeatureExtractorInceptionV3.load_state_dict = original
    torch.manual_seed(0)
    for conv in (m for m in net.modules() if isinstance(m, torch.nn.Conv2d)):  # keep the signal alive in depth,
        torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")  # so features depend on the image
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(net.state_dict(), path)
    return path


def test_features_match_torch_fidelity_on_the_same_uint8_images(random_weights: Path) -> None:
    ours = InceptionExtractor(random_weights, antialias=False)
    reference = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(random_weights)
    )
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    out = ours(images)
    ref_features, ref_logits = reference(images)
    assert out["features"].shape == (3, 2048) and out["logits"].shape == (3, 1008)
    torch.testing.assert_close(out["features"], ref_features)
    torch.testing.assert_close(out["logits"], ref_logits)


def test_grayscale_is_repeated_to_rgb_and_any_size_is_resized(random_weights: Path) -> None:
    net = InceptionExtractor(random_weights)
    gray = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(net(gray)["features"], net(gray.expand(-1, 3, -1, -1))["features"])
    features = net(gray)["features"]
    assert (features[0] - features[1]).abs().max() > 1e-3 * features.abs().max()  # the images are told apart
    antialiased = InceptionExtractor(random_weights, antialias=True)(gray)["features"]
    assert not torch.allclose(antialiased, features, rtol=1e-3)  # the two resizers differ on small images


def test_scores_through_inception_are_finite(random_weights: Path) -> None:
    scores = ImageScores(InceptionExtractor(random_weights), kid_subsets=2, is_splits=2)
    gen = torch.Generator().manual_seed(3)
    scores.update(torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8, generator=gen), real=True)
    scores.update(torch.randint(0, 128, (4, 3, 32, 32), dtype=torch.uint8, generator=gen), real=False)
    out = scores.compute()
    assert set(out) == {"fid", "kid", "kid_std", "is", "is_std"}
    assert all(torch.isfinite(torch.tensor(v)) for v in out.values())
    assert out["fid"] > 0


def test_missing_weights_name_the_file_and_where_to_put_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InceptionWeightsError, match="metrics.inception_weights=.*not a file"):
        extractors.resolve_inception_weights(tmp_path / "nope.pth")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)

    def offline(url: str, dst: str, **kwargs: object) -> None:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(InceptionWeightsError) as err:
        extractors.resolve_inception_weights(None)
    message = str(err.value)
    assert INCEPTION_FILE in message and str(tmp_path / "torch" / "hub" / "checkpoints") in message
    assert "metrics.inception_weights=" in message


def test_weights_in_the_hub_cache_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, random_weights: Path) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    cached = tmp_path / "hub" / "checkpoints" / INCEPTION_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(random_weights.read_bytes())
    assert extractors.resolve_inception_weights(None) == cached
