"""GeneratorEMA: the average follows its formula per G step, only G is averaged (BatchNorm buffers copied),
training is unchanged by it, samples / metrics / checkpoints / sample.py see the average, resume restores it."""

from pathlib import Path
from typing import Any, Callable

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig
from torch.testing import assert_close

from lit_gans.callbacks.ema import LIVE_KEY, GeneratorEMA, ema_weights
from lit_gans.callbacks.generator_metrics import GeneratorMetrics
from lit_gans.callbacks.samples import SampleGrid
from lit_gans.data import Ring, ToyDataModule
from lit_gans.models import GAN
from lit_gans.sampling import load_model

# G with BatchNorm: its running statistics must be copied, not averaged
TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 3, "out_shape": [2], "hidden": [8],
         "output_activation": "none", "batch_norm": True}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [8]}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.05}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss"}
DECAY, START, N_CRITIC, BATCHES = 0.7, 1, 2, 4  # per epoch: 4 D steps, 2 G steps


class Spy(L.Callback):
    """G's weights before training, after every G step, and whenever the model draws samples."""

    def __init__(self) -> None:
        self.initial: list[torch.Tensor] = []
        self.after_g_step: list[list[torch.Tensor]] = []
        self.sampled_with: list[list[torch.Tensor]] = []

    def on_train_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        if not self.initial:
            self.initial = params(pl_module.generator)
        original = pl_module.sample_images

        def spy(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
            self.sampled_with.append(params(pl_module.generator))
            return original(n, generator=generator)

        pl_module.sample_images = spy  # what GeneratorMetrics calls

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if (batch_idx + 1) % N_CRITIC == 0:
            self.after_g_step.append(params(pl_module.generator))


def params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def fit(root: Path, epochs: int, ema: bool, ckpt_path: Path | None = None) -> dict[str, Any]:
    torch.manual_seed(0)
    model = GAN(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=3,
                n_critic=N_CRITIC)
    data = ToyDataModule(Ring(), num_samples=BATCHES * 16, batch_size=16, num_val_samples=16)
    cb = {"spy": Spy(), "samples": SampleGrid(every_n_batches=2, num_samples=16),
          "metrics": GeneratorMetrics(features="mixture", num_samples=32, batch_size=32),
          "ckpt": ModelCheckpoint(dirpath=root / "checkpoints", save_last=True, save_top_k=0)}
    if ema:
        cb["ema"] = GeneratorEMA(decay=DECAY, start_step=START)
    trainer = L.Trainer(accelerator="cpu", max_epochs=epochs, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=root, callbacks=list(cb.values()))
    trainer.fit(model, datamodule=data, ckpt_path=ckpt_path)
    return {"model": model, "trainer": trainer, **cb}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Two epochs with and without the average, and the same two epochs as one epoch + resume."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: one thread is fastest on a busy machine
    root = tmp_path_factory.mktemp("ema")
    out = {"ema": fit(root / "ema", 2, ema=True), "plain": fit(root / "plain", 2, ema=False)}
    first = fit(root / "resume", 1, ema=True)
    out["resumed"] = fit(root / "resume", 2, ema=True, ckpt_path=Path(first["ckpt"].last_model_path))
    out["first"] = first
    torch.set_num_threads(threads)
    return out


def test_average_equals_the_formula_from_the_recorded_generator_weights(runs: dict) -> None:
    run = runs["ema"]
    recorded = run["spy"].after_g_step
    assert len(recorded) == 2 * BATCHES // N_CRITIC == run["ema"].num_updates == 4
    expected = [p.double() for p in run["spy"].initial]  # E_0: G's initial weights
    for t, theta in enumerate(recorded, start=1):  # E_t = θ_t while t ≤ start_step, then d·E + (1 − d)·θ_t
        expected = [th.double() if t <= START else DECAY * e + (1 - DECAY) * th.double() for e, th in zip(expected, theta)]
    ema_params = list(run["ema"].ema.parameters())
    for got, want in zip(ema_params, expected, strict=True):
        assert_close(got.double(), want, rtol=1e-5, atol=1e-6)
    live = list(run["model"].generator.parameters())
    assert all(not torch.allclose(e, p) for e, p in zip(ema_params, live))  # it is an average, not a copy


def test_batchnorm_buffers_are_copied_and_only_the_generator_is_averaged(runs: dict) -> None:
    run = runs["ema"]
    ema, g = run["ema"].ema, run["model"].generator
    assert set(ema.state_dict()) == set(g.state_dict())  # G's entries only: D and its optimizer are not in it
    buffers = dict(g.named_buffers())
    assert any("running_mean" in n for n in buffers)
    for name, buffer in ema.named_buffers():  # the last G step's statistics, exactly
        assert_close(buffer, buffers[name], rtol=0, atol=0)
    assert not torch.equal(buffers["net.1.running_mean"], torch.zeros(8))  # there was something to copy


def test_training_is_unchanged_by_the_average(runs: dict) -> None:
    """D trains from its own weights and G from the trained (not averaged) weights, although samples and metrics
    swapped the average in and out of G several times."""
    with_ema, plain = runs["ema"]["model"].state_dict(), runs["plain"]["model"].state_dict()
    for name, value in plain.items():
        assert_close(with_ema[name], value, rtol=0, atol=0, msg=name)


def test_samples_and_metrics_see_the_average(runs: dict) -> None:
    run = runs["ema"]
    model, ema, samples = run["model"], run["ema"], run["samples"]
    z = samples.fixed_latent(model)
    with torch.no_grad():
        averaged, live = ema.ema.eval()(z), model.generator.eval()(z)
    step, points = samples.points[-1]
    assert step == run["trainer"].global_step
    assert_close(points, averaged)
    assert not torch.allclose(points, live)
    # GeneratorMetrics drew its samples at each validation (end of each epoch); the last one after the last G step
    assert len(run["spy"].sampled_with) == 2
    for got, want in zip(run["spy"].sampled_with[-1], ema.ema.parameters(), strict=True):
        assert_close(got, want, rtol=0, atol=0)
    averaged_weights, trained_weights = params(ema.ema), params(model.generator)
    with ema_weights(run["trainer"], model):  # the helper both callbacks use: a swap, undone on exit
        assert all(torch.equal(a, b) for a, b in zip(model.generator.parameters(), averaged_weights))
    assert all(torch.equal(a, b) for a, b in zip(model.generator.parameters(), trained_weights))
    assert all(torch.equal(a, b) for a, b in zip(ema.ema.parameters(), averaged_weights))


def test_the_checkpoint_holds_the_average_for_sampling_and_the_trained_g_for_resuming(runs: dict) -> None:
    run = runs["ema"]
    path = Path(run["ckpt"].last_model_path)
    ckpt = torch.load(path, weights_only=True)
    model, ema = run["model"], run["ema"].ema
    for name, value in ema.state_dict().items():
        assert_close(ckpt["state_dict"][f"generator.{name}"], value, rtol=0, atol=0)
    for name, value in model.generator.state_dict().items():
        assert_close(ckpt[LIVE_KEY][f"generator.{name}"], value, rtol=0, atol=0)
    for name, value in model.discriminator.state_dict().items():  # D is saved as trained
        assert_close(ckpt["state_dict"][f"discriminator.{name}"], value, rtol=0, atol=0)
    loaded = load_model(path)  # what sample.py and evaluate.py use
    for got, want in zip(loaded.generator.state_dict().values(), ema.state_dict().values(), strict=True):
        assert_close(got, want, rtol=0, atol=0)


def test_resume_restores_the_average_and_the_trained_generator_exactly(runs: dict) -> None:
    full, resumed = runs["ema"], runs["resumed"]
    assert runs["first"]["ema"].num_updates == 2 and resumed["ema"].num_updates == full["ema"].num_updates == 4
    for got, want in zip(resumed["ema"].ema.state_dict().values(), full["ema"].ema.state_dict().values(), strict=True):
        assert_close(got, want, rtol=0, atol=0)
    for (name, want), got in zip(full["model"].state_dict().items(), resumed["model"].state_dict().values(), strict=True):
        assert_close(got, want, rtol=0, atol=0, msg=name)
    # SampleGrid's scatter points (RunSummary's strip) come back from the checkpoint too, and match
    full_points, resumed_points = full["samples"].points, resumed["samples"].points
    assert [s for s, _ in resumed_points] == [s for s, _ in full_points] == [3, 6, 9, 12]  # 3 optimizer steps per 2 batches
    for (_, got), (_, want) in zip(resumed_points, full_points):
        assert_close(got, want, rtol=0, atol=0)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="decay"):
        GeneratorEMA(decay=1.0)
    with pytest.raises(ValueError, match="start_step"):
        GeneratorEMA(start_step=-1)


def test_the_config_adds_the_average_to_the_default_callbacks(compose_cfg: Callable[..., DictConfig]) -> None:
    cfg = compose_cfg("callbacks=[default,ema]", "callbacks.ema.decay=0.9", "callbacks.ema.start_step=5")
    assert set(cfg.callbacks) == {"model_checkpoint", "samples", "progress_bar", "summary", "ema"}
    ema = instantiate(cfg.callbacks.ema)
    assert isinstance(ema, GeneratorEMA) and (ema.decay, ema.start_step) == (0.9, 5)
    assert "ema" not in compose_cfg("callbacks=default").callbacks  # off unless asked for
