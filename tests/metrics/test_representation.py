"""k-NN and linear-probe accuracy of codes, and the EncoderMetrics callback that logs them with their floors."""

from collections.abc import Callable

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from lit_gans.callbacks import EncoderMetrics
from lit_gans.metrics.representation import (
    knn_accuracy,
    linear_probe_accuracy,
    representation_scores,
)
from lit_gans.training import instantiate_datamodule

Compose = Callable[..., DictConfig]


def test_knn_votes_among_the_k_nearest_train_codes() -> None:
    train_x, train_y = torch.tensor([[0.0], [1.0], [10.0]]), torch.tensor([0, 0, 1])
    test_x, test_y = torch.tensor([[0.2], [9.0]]), torch.tensor([0, 1])
    assert knn_accuracy(train_x, train_y, test_x, test_y, k=1) == 1.0
    assert knn_accuracy(train_x, train_y, test_x, test_y, k=3) == 0.5  # both vote 0 (two of three neighbours)
    assert knn_accuracy(train_x, train_y, test_x, test_y, k=1, chunk=1) == 1.0
    with pytest.raises(ValueError, match="k must be"):
        knn_accuracy(train_x, train_y, test_x, test_y, k=4)


def test_the_linear_probe_separates_linearly_separable_codes_and_not_noise(one_thread: None) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 5, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 3] > 0).long()
    assert linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:]) >= 0.97
    noise = torch.randn(400, 5, generator=g)
    assert linear_probe_accuracy(noise[:300], y[:300], noise[300:], y[300:]) < 0.7
    # deterministic: the same numbers twice
    assert linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:]) == linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:])
    assert set(representation_scores(x[:300], y[:300], x[300:], y[300:], ks=(1, 5))) == {
        "knn1_accuracy", "knn5_accuracy", "linear_probe_accuracy"}


@pytest.mark.parametrize("name", ["bigan", "mrgan"])
def test_encoder_metrics_score_the_codes_and_the_floors_once(compose_cfg: Compose, one_thread: None, name: str) -> None:
    cfg = compose_cfg(f"model={name}", "data=ring8", "data.num_samples=400", "+data.num_val_samples=300")
    model = instantiate(cfg.model, _recursive_=False)
    datamodule = instantiate_datamodule(cfg.data)
    callback = EncoderMetrics(num_train=200, num_test=300, ks=(1, 5), batch_size=128)
    values = callback.evaluate(datamodule, model)
    names = {"knn1_accuracy", "knn5_accuracy", "linear_probe_accuracy"}
    assert set(values) == {"reconstruction_mse"} | names | {f"{n}_pixels" for n in names} | {f"{n}_random_encoder" for n in names}
    assert all(0 <= values[n] <= 1 for n in names) and values["reconstruction_mse"] > 0
    assert values["knn1_accuracy_pixels"] > 0.9  # ring8's components are far apart in the plane
    floors = callback.floors
    assert callback.evaluate(datamodule, model) == values and callback.floors is floors  # deterministic, floors kept
    gan = instantiate(compose_cfg("model=gan", "data=ring8").model, _recursive_=False)

    class Trainer:  # only what on_validation_epoch_end reads before it returns
        sanity_checking = False
    callback.last = {}
    callback.on_validation_epoch_end(Trainer(), gan)  # no encoder: nothing computed
    assert callback.last == {}


def test_encoder_metrics_compose_beside_the_default_callbacks(compose_cfg: Compose) -> None:
    cfg = compose_cfg("model=bigan", "callbacks=[default,encoder_metrics]", quiet=False)
    assert {"samples", "model_checkpoint", "encoder_metrics"} <= set(cfg.callbacks)
    assert isinstance(instantiate(cfg.callbacks.encoder_metrics), EncoderMetrics)
