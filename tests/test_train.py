"""train(cfg) end to end: every model on MNIST, outputs, exact resume, learning, bad input."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import torch
from omegaconf import DictConfig, open_dict

from helpers import BUILT_IN_DATA, ROOT, batch_kind, config_names, needs_mnist
from lit_gans.data import DatasetNotFoundError
from lit_gans.training import train

Compose = Callable[..., DictConfig]
# models that start from another run's checkpoint: trained from the command line in their own tests
NEEDS_A_TRAINED_RUN = {"stackgan_stage2": "loads a Stage-I run: tests/models/test_stackgan.py trains both stages "
                                          "from the command line"}
# a 2-D Gaussian N((2, 0), 0.5² I): a one-mode "ring"
GAUSSIAN_2D = ["data=ring8", "data.distribution.num_modes=1", "data.distribution.std=0.5"]


@needs_mnist
@pytest.mark.parametrize("model", config_names("model"))
def test_fast_dev_run_of_every_model_on_mnist(compose_cfg: Compose, model: str) -> None:
    """On MNIST, or on the MNIST-made set of the model's kind (translation models: mnist_edges)."""
    if model in NEEDS_A_TRAINED_RUN:
        pytest.skip(f"model={model} {NEEDS_A_TRAINED_RUN[model]}")
    data = BUILT_IN_DATA[batch_kind("model", model)]
    metrics, objects = train(compose_cfg(f"model={model}", f"data={data}", "debug=fdr"))
    model = objects["model"]  # GANs: one D step (+ one G step when n_critic = 1); VAE: 1; VAE-GAN: 3
    due = [s for s in model.steps if s.due is None or getattr(model, s.due)(0)]
    assert objects["trainer"].global_step == len(due)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


@needs_mnist
def test_cli_default_run_writes_config_checkpoint_samples_and_logs(tmp_path: Path) -> None:
    """`python train.py` as a user runs it (here: 3 batches), in a subprocess."""
    run = tmp_path / "run"
    cmd = [sys.executable, "train.py", f"hydra.run.dir={run}", "trainer.limit_train_batches=3", "trainer.log_every_n_steps=1",
           "callbacks.samples.every_n_batches=2", "callbacks=[model_checkpoint,samples]",
           "metrics.num_samples=500", "metrics.num_real=1000"]  # MNIST runs score G by default
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (run / ".hydra" / "config.yaml").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["step_0000004.png", "step_0000006.png"]
    header = (run / "csv" / "metrics.csv").read_text().splitlines()[0]
    assert {"train/d_loss", "train/g_loss", "train/d_real", "train/d_fake", "train/js_divergence_estimate", "train/D(x)", "train/D(G(z))",
            "val/fid", "val/is", "val/d_real"} <= set(header.split(","))


