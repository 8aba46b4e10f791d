"""Historical averaging (Salimans et al. 2016, Section 3.3): the running mean, the penalty and its
gradient, the exact effect on a D step, checkpoints, config errors."""

from typing import Any

import lightning as L
import pytest
import torch
from torch import nn
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.models import GAN
from lit_gans.models.historical_averaging import HistoricalAverage

TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [2], "hidden": [8], "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8]}
SGD = {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.1}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}


def test_penalty_is_the_distance_to_the_mean_of_all_values_so_far() -> None:
    w = nn.Parameter(torch.tensor([1.0, -2.0]))
    history = HistoricalAverage()
    assert history.penalty([w]).item() == 0.0  # t = 1: the mean is θ[1] itself
    seen = [w.detach().clone()]
    for value in ([3.0, 0.0], [2.0, 4.0]):
        w.data = torch.tensor(value)
        seen.append(w.detach().clone())
        term = history.penalty([w])
    mean = torch.stack(seen).mean(0)  # (1, −2), (3, 0), (2, 4) -> (2, 2/3)
    assert_close(history.mean[0], mean)
    assert_close(term, ((torch.tensor([2.0, 4.0]) - mean) ** 2).sum())
    (grad,) = torch.autograd.grad(term, w)
    assert_close(grad, 2 * (w.detach() - mean))  # the mean is a constant
    restored = HistoricalAverage()
    restored.load_state_dict(history.state_dict())
    assert restored.count == 3 and torch.equal(restored.mean[0], history.mean[0])


def gan(**overrides: Any) -> GAN:
    kw = dict(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=SGD, optimizer_d=SGD, latent_dim=4)
    return GAN(**{**kw, **overrides})


class RecordParameters(L.Callback):
    """Both players' parameters at the start of every batch (= before its D step and G step)."""

    def __init__(self) -> None:
        self.snapshots: list[dict[str, list[torch.Tensor]]] = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        self.snapshots.append({"d": [p.detach().clone() for p in pl_module.discriminator.parameters()],
                               "g": [p.detach().clone() for p in pl_module.generator.parameters()]})


def fit(model: GAN, batches: int, callbacks: list[L.Callback] = ()) -> None:
    torch.manual_seed(1)
    x = torch.randn(16 * batches, 2)
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False, callbacks=list(callbacks),
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, DataLoader(TensorDataset(x, torch.zeros(len(x))), batch_size=16))


@pytest.mark.parametrize("player, other", [("d", "g"), ("g", "d")])
def test_a_players_step_gains_exactly_the_penalty_gradient(player: str, other: str) -> None:
    weight, lr = 0.5, SGD["lr"]
    torch.manual_seed(0)
    plain = gan()
    torch.manual_seed(0)
    averaged = gan(historical_averaging={"weight": weight, "players": [player]})
    record = RecordParameters()
    fit(plain, 2, [record])
    fit(averaged, 2)
    net = {"d": "discriminator", "g": "generator"}
    first, second = (snap[player] for snap in record.snapshots)  # θ[1], θ[2]: equal in both runs (the term is 0 at t = 1)
    # the player's 2nd SGD step gains 2λ(θ2 − (θ1 + θ2)/2) = λ(θ2 − θ1): the runs end −η λ (θ2 − θ1) apart
    for p_avg, p_plain, a, b in zip(getattr(averaged, net[player]).parameters(), getattr(plain, net[player]).parameters(), first, second):
        assert_close(p_avg - p_plain, -lr * weight * (b - a))
    if player == "g":  # D's two steps came before G's second one: D is untouched by G's term
        for p_avg, p_plain in zip(averaged.discriminator.parameters(), plain.discriminator.parameters()):
            assert torch.equal(p_avg, p_plain)
    assert averaged._history[player].count == 2 and other not in averaged._history
    assert averaged.historical_averaging_term(other) == 0.0


def test_averages_travel_with_checkpoints() -> None:
    model = gan(historical_averaging={"weight": 0.1})
    fit(model, 3)
    checkpoint: dict[str, Any] = {}
    model.on_save_checkpoint(checkpoint)
    fresh = gan(historical_averaging={"weight": 0.1})
    fresh.on_load_checkpoint(checkpoint)
    for which in ("d", "g"):
        assert fresh._history[which].count == model._history[which].count > 0
        for a, b in zip(fresh._history[which].mean, model._history[which].mean):
            assert torch.equal(a, b)


@pytest.mark.parametrize("cfg", [{"weight": -1.0}, {"weight": 1.0, "players": ["q"]}, {"lambda": 1.0}])
def test_bad_configs_are_refused(cfg: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="historical_averaging takes"):
        gan(historical_averaging=cfg)


def test_fgan_single_step_refuses_it() -> None:
    from lit_gans.models.fgan import FGAN

    loss = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.minimax_generator_loss"}
    with pytest.raises(ValueError, match="historical_averaging=null"):
        FGAN(generator=TOY_G, discriminator=TOY_D, loss=loss, optimizer_g=SGD, optimizer_d=SGD, latent_dim=4,
             single_step=True, historical_averaging={"weight": 1.0})
