"""PPGN's learned prior (model=ppgn_dae): the DAE's loss by hand, its training lowering the denoising loss toward the
optimal denoiser's, G read from a checkpoint and kept frozen, the PPGN checkpoint standing alone, clear refusals."""

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pytest
import torch
from helpers import CONF, script_main
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from PIL import Image
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.models import CGAN, GAN, PPGNDAE, PPGNJoint
from lit_gans.sampling import load_model

D = 4  # latent size of the toy generator
TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": D, "out_shape": [1, 2, 2], "hidden": [8]}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [1, 2, 2], "hidden": [8]}
LOSS = {"name": "non_saturating", "discriminator": "lit_gans.losses.minimax_discriminator_loss",
        "generator": "lit_gans.losses.non_saturating_generator_loss", "logits": True}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 3e-3}
DAE = {"_target_": "lit_gans.networks.CodeDAE", "hidden": [32, 32]}


def toy_dae(**overrides: Any) -> PPGNDAE:
    return PPGNDAE(**{"generator": TOY_G, "dae": DAE, "optimizer_r": ADAM, "latent_dim": D,
                      "latent_distribution": "normal", "noise_std": 0.5, **overrides})


def loader(n_batches: int, batch_size: int = 64) -> DataLoader:
    x = torch.rand(n_batches * batch_size, 1, 2, 2) * 2 - 1
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def trainer(**kwargs: Any) -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, **{"max_epochs": 1, **kwargs})


def saved(model: L.LightningModule, path: Path) -> Path:
    """A lit_gans checkpoint of ``model`` after one training batch (class, hyper-parameters, weights)."""
    t = trainer(max_steps=2)
    t.fit(model, loader(1))
    t.save_checkpoint(path)
    return path


def test_dae_loss_is_the_mean_squared_reconstruction_of_the_clean_code() -> None:
    model = toy_dae()
    h, noise = torch.randn(5, D), torch.randn(5, D)
    expected = ((model.dae(h + 0.5 * noise) - h) ** 2).mean()
    assert_close(model.dae_loss(h, noise), expected)


@pytest.mark.usefixtures("one_thread")
def test_dae_training_lowers_its_denoising_loss_toward_the_optimal_denoiser() -> None:
    torch.manual_seed(0)
    model = toy_dae(optimizer_r={**ADAM, "lr": 1e-2})
    g = torch.Generator().manual_seed(1)
    h, noise = torch.randn(4000, D, generator=g), torch.randn(4000, D, generator=g)
    with torch.no_grad():
        before = model.dae_loss(h, noise).item()
    g_before = {k: v.clone() for k, v in model.generator.state_dict().items()}
    trainer(max_epochs=1).fit(model, loader(120, batch_size=256))
    with torch.no_grad():
        after = model.dae_loss(h, noise).item()
    optimal = 0.25 / 1.25  # N(0, I) codes: R*(h̃) = h̃/(1 + σ²), error σ²/(1 + σ²) per coordinate
    assert after < 0.5 * before
    assert after < 1.25 * optimal, (before, after, optimal)
    # G is frozen: bit-identical after the DAE's training
    assert all(torch.equal(v, g_before[k]) for k, v in model.generator.state_dict().items())


def test_generator_comes_from_the_checkpoint_and_the_ppgn_checkpoint_stands_alone(tmp_path: Path) -> None:
    torch.manual_seed(0)
    gan = GAN(generator=TOY_G, discriminator=TOY_D, loss=LOSS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=D,
              latent_distribution="uniform")
    ckpt = saved(gan, tmp_path / "gan.ckpt")
    source = load_model(ckpt)
    model = PPGNDAE(generator={"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 99, "out_shape": [1, 2, 2]},
                    dae=DAE, optimizer_r=ADAM, generator_ckpt=str(ckpt))
    assert model.hparams.latent_dim == D and model.hparams.latent_distribution == "uniform"  # from the checkpoint
    assert model.code_box() == (-1.0, 1.0)
    for k, v in source.generator.state_dict().items():
        assert torch.equal(model.generator.state_dict()[k], v)
    assert not any(p.requires_grad for p in model.generator.parameters())
    dae_before = {k: v.clone() for k, v in model.dae.state_dict().items()}
    own = saved(model, tmp_path / "ppgn.ckpt")  # two DAE steps
    assert any(not torch.equal(v, dae_before[k]) for k, v in model.dae.state_dict().items())
    ckpt.unlink()  # the PPGN checkpoint holds G: it needs the GAN's file no more
    again = load_model(own)
    assert isinstance(again, PPGNDAE) and again.hparams.generator_ckpt is None
    for k, v in source.generator.state_dict().items():
        assert torch.equal(again.generator.state_dict()[k], v)
    h = torch.rand(3, D) * 2 - 1
    assert torch.equal(again.denoise(h), model.eval().denoise(h))


def test_a_conditional_or_missing_generator_checkpoint_is_refused_naming_the_fix(tmp_path: Path) -> None:
    cgan = CGAN(generator=TOY_G, discriminator=TOY_D, loss=LOSS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=D,
                num_classes=3, conditioning="concat")
    ckpt = saved(cgan, tmp_path / "cgan.ckpt")
    with pytest.raises(ValueError, match="CGAN, whose G also reads label.*unconditional"):
        toy_dae(generator_ckpt=str(ckpt))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        toy_dae(generator_ckpt=str(tmp_path / "missing.ckpt"))
    with pytest.raises(ValueError, match="noise_std"):
        toy_dae(noise_std=0.0)


# ----- joint PPGN-h (model=ppgn_joint) ------------------------------------------------------------------------------
JOINT_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 128, "out_shape": [1, 28, 28], "hidden": [16]}
JOINT_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [1, 28, 28], "hidden": [16]}