def test_cli_unknown_model_fails_listing_choices(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "train.py", "model=nope"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "Could not find 'model/nope'" in out.stderr and "wgan_gp" in out.stderr


def toy_run(compose_cfg: Compose, *overrides: str) -> DictConfig:
    return compose_cfg("model=wgan_gp", *GAUSSIAN_2D, "data.num_samples=448", "batch_size=64",
                       "callbacks=model_checkpoint", *overrides)


def test_resume_continues_exactly_like_an_uninterrupted_run(compose_cfg: Compose, tmp_path: Path) -> None:
    # 7 batches an epoch with n_critic = 5: the G-step phase straddles the epoch boundary.
    _, full = train(toy_run(compose_cfg, "trainer.max_epochs=4", "seed=1"))
    crashing = toy_run(compose_cfg, "trainer.max_epochs=4", "seed=1")  # killed at the start of its third epoch
    with open_dict(crashing):
        crashing.callbacks.crash = {"_target_": "helpers.CrashAtEpoch", "epoch": 2}
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(crashing)
    ckpt = Path(crashing.paths.output_dir) / "checkpoints" / "last.ckpt"  # written by the epochs that ended
    assert sorted(p.name for p in ckpt.parent.iterdir()) == ["last.ckpt"]
    assert torch.load(ckpt, weights_only=False)["global_step"] == 2 * (7 + 1)
    _, resumed = train(toy_run(compose_cfg, "trainer.max_epochs=4", "seed=1", f"ckpt_path={ckpt}"))
    assert resumed["trainer"].global_step == full["trainer"].global_step == 4 * (7 + 1)
    for (name, a), b in zip(full["model"].state_dict().items(), resumed["model"].state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=lambda m, n=name: f"{n}: {m}")
    opt_full, opt_resumed = full["trainer"].optimizers[1].state_dict(), resumed["trainer"].optimizers[1].state_dict()
    for p in opt_full["state"]:
        torch.testing.assert_close(opt_full["state"][p]["exp_avg"], opt_resumed["state"][p]["exp_avg"], rtol=0, atol=0)


def test_last_checkpoint_holds_the_final_step_when_max_steps_ends_mid_epoch(compose_cfg: Compose) -> None:
    cfg = toy_run(compose_cfg, "trainer.max_epochs=-1", "trainer.max_steps=20")  # an epoch is 8 optimizer steps
    train(cfg)
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    assert torch.load(ckpt, weights_only=False)["global_step"] == 20


def test_resume_refuses_another_models_checkpoint_and_corrupt_files(compose_cfg: Compose, tmp_path: Path) -> None:
    _, first = train(toy_run(compose_cfg, "trainer.max_epochs=1"))
    ckpt = Path(first["trainer"].checkpoint_callback.best_model_path)
    with pytest.raises(ValueError, match="different model config"):
        train(toy_run(compose_cfg, "model.n_critic=3", f"ckpt_path={ckpt}"))
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(ckpt.read_bytes()[:1000])
    with pytest.raises(RuntimeError, match="corrupt"):
        train(toy_run(compose_cfg, f"ckpt_path={corrupt}"))
    with pytest.raises(FileNotFoundError, match="last.ckpt"):
        train(toy_run(compose_cfg, f"ckpt_path={tmp_path / 'missing.ckpt'}"))


def test_resume_accepts_a_checkpoint_from_before_an_option_existed(compose_cfg: Compose, tmp_path: Path) -> None:
    """A checkpoint written before lit_gans gained an option (PacGAN's ``pack``, an MLP's ``init``) lacks its key;
    at its default the run is the same, so it resumes; set to anything else, it is refused."""
    _, first = train(toy_run(compose_cfg, "trainer.max_epochs=1"))
    ckpt = torch.load(first["trainer"].checkpoint_callback.best_model_path, weights_only=True)
    del ckpt["hyper_parameters"]["pack"], ckpt["hyper_parameters"]["generator"]["init"]
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    _, resumed = train(toy_run(compose_cfg, "trainer.max_epochs=2", f"ckpt_path={old}"))
    assert resumed["trainer"].current_epoch == 2
    with pytest.raises(ValueError, match=r"model\.generator\.init differ"):
        train(toy_run(compose_cfg, "trainer.max_epochs=2", "model.generator.init=orthogonal", f"ckpt_path={old}"))
    with pytest.raises(ValueError, match=r"model\.pack differ"):
        train(toy_run(compose_cfg, "trainer.max_epochs=2", "model.pack=2", f"ckpt_path={old}"))


@pytest.mark.parametrize("model, loss, batches", [("gan", None, 400), ("wgan_gp", None, 1000), ("lsgan", None, 400), ("gan", "hinge", 800), ("fgan", None, 400), ("unrolled", None, 400)])
def test_variant_moves_samples_toward_a_2d_gaussian(compose_cfg: Compose, model: str, loss: str | None, batches: int) -> None:
    """A few hundred generator steps move G's samples from ~(0, 0) toward the data's mean
    (2, 0); a sign error in either player's update would push them away. (WGAN-GP overshoots
    and circles back as its critic catches up, hence the loose radius.)"""
    bs = 64 if model == "wgan_gp" else 50
    extra = [f"loss={loss}"] if loss else []
    cfg = compose_cfg(f"model={model}", *extra, *GAUSSIAN_2D, f"data.num_samples={batches * bs}", f"batch_size={bs}", "seed=0")
    _, objects = train(cfg)
    g = objects["model"]
    with torch.no_grad():
        x = g.generator(g.sample_latent(4000))
    target = torch.tensor([2.0, 0.0])
    assert x.mean(0)[0] > 1.0 and (x.mean(0) - target).norm() < 1.5, x.mean(0)
    if model == "wgan_gp":  # the critic also spreads the samples (they start with std ~0.07)
        assert x[:, 0].std() > 0.2


def test_missing_mnist_offline_names_the_folder_and_the_fix(compose_cfg: Compose, tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"data\.root") as err:
        train(compose_cfg("data=mnist", f"data.root={tmp_path}", "data.download=false", "debug=fdr"))
    assert str(tmp_path) in str(err.value)


@pytest.mark.parametrize("logger", ["wandb", "tensorboard"])
def test_image_loggers_receive_samples_without_network(compose_cfg: Compose, logger: str) -> None:
    cfg = compose_cfg("model=wgan_gp", *GAUSSIAN_2D, "data.num_samples=256", f"logger={logger}",
                      "callbacks=samples", "callbacks.samples.every_n_batches=2", quiet=False)
    _, objects = train(cfg)  # WANDB_MODE=disabled (conftest): must not wait for a network
    assert type(objects["trainer"].logger).__name__.lower().startswith(logger[:5])
    samples = next(c for c in objects["trainer"].callbacks if type(c).__name__ == "SampleGrid")
    assert len(samples.saved) == 3 and all(p.is_file() for p in samples.saved)
