"""encode.py: E(x) of a data split with its labels for models with an encoder; a clear refusal for the others."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import ROOT, needs_mnist, run_script
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lit_gans.encoding import check_encoder, encode_dataset, split_dataset
from lit_gans.sampling import load_model, to_uint8_nhwc
from lit_gans.training import instantiate_datamodule

Compose = Callable[..., DictConfig]


@pytest.fixture(scope="module")
def bigan_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BiGAN trained for 3 MNIST batches (a real checkpoint and run config)."""
    run = tmp_path_factory.mktemp("encode") / "run"
    cmd = [sys.executable, "train.py", "model=bigan", f"hydra.run.dir={run}", "trainer.limit_train_batches=3",
           "trainer.limit_val_batches=0", "metrics=none", "callbacks=model_checkpoint", "logger=[]"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return run




@needs_mnist
def test_encode_cli_writes_the_codes_and_labels_of_the_test_split(bigan_run: Path, tmp_path: Path) -> None:
    ckpt = bigan_run / "checkpoints" / "last.ckpt"
    out = tmp_path / "codes.npz"
    cmd = [sys.executable, "encode.py", f"ckpt_path={ckpt}", "split=test", f"out={out}"]
    done = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    arrays = np.load(out)
    assert set(arrays.files) == {"codes", "labels"}
    assert arrays["codes"].shape == (10_000, 50) and arrays["codes"].dtype == np.float32
    assert arrays["labels"].dtype == np.int64 and set(np.unique(arrays["labels"])) == set(range(10))
    # row i is E(x_i) of the i-th test image, in eval mode
    model = load_model(ckpt)
    run_cfg = OmegaConf.load(bigan_run / ".hydra" / "config.yaml")
    test = split_dataset(instantiate_datamodule(run_cfg.data), "test")
    x, y = test.__getitems__([0, 1, 2, 9999])
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(arrays["codes"][[0, 1, 2, 9999]]), model.encode(x), rtol=0, atol=1e-6)
    assert np.array_equal(arrays["labels"][[0, 1, 2, 9999]], y.numpy())


@needs_mnist
def test_encode_limit_and_default_output_path(bigan_run: Path) -> None:
    ckpt = bigan_run / "checkpoints" / "last.ckpt"
    path = run_script("encode", f"ckpt_path={ckpt}", "split=train", "limit=700", "batch_size=300")
    assert path == bigan_run / "codes" / "last_train.npz"
    arrays = np.load(path)
    assert arrays["codes"].shape == (700, 50) and arrays["labels"].shape == (700,)


def test_a_model_without_an_encoder_is_refused_with_the_models_that_have_one(compose_cfg: Compose) -> None:
    gan = instantiate(compose_cfg("model=dcgan").model, _recursive_=False)
    with pytest.raises(ValueError, match="models with one: bigan, ali"):
        check_encoder(gan)
    with pytest.raises(NotImplementedError, match="bigan"):
        gan.encode(torch.zeros(1, 1, 28, 28))


@pytest.mark.parametrize("name", ["bigan", "mrgan", "mdgan"])
def test_codes_of_a_toy_split_come_from_the_held_out_sample(compose_cfg: Compose, name: str) -> None:
    cfg = compose_cfg(f"model={name}", "data=ring8", "data.num_samples=300", "+data.num_val_samples=200")
    model = instantiate(cfg.model, _recursive_=False)
    datamodule = instantiate_datamodule(cfg.data)
    arrays = encode_dataset(model, split_dataset(datamodule, "test"), batch_size=64)
    assert arrays["codes"].shape == (200, cfg.model.latent_dim) and arrays["labels"].shape == (200,)
    assert model.training  # restored after encoding in eval mode
    with pytest.raises(ValueError, match="split must be one of"):
        split_dataset(datamodule, "val")