def toy_joint(**overrides: Any) -> PPGNJoint:
    return PPGNJoint(**{"generator": JOINT_G, "discriminator": JOINT_D, "loss": LOSS, "optimizer_g": ADAM,
                        "optimizer_d": ADAM, **overrides})


def digits(n: int) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_joint_generator_loss_is_the_weighted_sum_of_its_four_terms_by_hand() -> None:
    from lit_gans.models.steps import BatchState

    torch.manual_seed(0)
    model = toy_joint(noise_std=0.0, lambda_img=2.0, lambda_h1=3.0, lambda_h=0.5, lambda_gan=0.25)
    x = digits(4)
    state = BatchState(x, 0)
    model.batch_start(state)
    c = model.classifier
    h = c.features(x)
    assert torch.equal(state.cache["h"], h) and torch.equal(state.cache["h_noisy"], h)  # σ = 0: noiseless
    loss, logs = model.generator_step(state)
    fake = model.generator(h)
    img = ((fake - x) ** 2).mean()
    h1 = ((c.body[:8](fake) - c.body[:8](x)) ** 2).mean()
    hh = ((c.features(fake) - h) ** 2).mean()
    gan = torch.nn.functional.softplus(-model.discriminator(fake)).mean()  # -log sigmoid(D(G(h)))
    assert_close(loss, 2.0 * img + 3.0 * h1 + 0.5 * hh + 0.25 * gan)
    assert_close(logs["train/loss_h1"], h1)
    assert_close(model.denoise(h), c.features(model.generator(h)))  # R(h) = E(G(h))


def test_joint_training_moves_g_and_d_never_the_classifier() -> None:
    torch.manual_seed(0)
    model = toy_joint()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = digits(32)
    trainer(max_steps=4).fit(model, DataLoader(TensorDataset(x, torch.zeros(32, dtype=torch.long)), batch_size=16))
    after = model.state_dict()
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith("generator.") for k in moved) and any(k.startswith("discriminator.") for k in moved)
    assert not any(k.startswith("classifier.") for k in moved)  # frozen (also its BatchNorm statistics)
    low, high = model.code_box()
    assert low == 0.0 and high > 0 and model.start_codes(5).shape == (5, 128)


def test_joint_refuses_a_wrong_code_size_and_wrong_images() -> None:
    from lit_gans.models.steps import BatchState

    with pytest.raises(ValueError, match="model.latent_dim=128"):
        toy_joint(latent_dim=100, generator={**JOINT_G, "latent_dim": 100})
    with pytest.raises(ValueError, match=r"reads \(1, 28, 28\) digits.*data=mnist"):
        toy_joint().batch_start(BatchState(torch.zeros(2, 3, 32, 32), 0))


# ----- sample.py mode=ppgn --------------------------------------------------------------------------------------------
def test_sample_cli_writes_the_chain_the_samples_and_the_arrays_with_the_requested_classes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    digits_g = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": D, "out_shape": [1, 28, 28], "hidden": [8]}
    model = toy_dae(generator=digits_g, noise_std=0.1)
    t = trainer(max_steps=1)
    t.fit(model, DataLoader(TensorDataset(torch.zeros(8, 1, 28, 28), torch.zeros(8, dtype=torch.long)), batch_size=8))
    ckpt = tmp_path / "ppgn.ckpt"
    t.save_checkpoint(ckpt)
    main = script_main("sample")
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        png = compose("sample", overrides=[f"ckpt_path={ckpt}", "mode=ppgn", "class=[3,7]", "steps=10", "n=3",
                                           "ppgn.every=5", f"out={tmp_path / 'p.png'}"])
        npz = compose("sample", overrides=[f"ckpt_path={ckpt}", "mode=ppgn", "class=7", "steps=4", "n=5",
                                           f"out={tmp_path / 'p.npz'}"])
        no_class = compose("sample", overrides=[f"ckpt_path={ckpt}", "mode=ppgn"])
    GlobalHydra.instance().clear()
    main(png)
    assert Image.open(tmp_path / "p.png").size == (3 * 30 + 2, 2 * 30 + 2)  # a row of n per class
    assert Image.open(tmp_path / "p_chain.png").size == (3 * 30 + 2, 6 * 30 + 2)  # steps 0, 5, 10 x 3 chains of 2 classes
    main(npz)
    arrays = np.load(tmp_path / "p.npz")
    assert arrays["images"].shape == (5, 28, 28, 1) and arrays["labels"].tolist() == [7] * 5
    assert arrays["codes"].shape == arrays["start_codes"].shape == (5, D) and arrays["prob"].shape == (5,)
    assert np.abs(arrays["codes"]).max() <= 3.0  # N(0, I) codes stay in the sampler's box [-3, 3]
    with pytest.raises(ValueError, match="class=7"):
        main(no_class)
