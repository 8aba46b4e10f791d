"""project.py: images -> projections + reconstruction errors, the encoder P trained once and found again."""

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import compose_config, needs_mnist, run_script
from igan_helpers import TINY_MLP
from lit_gans.manipulation import LatentSpace
from lit_gans.manipulation.cli import run_projection
from lit_gans.sampling import load_model
from lit_gans.training import train
from lit_gans.translation import write_image


@pytest.fixture
def gan_run(compose_cfg, one_thread) -> Path:
    """A tiny GAN trained for 2 MNIST batches: a real checkpoint in a real run folder."""
    _, objects = train(compose_cfg("model=gan", *TINY_MLP, "data=mnist", "trainer.limit_train_batches=2",
                                   "trainer.limit_val_batches=0", "callbacks=model_checkpoint", "data.download=false"))
    return Path(objects["trainer"].checkpoint_callback.best_model_path)


@needs_mnist
def test_project_cli_writes_projections_and_prints_errors(gan_run: Path, tmp_path: Path, capsys) -> None:
    space = LatentSpace(load_model(gan_run))
    images = tmp_path / "images"
    z_true = space.sample(2, generator=torch.Generator().manual_seed(0))
    for i, image in enumerate(space(z_true)):
        write_image(image, images / f"digit{i}.png")  # G's own images, as 8-bit PNGs
    out = run_script("project", f"ckpt_path={gan_run}", f"image={images}", "method=optimize", "steps=30",
                     "restarts=2", f"out={tmp_path / 'out'}")
    printed = capsys.readouterr().out
    assert "digit0.png" in printed and "PSNR" in printed and "s per image" in printed
    arrays = np.load(out / "projections.npz")
    assert arrays["z"].shape == (2, 8) and arrays["images"].shape == (2, 28, 28, 1)
    assert arrays["mse"].max() < 1e-3  # 8-bit rounding of the PNGs is the floor
    assert (out / "grid.png").is_file() and (out / "images" / "digit1.png").is_file()

    # the encoder: trained once (saved beside the run), then found by method=encoder / hybrid
    with pytest.raises(FileNotFoundError, match="train_encoder=true"):
        run_script("project", f"ckpt_path={gan_run}", f"image={images}", "method=encoder", f"out={tmp_path / 'e'}")
    run_script("project", f"ckpt_path={gan_run}", f"image={images}", "method=encoder", "train_encoder=true",
               "encoder_steps=3", "encoder_batch_size=8", f"out={tmp_path / 'e'}")
    saved = gan_run.parent.parent / "projection" / f"encoder_{gan_run.stem}.pt"
    assert saved.is_file() and f"saved to {saved}" in capsys.readouterr().out
    run_script("project", f"ckpt_path={gan_run}", f"image={images}", "method=hybrid", "steps=3", "restarts=1",
               f"out={tmp_path / 'h'}")
    assert "encoder P" not in capsys.readouterr().out  # found, not retrained


@needs_mnist
def test_project_cli_names_the_fix_for_a_wrong_size_or_channels(gan_run: Path, tmp_path: Path) -> None:
    write_image(torch.zeros(1, 32, 32), tmp_path / "big" / "x.png")
    write_image(torch.zeros(3, 28, 28), tmp_path / "rgb" / "x.png")
    with pytest.raises(ValueError, match="is 32x32 but the generator makes 28x28 images; pass resize=true"):
        run_script("project", f"ckpt_path={gan_run}", f"image={tmp_path / 'big'}", "method=optimize")
    with pytest.raises(ValueError, match="is colour but the generator makes grey images; pass convert=true"):
        run_script("project", f"ckpt_path={gan_run}", f"image={tmp_path / 'rgb'}", "method=optimize")
    out = run_script("project", f"ckpt_path={gan_run}", f"image={tmp_path / 'big'}", "method=optimize", "resize=true",
                     "steps=2", "restarts=1", f"out={tmp_path / 'o'}")
    assert np.load(out / "projections.npz")["images"].shape == (1, 28, 28, 1)


def test_a_conditional_model_without_a_label_tries_every_class(compose_cfg, one_thread) -> None:
    from igan_helpers import tiny_model

    model = tiny_model(compose_cfg, "model=cgan", "model.latent_dim=8", "model.generator.base_channels=8")
    space = LatentSpace(model, label=7)
    x = space(space.sample(2, generator=torch.Generator().manual_seed(0))).detach()
    cfg = compose_config("project", "ckpt_path=unused", "image=unused", "method=optimize", "steps=25", "restarts=2",
                         "feature=none")
    result, _ = run_projection(model, cfg, x)
    assert result.labels.tolist() == [7, 7] and result.mse.max() < 1e-3
    with pytest.raises(ValueError, match="label=null tries every class, which only method=optimize can"):
        run_projection(model, compose_config("project", "ckpt_path=unused", "image=unused", "method=hybrid"), x)


def test_infogan_codes_come_from_the_command_line(compose_cfg, one_thread) -> None:
    from igan_helpers import tiny_model

    from lit_gans.manipulation.cli import default_encoder_path, latent_space

    model = tiny_model(compose_cfg, "model=infogan")
    space = latent_space(model, compose_config("project", "ckpt_path=/r/checkpoints/last.ckpt", "image=x",
                                               "codes=[[3],[0.5,0]]"))
    assert space.describe() == "codes [3] / [0.5, 0.0]"
    assert default_encoder_path("/r/checkpoints/last.ckpt", space).name == "encoder_last_codes3_0.5-0.pt"
    assert latent_space(model, compose_config("project", "ckpt_path=x", "image=x")).describe() == "codes [0] / [0.0, 0.0]"
    joint = latent_space(model, compose_config("project", "ckpt_path=x", "image=x", "codes=[[3],[0.5,0]]",
                                               "optimize_codes=true"))
    assert joint.optimize_codes and joint.dim == joint.latent_dim + 2
    assert default_encoder_path("/r/checkpoints/last.ckpt", joint).name == "encoder_last_codes3_opt.pt"


def test_project_cli_optimises_infogan_codes_and_saves_them(compose_cfg, one_thread, tmp_path: Path) -> None:
    from igan_helpers import TINY_INFOGAN, save_checkpoint, tiny_model

    model = tiny_model(compose_cfg, *TINY_INFOGAN)
    ckpt = save_checkpoint(model, tmp_path / "run" / "checkpoints" / "last.ckpt")
    joint = LatentSpace(model, optimize_codes=True)
    truth = joint.sample(2, generator=torch.Generator().manual_seed(5))
    for i, image in enumerate(joint(truth)):
        write_image(image, tmp_path / "images" / f"x{i}.png")
    out = run_script("project", f"ckpt_path={ckpt}", f"image={tmp_path / 'images'}", "method=optimize", "steps=30",
                     "restarts=2", "feature=none", "optimize_codes=true", f"out={tmp_path / 'out'}")
    saved = np.load(out / "projections.npz")
    assert saved["z"].shape == (2, 4) and saved["codes_continuous"].shape == (2, 2)
    assert np.abs(saved["codes_continuous"]).max() <= 1.0 and saved["mse"].max() < 1e-2  # 30 steps, 8-bit PNGs
