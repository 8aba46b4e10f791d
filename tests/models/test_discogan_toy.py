"""DiscoGAN's toy (Kim et al. 2017, Figure 3): the 2-D unpaired mixtures, the mode-mapping count, and the toy models
of benchmarks/translation_toy.py (the learning comparison itself is measured by the benchmark, not tested here)."""

import pytest
import torch

from helpers import load_benchmark
from lit_gans.data import MixturePairsDataModule, Unpaired
from lit_gans.data.toy import line_mixture
from lit_gans.metrics.modes import mode_mapping


@pytest.fixture(scope="module")
def toy():  # noqa: ANN201 - the benchmark module
    return load_benchmark("translation_toy", "translation_toy")


def test_mode_mapping_counts_by_hand() -> None:
    centers, stds = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]), torch.full((3,), 0.1)
    # source mode 0: 3 points to target 1, 1 to target 0; source mode 1: 2 to target 1, 1 off every mode
    source = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    translated = torch.tensor([[10.0, 0.1], [10.1, 0.0], [9.9, 0.0], [0.0, 0.0], [10.0, 0.0], [10.0, -0.1], [5.0, 5.0]])
    result = mode_mapping(source, translated, centers, stds, n_source=2, min_fraction=0.25)
    assert result["counts"].tolist() == [[1, 3, 0, 0], [0, 2, 0, 1]]
    assert result["majority"].tolist() == [1, 1]
    assert result["distinct"] == 1  # both source modes sent to target mode 1
    assert result["modes_covered"] == 2  # target 1, and target 0 with 1/4 of source mode 0 (>= 0.25)
    assert result["in_mode"] == pytest.approx(6 / 7)
    assert mode_mapping(source, translated, centers, stds, n_source=2, min_fraction=0.3)["modes_covered"] == 1


def test_mixture_pairs_are_unpaired_points_with_their_modes_deterministic_in_the_seed() -> None:
    data = MixturePairsDataModule(num_samples=512, num_val_samples=256, batch_size=128, seed=3)
    batch = next(iter(data.val_dataloader()))
    assert isinstance(batch, Unpaired) and batch.a.shape == (128, 2) and batch.b.shape == (128, 2)
    assert_a = data.a.centers[batch.labels_a]
    assert (batch.a - assert_a).norm(dim=1).max() < 0.6  # each point near its own A mode (std 0.1)
    assert set(batch.labels_a.tolist()) <= set(range(5)) and set(batch.labels_b.tolist()) <= set(range(10))
    again = next(iter(MixturePairsDataModule(num_samples=512, num_val_samples=256, batch_size=128, seed=3).val_dataloader()))
    assert torch.equal(batch.a, again.a) and torch.equal(batch.b, again.b)
    # A and B drawn independently: A's mode says nothing about B's (no pairing to learn from)
    val = data._draw(4000, 0)
    la, lb = torch.stack([v[2] for v in val]), torch.stack([v[3] for v in val])
    joint = torch.zeros(5, 10)
    joint.index_put_((la, lb), torch.ones(len(la)), accumulate=True)
    expected = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True) / len(la)
    assert ((joint - expected) ** 2 / expected).sum() < 80  # chi-square, 36 d.o.f.: far below any dependence
    assert line_mixture(5).centers[:, 0].tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]


def test_the_toy_models_translate_points_with_mlps(toy) -> None:
    for architecture in ("gan", "recongan", "discogan"):
        model = toy.toy_model(architecture)
        assert model.translate(torch.zeros(7, 2), "AtoB").shape == (7, 2)
        assert model.d_scores(torch.zeros(7, 2)).shape == (7, 1)