@needs_mnist
def test_sample_reconstruct_draws_x_rows_above_their_reconstructions(bigan_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    ckpt = bigan_run / "checkpoints" / "last.ckpt"
    png = run_script("sample", f"ckpt_path={ckpt}", "mode=reconstruct", "n=16", f"out={tmp_path / 'rec.png'}")
    assert Image.open(png).size == (4 * 30 + 2, 8 * 30 + 2)  # 16 images in rows of 4: 4 real rows + 4 reconstructed
    arrays = np.load(run_script("sample", f"ckpt_path={ckpt}", "mode=reconstruct", "n=16", f"out={tmp_path / 'rec.npz'}"))
    assert set(arrays.files) == {"images", "reconstructions", "codes"}
    assert arrays["images"].shape == arrays["reconstructions"].shape == (16, 28, 28, 1) and arrays["codes"].shape == (16, 50)
    codes = np.load(run_script("encode", f"ckpt_path={ckpt}", "limit=16", f"out={tmp_path / 'c.npz'}"))["codes"]
    np.testing.assert_allclose(arrays["codes"], codes, rtol=0, atol=1e-6)  # the first 16 test images, both tools


@pytest.mark.parametrize("name", ["bigan", "mrgan", "mdgan"])
def test_reconstruction_grid_interleaves_real_rows_and_reconstructed_rows(compose_cfg: Compose, name: str) -> None:
    from lit_gans.encoding import reconstruction_grid

    model = instantiate(compose_cfg(f"model={name}").model, _recursive_=False)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    grid = reconstruction_grid(model, x, per_row=4)
    assert grid.shape == (16, 1, 28, 28) and model.training
    assert torch.equal(grid[:4], x[:4]) and torch.equal(grid[8:12], x[4:])
    with torch.no_grad():
        torch.testing.assert_close(grid[4:8], model.eval().reconstruct(x[:4]))


@needs_mnist
@pytest.mark.parametrize("name", ["bigan", "mrgan", "mdgan"])
def test_sample_grid_callback_draws_reconstructions_beside_the_samples_for_encoder_models(compose_cfg: Compose,
                                                                                        name: str) -> None:
    from lit_gans.callbacks import SampleGrid
    from lit_gans.training import train

    steps = 2 * {"mdgan": 4}.get(name, 2)  # two batches of optimizer steps (MDGAN: D_m, G/E, D_d, G)
    _, objects = train(compose_cfg(f"model={name}", "data=mnist", f"trainer.max_steps={steps}", "trainer.limit_val_batches=0",
                                   "callbacks=samples", "callbacks.samples.every_n_batches=2",
                                   "callbacks.samples.num_reconstructions=16"))
    grid = next(c for c in objects["trainer"].callbacks if isinstance(c, SampleGrid))
    assert [p.name for p in grid.reconstructions] == [f"reconstruction_step_{steps:07d}.png"] * 2  # batch 2 and the end
    assert grid.reconstructions[0].parent == grid.saved[0].parent and grid.reconstructions[0].is_file()


@needs_mnist
def test_alae_codes_are_w_and_its_reconstructions_skip_f_through_the_same_tools(tmp_path: Path) -> None:
    """ALAE (four networks, three optimizers) through the same checkpoint -> encode.py / sample.py path: codes are
    E(x) = w, reconstructions G(E(x))."""
    run = tmp_path / "run"
    cmd = [sys.executable, "train.py", "model=alae", f"hydra.run.dir={run}", "trainer.limit_train_batches=3",
           "trainer.limit_val_batches=0", "metrics=none", "callbacks=model_checkpoint", "logger=[]"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    ckpt = run / "checkpoints" / "last.ckpt"
    assert len(torch.load(ckpt, weights_only=True)["optimizer_states"]) == 3
    codes = np.load(run_script("encode", f"ckpt_path={ckpt}", "limit=16", f"out={tmp_path / 'c.npz'}"))["codes"]
    model = load_model(ckpt)
    x, _ = split_dataset(instantiate_datamodule(OmegaConf.load(run / ".hydra" / "config.yaml").data), "test").__getitems__(
        list(range(16)))
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(codes), model.encoder(x), rtol=0, atol=1e-6)
        arrays = np.load(run_script("sample", f"ckpt_path={ckpt}", "mode=reconstruct", "n=16",
                                    f"out={tmp_path / 'rec.npz'}"))
        expected = to_uint8_nhwc(model.generator.synthesis(model.encoder(x)))  # G(E(x)), no F
    assert np.array_equal(arrays["reconstructions"], expected.numpy())
    np.testing.assert_allclose(arrays["codes"], codes, rtol=0, atol=1e-6)
