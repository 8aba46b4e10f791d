"""Several processes from the plain command line: ``trainer.devices=N`` alone must train every model.

Lightning resolves more than one device to DDP, which by default expects every parameter to get a
gradient in every backward pass; a GAN's D step gives G none. ``lit_gans.trainer_args.build_trainer``
switches such runs to the ``find_unused_parameters`` form of their strategy. ``strategy=ddp`` re-executes
the command line in every rank, so these run ``train.py`` in a subprocess, as a user would.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import BUILT_IN_DATA, ROOT, batch_kind, config_names, needs_mnist

# DDP tests start processes of their own: one xdist worker runs them one at a time (ports, cores)
pytestmark = pytest.mark.xdist_group("ddp")

AUTOENCODER_D = "net/discriminator@model.discriminator=autoencoder_toy"
# what each model needs on the 8-Gaussian ring (8 classes for the conditional ones)
ON_RING = {"ebgan": [AUTOENCODER_D], "began": [AUTOENCODER_D],
           "cgan": ["model.num_classes=8"], "acgan": ["model.num_classes=8"],
           "vae": ["model.discriminator=null", "model.likelihood=gaussian"],  # the ring's toy D is not the VAE's
           "vaegan": ["~model.encoder", "+model.encoder={_target_:lit_gans.networks.MLPDiscriminator,in_shape:[2],hidden:[32]}"],
           "ppgn_dae": ["model.discriminator=null"]}  # the DAE of G's codes trains no D
# models of images only (LAPGAN's pyramid has no 2-D ring; joint PPGN-h encodes with our MNIST classifier):
# a few MNIST batches
IMAGES_ONLY = {"lapgan": ["data=mnist", "batch_size=8", "trainer.limit_train_batches=4", "trainer.limit_val_batches=2"],
               "ppgn_joint": ["data=mnist", "trainer.limit_train_batches=4", "trainer.limit_val_batches=2"]}
# one of each kind of training step in the default suite (gradient penalty, unrolled D, BEGAN's k_t, labels);
# every model under -m slow
DEFAULT_SUITE = {"wgan_gp", "unrolled", "began", "acgan"}
# models with a DDP test of their own (they need more than one run: StackGAN's Stage-II loads a Stage-I checkpoint)
OWN_DDP_TEST = {"stackgan_stage1", "stackgan_stage2"}  # tests/models/test_stackgan.py


def run_train(*args: str, run_dir: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "train.py", *args, f"hydra.run.dir={run_dir}"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return out


@needs_mnist
def test_the_design_cards_command_on_four_processes(tmp_path: Path) -> None:
    """`python train.py model=infogan data=mnist trainer.devices=4`, shortened, on 4 CPU processes."""
    run = tmp_path / "run"
    out = run_train("model=infogan", "data=mnist", "trainer.devices=4", "trainer.accelerator=cpu", "trainer.max_epochs=1",
                    "trainer.limit_train_batches=8", "trainer.limit_val_batches=2",
                    # the command's metrics, synced over the 4 ranks, on 1,000 samples instead of 10,000 (test time)
                    "metrics.num_samples=1000", "metrics.num_real=1000", "metrics.samples_per_condition=100",
                    "metrics.batch_size=250",
                    run_dir=run)
    assert "4 processes: trainer.strategy=auto -> ddp_find_unused_parameters_true" in out.stdout + out.stderr
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 16  # every rank: 8 batches x (one D step + one G step)
    assert (run / "train_ddp_process_3.log").exists()  # Lightning's fourth rank logged into the same run folder


@pytest.mark.parametrize(
    "model", [pytest.param(m, marks=() if m in DEFAULT_SUITE else pytest.mark.slow) for m in config_names("model")
              if m not in OWN_DDP_TEST])
def test_every_model_trains_on_two_processes_with_devices_2(model: str, tmp_path: Path) -> None:
    run = tmp_path / "run"
    data = ["data=ring8"] if batch_kind("model", model) == "images" else [  # translation: a small paired built-in
        f"data={BUILT_IN_DATA[batch_kind('model', model)]}", "batch_size=8", "trainer.limit_train_batches=4",
        "trainer.limit_val_batches=2"]
    data = IMAGES_ONLY.get(model) or [*data, "data.num_samples=512"]
    out = run_train(f"model={model}", *data, *ON_RING.get(model, []), "trainer.devices=2",
                    "trainer.accelerator=cpu", "logger=[]", "callbacks=model_checkpoint", "metrics=none",
                    "trainer.enable_model_summary=false", run_dir=run)
    assert "2 processes: trainer.strategy=auto -> ddp_find_unused_parameters_true" in out.stdout + out.stderr
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] > 0 and ckpt["epoch"] == 0
