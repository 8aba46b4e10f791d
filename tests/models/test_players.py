"""Players and steps: a model with more than two networks and more than two updates runs on the one skeleton."""

from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from torch import Tensor

from lit_gans.models.base import AdversarialModule
from lit_gans.models.steps import BatchState, Step
from models.test_skeleton import ADAM, NS, TOY_D, adam_steps, loader, snapshot, toy_kwargs

TOY_E = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8]}  # x -> (B,) "code"


class ThreePlayers(AdversarialModule):
    """A toy with an encoder as a third player: D step every batch, then G, then E every second batch; G's step
    leaves its fake in the batch cache and E's step reads it back."""

    players = {"g": ("generator",), "d": ("discriminator",), "e": ("encoder",)}
    steps = (Step("d", "discriminator_step", after="after_discriminator_step"),
             Step("g", "generator_step_cached"),
             Step("e", "encoder_step", due="encoder_step_due"))

    def __init__(self, *args: Any, optimizer_e: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from hydra.utils import instantiate
        self.encoder = instantiate(TOY_E)
        self.calls: list[tuple[str, int]] = []

    def after_discriminator_step(self) -> None:
        self.calls.append(("after_d", -1))

    def generator_step_cached(self, state: BatchState) -> tuple[Tensor, dict[str, Tensor]]:
        self.calls.append(("g", state.batch_idx))
        assert "fake" not in state.cache  # a new batch starts with an empty cache
        state.cache["fake"] = self.sample_fake(len(state.real))
        return self.generator_loss(state.real, state.cache["fake"])

    def encoder_step(self, state: BatchState) -> tuple[Tensor, dict[str, Tensor]]:
        self.calls.append(("e", state.batch_idx))
        fake = state.cache["fake"].detach()  # G's fake of this batch, not a new one
        loss = self.encoder(fake).pow(2).mean()
        return loss, {"train/e_loss": loss}

    def encoder_step_due(self, batch_idx: int) -> bool:
        return batch_idx % 2 == 1

    def discriminator_step(self, state: BatchState) -> tuple[Tensor, dict[str, Tensor]]:
        self.calls.append(("d", state.batch_idx))
        return super().discriminator_step(state)


def three_players(**overrides: Any) -> ThreePlayers:
    return ThreePlayers(**toy_kwargs(optimizer_e={**ADAM, "lr": 1e-2}, **overrides))


def fit(model: L.LightningModule, n_batches: int, **kwargs: Any) -> L.Trainer:
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, **kwargs)
    trainer.fit(model, loader(n_batches))
    return trainer


def test_steps_run_in_order_with_their_schedule_and_each_player_has_its_optimizer() -> None:
    torch.manual_seed(0)
    model = three_players()
    trainer = fit(model, 4)
    assert model.calls == [("d", 0), ("after_d", -1), ("g", 0),
                           ("d", 1), ("after_d", -1), ("g", 1), ("e", 1),
                           ("d", 2), ("after_d", -1), ("g", 2),
                           ("d", 3), ("after_d", -1), ("g", 3), ("e", 3)]
    opt_g, opt_d, opt_e = (o.optimizer for o in model.optimizers())  # in `players` order
    assert (adam_steps(opt_g), adam_steps(opt_d), adam_steps(opt_e)) == (4, 4, 2)
    assert opt_e.param_groups[0]["lr"] == 1e-2
    assert {id(p) for p in opt_e.param_groups[0]["params"]} == {id(p) for p in model.encoder.parameters()}
    assert trainer.global_step == 10
    assert "train/e_loss" in trainer.callback_metrics


def test_each_step_moves_only_its_players_networks() -> None:
    torch.manual_seed(0)
    model = three_players()
    moved: dict[str, set[str]] = {}

    def watch(name: str, method: str) -> None:
        original = getattr(model, method)

        def wrapped(state: BatchState) -> Any:
            before = {net: snapshot(getattr(model, net)) for net in ("generator", "discriminator", "encoder")}
            result = original(state)
            model._pending = (name, before)
            return result
        setattr(model, method, wrapped)

    for name, method in (("d", "discriminator_step"), ("g", "generator_step_cached"), ("e", "encoder_step")):
        watch(name, method)
    real_step = model._step

    def step_and_compare(optimizer: Any, loss: Tensor, which: str) -> None:
        real_step(optimizer, loss, which)
        name, before = model._pending
        moved[name] = {net for net, params in before.items()
                       if any(not torch.equal(a, b) for a, b in zip(params, snapshot(getattr(model, net))))}
    model._step = step_and_compare
    fit(model, 2)
    assert moved == {"d": {"discriminator"}, "g": {"generator"}, "e": {"encoder"}}


def test_a_schedule_naming_an_undeclared_player_fails_when_the_class_is_defined() -> None:
    with pytest.raises(ValueError, match=r"steps name players \['q'\] not declared"):
        type("Broken", (AdversarialModule,), {"steps": (Step("q", "generator_step"),)})


def test_a_player_without_an_optimizer_config_is_named() -> None:
    model = ThreePlayers(**toy_kwargs())  # no optimizer_e
    with pytest.raises(ValueError, match="player 'e' but no model.optimizer_e"):
        model.configure_optimizers()


def test_every_players_optimizer_resumes_exactly(tmp_path: Path) -> None:
    """4 batches, a checkpoint, 4 more == 8 batches at once: weights and all three Adam states."""
    def run(max_epochs: int, ckpt: Path | None = None, save: Path | None = None) -> ThreePlayers:
        torch.manual_seed(0)
        model = three_players()
        trainer = L.Trainer(accelerator="cpu", max_epochs=max_epochs, logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(model, loader(4), ckpt_path=ckpt)
        if save is not None:
            trainer.save_checkpoint(save)
        return model

    full = run(2)  # 2 epochs of 4 batches: 8 D, 8 G, 4 E steps
    run(1, save=tmp_path / "half.ckpt")
    saved = torch.load(tmp_path / "half.ckpt", weights_only=True)
    assert len(saved["optimizer_states"]) == 3
    resumed = run(2, ckpt=tmp_path / "half.ckpt")
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(full.optimizers(), resumed.optimizers()):
        assert adam_steps(a.optimizer) == adam_steps(b.optimizer)


def test_two_player_models_keep_their_optimizer_order_and_parameters() -> None:
    """Checkpoints of every existing model store [optimizer_g, optimizer_d]; InfoGAN's D player owns Q too."""
    from lit_gans.models import GAN
    model = GAN(**toy_kwargs(discriminator=TOY_D, loss=NS))
    opt_g, opt_d = model.configure_optimizers()
    assert [id(p) for p in opt_g.param_groups[0]["params"]] == [id(p) for p in model.generator.parameters()]
    assert [id(p) for p in opt_d.param_groups[0]["params"]] == [id(p) for p in model.discriminator.parameters()]
