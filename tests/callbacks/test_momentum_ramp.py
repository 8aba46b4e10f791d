"""MomentumRamp: LAPGAN's momentum after k epochs is min(0.5 + k·0.0008, 0.8); resume continues the ramp exactly;
optimizers without momentum are refused naming the fix; experiment=lapgan_cifar10 uses it."""

from pathlib import Path
from typing import Any, Callable

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig

from helpers import assert_same_state
from lit_gans.callbacks import MomentumRamp
from lit_gans.data import Ring, ToyDataModule
from lit_gans.models import GAN
from lit_gans.training import instantiate_dict

TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 3, "out_shape": [2], "hidden": [8],
         "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8]}
SGD = {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.02, "momentum": 0.5}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 2e-4}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}


def fit(epochs: int, ramp: MomentumRamp, root: Path | None = None, ckpt_path: Path | None = None,
        optimizer_d: dict = SGD) -> GAN:
    torch.manual_seed(0)
    model = GAN(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=SGD, optimizer_d=optimizer_d, latent_dim=3)
    data = ToyDataModule(Ring(), num_samples=3 * 16, batch_size=16, num_val_samples=16)
    callbacks: list[L.Callback] = [ramp]
    if root is not None:  # a checkpoint at every epoch end, as the default PeriodicCheckpoint
        callbacks.append(ModelCheckpoint(dirpath=root, filename="{epoch}", save_top_k=-1, every_n_epochs=1))
    trainer = L.Trainer(accelerator="cpu", max_epochs=epochs, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0, callbacks=callbacks,
                        enable_checkpointing=root is not None)
    trainer.fit(model, datamodule=data, ckpt_path=ckpt_path)
    return model


def momenta(model: GAN) -> list[float]:
    return [group["momentum"] for opt in model.trainer.optimizers for group in opt.param_groups]


@pytest.mark.usefixtures("one_thread")
def test_after_k_epochs_the_momentum_is_the_papers_ramp() -> None:
    for k in (1, 3):
        model = fit(k, MomentumRamp(step=0.0008, max_momentum=0.8))
        assert momenta(model) == pytest.approx([min(0.5 + k * 0.0008, 0.8)] * 2, abs=1e-12)
        assert model.trainer.callback_metrics["train/momentum"].item() == pytest.approx(0.5 + k * 0.0008)
    # the cap: 0.5 -> 0.65 -> 0.8 -> 0.8 (never past it)
    assert momenta(fit(3, MomentumRamp(step=0.15, max_momentum=0.8))) == pytest.approx([0.8, 0.8], abs=1e-12)
    # named players only: D ramps, G keeps its 0.5
    assert momenta(fit(2, MomentumRamp(step=0.1, players=["d"]))) == pytest.approx([0.5, 0.7], abs=1e-12)


@pytest.mark.usefixtures("one_thread")
def test_a_resumed_run_continues_the_ramp_exactly(tmp_path: Path) -> None:
    full = fit(3, MomentumRamp(step=0.1), root=tmp_path / "full")
    saved = torch.load(tmp_path / "full" / "epoch=0.ckpt", weights_only=True)
    # the epoch-end checkpoint holds the momentum raised by that epoch's end (the ramp runs before the save)
    assert [g["momentum"] for s in saved["optimizer_states"] for g in s["param_groups"]] == pytest.approx([0.6, 0.6])
    resumed = fit(3, MomentumRamp(step=0.1), ckpt_path=tmp_path / "full" / "epoch=0.ckpt")
    assert momenta(full) == momenta(resumed) == pytest.approx([0.8, 0.8], abs=1e-12)
    assert_same_state(full, resumed)


def test_an_optimizer_without_momentum_is_refused_naming_the_fix() -> None:
    with pytest.raises(ValueError, match=r"optimizer of 'd' is Adam, which has none.*Fix: .*lapgan_sgd"):
        fit(1, MomentumRamp(), optimizer_d=ADAM)
    with pytest.raises(ValueError, match=r"players names \['q'\].*\['g', 'd'\]"):
        fit(1, MomentumRamp(players=["q"]))
    with pytest.raises(ValueError, match="max_momentum"):
        MomentumRamp(max_momentum=1.0)


def test_the_cifar10_experiment_ramps_every_levels_sgd(compose_cfg: Callable[..., DictConfig]) -> None:
    cfg = compose_cfg("experiment=lapgan_cifar10", quiet=False)
    ramps = [c for c in instantiate_dict(cfg.callbacks) if isinstance(c, MomentumRamp)]
    assert len(ramps) == 1 and (ramps[0].step, ramps[0].max_momentum, ramps[0].players) == (0.0008, 0.8, None)
    assert cfg.model.optimizer_g.momentum == cfg.model.optimizer_d.momentum == 0.5
