"""StackGAN: the conditioning-augmentation KL, the matching-aware terms, which step moves what, Stage-II with a
fixed Stage-I loaded through the safe loader, text-embedding folders, exact resume and the configs."""

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_same_state, half_and_resumed_runs, needs_mnist, t
from models.test_skeleton import ADAM, NS
from omegaconf import DictConfig, OmegaConf
from PIL import Image
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.data import TextEmbeddingFolderDataModule
from lit_gans.data.errors import DatasetNotFoundError
from lit_gans.losses import (
    conditioning_augmentation_kl,
    matching_aware_discriminator_loss,
    minimax_discriminator_loss,
)
from lit_gans.models import StackGAN
from lit_gans.models.base import Labeled
from lit_gans.models.steps import BatchState, Step
from lit_gans.networks import ConditioningAugmentation
from lit_gans.training import train

Compose = Callable[..., DictConfig]
K, PHI, C = 3, 6, 3  # classes, φ, ĉ
S1 = {"_target_": "lit_gans.networks.StackGANStage1Generator", "latent_dim": 4, "phi_dim": PHI, "c_dim": C,
      "num_classes": K, "base_channels": 8, "start_size": 2, "image_size": 4, "channels": 1}
S2 = {"_target_": "lit_gans.networks.StackGANStage2Generator", "phi_dim": PHI, "c_dim": C, "num_classes": K,
      "base_channels": 4, "in_size": 4, "image_size": 8, "channels": 1, "n_down": 1, "n_residual": 1}
D1 = {"_target_": "lit_gans.networks.StackGANDiscriminator", "image_size": 4, "channels": 1, "base_channels": 4,
      "n_down": 1, "phi_dim": PHI, "cond_dim": 5, "num_classes": K}
D2 = {**D1, "image_size": 8, "n_down": 2}
ADAM_FAST = {**ADAM, "lr": 1e-2}


def text(cfg: dict) -> dict:
    return {**cfg, "num_classes": 0}


def stage1(**overrides: Any) -> StackGAN:
    return StackGAN(**{**dict(generator=S1, discriminator=D1, loss=NS, optimizer_g=ADAM_FAST, optimizer_d=ADAM_FAST,
                              latent_dim=4, num_classes=K, phi_dim=PHI, c_dim=C, image_size=8), **overrides})


def stage2(**overrides: Any) -> StackGAN:
    return stage1(**{"generator": S2, "discriminator": D2, "stage": 2, "stage1_generator": S1, **overrides})


def loader(n: int = 32, batch_size: int = 8, seed: int = 0, embeddings: bool = False) -> DataLoader:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=gen) * 2 - 1
    c = torch.randn(n, PHI, generator=gen) if embeddings else torch.randint(K, (n,), generator=gen)
    return DataLoader(TensorDataset(x, c), batch_size=batch_size)


def trainer(**kwargs: Any) -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, num_sanity_val_steps=0, **{"max_epochs": 1, **kwargs})


def params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def moved(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.named_parameters())


def same(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> None:
    for k, v in before.items():
        assert_close(after[k], v, rtol=0, atol=0, msg=lambda m, k=k: f"{k}: {m}")


# ----- the pure terms ---------------------------------------------------------------------------------------
def test_kl_matches_the_closed_form_by_hand() -> None:
    mean, log_var = t(0.5, -1.0, 0.0, 2.0).view(2, 2), t(math.log(4.0), 0.0, math.log(0.25), 0.0).view(2, 2)
    # KL(N(μ, σ²) ‖ N(0, 1)) = ½ (σ² + μ² − 1 − log σ²) per dimension
    per_dim = [0.5 * (4 + 0.25 - 1 - math.log(4)), 0.5 * (1 + 1 - 1), 0.5 * (0.25 + 0 - 1 - math.log(0.25)), 0.5 * (1 + 4 - 1)]
    assert_close(conditioning_augmentation_kl(mean, log_var, "mean"), t(sum(per_dim) / 4)[0])  # the authors' KL_loss
    assert_close(conditioning_augmentation_kl(mean, log_var, "sum"), t(sum(per_dim) / 2)[0])  # per sample, batch mean
    authors = -0.5 * torch.mean(1 + log_var - mean.pow(2) - log_var.exp())  # utils.KL_loss, verbatim maths
    assert_close(conditioning_augmentation_kl(mean, log_var), authors)
    with pytest.raises(ValueError, match="reduction"):
        conditioning_augmentation_kl(mean, log_var, "max")


def test_kl_agrees_with_a_monte_carlo_estimate_of_log_q_minus_log_p() -> None:
    gen = torch.Generator().manual_seed(0)
    mean, log_var = t(0.7, -0.3, 1.2).view(1, 3), t(-0.5, 0.4, 0.0).view(1, 3)
    ca = ConditioningAugmentation(PHI, 3, activation="none")
    with torch.no_grad():  # make the CA layer output exactly (μ, log σ²) for φ = 0
        ca.fc.weight.zero_()
        ca.fc.bias.copy_(torch.cat([mean, log_var], 1).flatten())
    eps = torch.randn(200_000, 3, generator=gen)
    c, mu, lv = ca(torch.zeros(200_000, PHI), eps)
    q = torch.distributions.Normal(mu, (0.5 * lv).exp()).log_prob(c).sum(1)
    p = torch.distributions.Normal(0.0, 1.0).log_prob(c).sum(1)
    estimate = (q - p).mean()
    assert_close(estimate, conditioning_augmentation_kl(mean, log_var, "sum").float(), atol=0.01, rtol=0)


def test_conditioning_augmentation_is_the_reparameterisation_and_passes_gradients() -> None:
    ca = ConditioningAugmentation(PHI, C, activation="relu")
    phi, eps = torch.randn(5, PHI), torch.randn(5, C)
    c, mean, log_var = ca(phi, eps)
    out = torch.relu(ca.fc(phi))  # the authors' CA_NET: fc, ReLU, split into μ and log σ²
    assert_close(mean, out[:, :C])
    assert_close(log_var, out[:, C:])
    assert_close(c, mean + (0.5 * log_var).exp() * eps)
    c.sum().backward()
    assert ca.fc.weight.grad is not None and ca.fc.weight.grad.abs().sum() > 0


def test_matching_aware_loss_is_real_plus_half_fake_and_wrong() -> None:
    d_real, d_fake, d_wrong = t(1.0, -0.5), t(0.2, -2.0), t(3.0, 0.0)
    bce = F.binary_cross_entropy_with_logits
    # the authors' compute_discriminator_loss: errD_real + (errD_fake + errD_wrong) * 0.5
    one, zero = torch.ones(2, dtype=d_real.dtype), torch.zeros(2, dtype=d_real.dtype)
    expected = bce(d_real, one) + 0.5 * (bce(d_fake, zero) + bce(d_wrong, zero))
    assert_close(matching_aware_discriminator_loss(minimax_discriminator_loss, d_real, d_fake, d_wrong), expected)


# ----- the model's steps ------------------------------------------------------------------------------------
def test_the_discriminator_step_scores_real_right_real_wrong_and_fake_right() -> None:
    model = stage1()
    images, labels = next(iter(loader()))
    st = BatchState(model.real_samples((images, labels)), 0)
    assert st.real.images.shape == (8, 1, 4, 4)  # Stage-I trains on the real images at its own 4 px
    assert_close(st.real.images, F.interpolate(images, size=(4, 4), mode="bilinear", antialias=True))
    model.batch_start(st)
    fake = st.cache["fake"]
    assert torch.equal(fake.labels, labels)  # fakes drawn for the real batch's conditions (fake/right)
    torch.manual_seed(5)
    loss, logs = model.discriminator_step(st)
    torch.manual_seed(5)
    wrong = model.wrong_conditions(labels)
    assert (wrong != labels).all()
    s_r, s_f = model.d_scores(st.real), model.d_scores(Labeled(fake.images.detach(), labels))
    s_w = model.d_scores(Labeled(st.real.images, wrong))
    bce = F.binary_cross_entropy_with_logits
    expected = bce(s_r, torch.ones(8)) + 0.5 * (bce(s_f, torch.zeros(8)) + bce(s_w, torch.zeros(8)))
    assert_close(loss, expected)
    assert_close(logs["train/d_wrong"], s_w.mean())


def test_the_generator_step_adds_the_weighted_kl() -> None:
    model = stage1(kl_weight=2.0)
    st = BatchState(model.real_samples(next(iter(loader()))), 0)
    model.batch_start(st)
    loss, logs = model.generator_step(st)
    adversarial = F.softplus(-model.d_scores(st.cache["fake"])).mean()  # non-saturating: −log D(G(z, ĉ), φ)
    kl = conditioning_augmentation_kl(st.cache["mean"], st.cache["log_var"])
    assert_close(loss, adversarial + 2.0 * kl)
    assert_close(logs["train/kl"], kl)


def test_text_conditions_pair_each_image_with_the_previous_caption_as_wrong() -> None:
    model = stage1(generator=text(S1), discriminator=text(D1), num_classes=0)
    phi = torch.randn(4, PHI)
    assert torch.equal(model.wrong_conditions(phi), phi[[3, 0, 1, 2]])


class DOnly(StackGAN):
    steps = (Step("d", "discriminator_step"),)


class GOnly(StackGAN):
    steps = (Step("g", "generator_step"),)


@pytest.mark.parametrize("cls, moves, keeps", [(DOnly, "discriminator", "generator"), (GOnly, "generator", "discriminator")])
def test_each_step_moves_only_its_player(cls: type, moves: str, keeps: str) -> None:
    model = cls(**stage1().hparams)
    before = {name: params(getattr(model, name)) for name in (moves, keeps)}
    trainer(limit_train_batches=2).fit(model, loader())
    assert moved(before[moves], getattr(model, moves))
    same(before[keeps], params(getattr(model, keeps)))


def test_stage2_trains_its_networks_and_leaves_stage1_bit_identical() -> None:
    model = stage2()
    assert all(not p.requires_grad for p in model.stage1.parameters())
    owned = {id(p) for name in model.players for p in model.player_parameters(name)}
    assert not owned & {id(p) for p in model.stage1.parameters()}  # in no optimizer
    before, g, d = state(model.stage1), params(model.generator), params(model.discriminator)
    model.load_stage1 = lambda: None  # no Stage-I checkpoint in this unit test (its loading is tested below)
    trainer(limit_train_batches=3).fit(model, loader())
    same(before, state(model.stage1))  # weights and BatchNorm statistics
    assert moved(g, model.generator) and moved(d, model.discriminator)
    assert not model.stage1.training and model.generator.training


def test_stage2_draws_from_the_stage1_image_and_its_grid_shows_both_stages() -> None:
    model = stage2().eval()
    z, labels = torch.randn(2, 4), torch.tensor([0, 2])
    images, _, _, low = model.generate(z, labels, torch.Generator().manual_seed(0))
    assert images.shape == (2, 1, 8, 8) and low.shape == (2, 1, 4, 4)
    grid, columns = model.sample_grid(seed=0, columns=3)
    assert grid.shape == (K * 2 * 3, 1, 8, 8) and columns == 3
    a, b = model.sample_images(4, torch.Generator().manual_seed(1)), model.sample_images(4, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)  # seeded: z, labels and the ε of both conditioning augmentations
    assert stage1().eval().sample_images(3).shape == (3, 1, 8, 8)  # Stage-I's 4 px upsampled to the data's 8


def fit_stage1(tmp_path: Path, **overrides: Any) -> Path:
    model = stage1(**overrides)
    tr = trainer(limit_train_batches=2)
    tr.fit(model, loader())
    tr.save_checkpoint(tmp_path / "stage1.ckpt")
    return tmp_path / "stage1.ckpt"


def test_stage2_loads_stage1_through_the_safe_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = fit_stage1(tmp_path)
    trained = torch.load(ckpt, weights_only=True)["state_dict"]
    import lit_gans.models.stackgan as module

    calls = []
    monkeypatch.setattr(module, "read_checkpoint", lambda path: calls.append(path) or torch.load(path, weights_only=True))
    model = stage2(stage1_ckpt=str(ckpt))
    trainer(limit_train_batches=1).fit(model, loader())
    assert calls == [str(ckpt)]
    for k, v in model.stage1.state_dict().items():
        assert torch.equal(v, trained[f"generator.{k}"]), k
    # the Stage-II checkpoint carries Stage-I: it rebuilds without the Stage-I file
    rebuilt = StackGAN(**model.hparams)
    rebuilt.load_state_dict(model.state_dict())
    assert torch.equal(rebuilt.stage1.fc[0].weight, model.stage1.fc[0].weight)


def test_stage2_refuses_a_missing_or_mismatched_stage1_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"model.stage1_ckpt=<Stage-I run>/checkpoints/last.ckpt"):
        trainer(limit_train_batches=1).fit(stage2(), loader())
    with pytest.raises(ValueError, match="model.stage1_generator"):
        stage1(stage=2)
    other = fit_stage1(tmp_path, generator={**S1, "base_channels": 4})
    with pytest.raises(ValueError, match="model.stage1_generator"):
        stage2(stage1_ckpt=str(other)).load_stage1()
    s2 = tmp_path / "s2"
    s2.mkdir()
    tr = trainer(limit_train_batches=1)
    model = stage2()
    model.load_stage1 = lambda: None
    tr.fit(model, loader())
    tr.save_checkpoint(s2 / "last.ckpt")
    with pytest.raises(ValueError, match="not a StackGAN Stage-I checkpoint"):
        stage2(stage1_ckpt=str(s2 / "last.ckpt")).load_stage1()


@pytest.mark.parametrize("overrides, match", [
    ({"stage": 3}, "model.stage must be 1 or 2"),
    ({"kl_reduction": "max"}, "kl_reduction"),
    ({"pack": 2}, "pack"),
    ({"phi_dim": 7}, "phi_dim"),
    ({"generator": {**S1, "num_classes": 0}, "num_classes": K}, None),
])
def test_bad_options_are_refused(overrides: dict[str, Any], match: str | None) -> None:
    if match is None:  # a label-conditioned model whose G expects embeddings: refused at the first forward
        with pytest.raises(ValueError, match="float condition embeddings"):
            stage1(**overrides).sample_images(2)
        return
    with pytest.raises(ValueError, match=match):
        stage1(**overrides)


def test_resume_continues_exactly(tmp_path: Path) -> None:
    def make() -> StackGAN:
        model = stage2()
        model.load_stage1 = lambda: None
        return model

    full, resumed, ckpt = half_and_resumed_runs(make, lambda epochs: trainer(max_epochs=epochs, limit_train_batches=2),
                                                lambda: loader(seed=1), tmp_path)
    assert len(ckpt["optimizer_states"]) == 2
    assert_same_state(full, resumed)


# ----- text embeddings beside an image folder ---------------------------------------------------------------
def write_folder(root: Path, n: int = 6, captions: int = 3, dim: int = PHI) -> np.ndarray:
    (root / "images").mkdir(parents=True)
    names = []
    for i in range(n):
        Image.fromarray(np.full((10, 12), 20 * i, np.uint8)).save(root / "images" / f"{i}.png")
        names.append(f"images/{i}.png")
    (root / "filenames.txt").write_text("\n".join(names) + "\n")
    embeddings = np.random.default_rng(0).normal(size=(n, captions, dim)).astype(np.float32)
    np.save(root / "embeddings.npy", embeddings)
    return embeddings


def test_the_text_embedding_folder_serves_one_caption_of_each_image(tmp_path: Path) -> None:
    embeddings = write_folder(tmp_path)
    dm = TextEmbeddingFolderDataModule(str(tmp_path), image_size=8, channels=1, embedding_dim=PHI, batch_size=3,
                                       num_workers=0)
    dm.setup("fit")
    x, phi = dm.train_set[4]
    assert x.shape == (1, 8, 8) and phi.shape == (PHI,)
    assert any(np.allclose(phi.numpy(), row) for row in embeddings[4])  # one of image 4's captions
    assert_close(x, torch.full((1, 8, 8), 80 / 127.5 - 1))
    drawn = {tuple(dm.train_set[0][1].numpy().round(4)) for _ in range(40)}
    assert len(drawn) > 1  # a random caption per access, as the authors' TextDataset
    images, phis = next(iter(dm.train_dataloader()))
    assert images.shape == (3, 1, 8, 8) and phis.shape == (3, PHI) and phis.dtype == torch.float32


@pytest.mark.parametrize("mutate, error, match", [
    (lambda root: np.save(root / "embeddings.npy", np.zeros((5, 3, PHI), np.float32)), ValueError, "embeddings for 5 images"),
    (lambda root: np.save(root / "embeddings.npy", np.zeros((6, 3, 4), np.float32)), ValueError, "data.embedding_dim=4"),
    (lambda root: np.save(root / "embeddings.npy", np.zeros((6, 3, PHI), np.int64)), ValueError, "expected floats"),
    (lambda root: (root / "images" / "2.png").unlink(), DatasetNotFoundError, "do not exist"),
    (lambda root: (root / "filenames.txt").unlink(), DatasetNotFoundError, "one path per line"),
])
def test_a_bad_embedding_folder_is_refused_naming_the_fix(tmp_path: Path, mutate: Callable, error: type, match: str) -> None:
    write_folder(tmp_path)
    mutate(tmp_path)
    dm = TextEmbeddingFolderDataModule(str(tmp_path), image_size=8, channels=1, embedding_dim=PHI, num_workers=0)
    with pytest.raises(error, match=match):
        dm.setup("fit")


def test_a_text_conditioned_stage1_trains_on_the_folder_and_samples_from_its_bank(tmp_path: Path) -> None:
    write_folder(tmp_path, n=8)
    dm = TextEmbeddingFolderDataModule(str(tmp_path), image_size=8, channels=1, embedding_dim=PHI, batch_size=4,
                                       num_workers=0)
    model = stage1(generator=text(S1), discriminator=text(D1), num_classes=0, condition_bank_size=5)
    assert model.sample_images(2).shape == (2, 1, 8, 8)  # before training: N(0, I) placeholders (a warning says so)
    trainer(limit_train_batches=2).fit(model, datamodule=dm)
    assert int(model.condition_bank_count) == 8
    fake = model.eval().sample_fake(3, torch.Generator().manual_seed(0))
    assert fake.images.shape == (3, 1, 4, 4) and model.condition_arrays(fake)["embeddings"].shape == (3, PHI)
    assert all(any(torch.equal(row, b) for b in model.condition_bank) for row in fake.labels)
    wrong = stage1()  # label-conditioned on embedding data: refused, naming the fix
    with pytest.raises(ValueError, match="model.num_classes=0"):
        trainer(limit_train_batches=1).fit(wrong, datamodule=dm)


# ----- configs ---------------------------------------------------------------------------------------------
def test_stage2_config_holds_the_stage1_configs_generator(compose_cfg: Compose) -> None:
    one = OmegaConf.to_container(compose_cfg("model=stackgan_stage1").model.generator, resolve=True)
    two = OmegaConf.to_container(compose_cfg("model=stackgan_stage2").model.stage1_generator, resolve=True)
    assert one == two
    cub1 = compose_cfg("experiment=stackgan_cub_stage1", "trainer=cpu")
    cub2 = compose_cfg("experiment=stackgan_cub_stage2", "trainer=cpu")
    assert OmegaConf.to_container(cub1.model.generator, resolve=True) == \
        OmegaConf.to_container(cub2.model.stage1_generator, resolve=True)
    assert (cub1.data.image_size, cub2.data.image_size, cub2.model.generator.in_size) == (64, 256, 64)


@needs_mnist
def test_the_mnist_stages_train_from_the_command_line_config(compose_cfg: Compose, tmp_path: Path) -> None:
    fast = ["trainer.max_epochs=1", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1", "metrics=none",
            "callbacks=model_checkpoint", "logger=[]"]
    _, objects = train(compose_cfg("experiment=stackgan_mnist_stage1", *fast))
    ckpt = Path(objects["trainer"].checkpoint_callback.dirpath) / "last.ckpt"
    assert objects["model"].sample_images(2).shape == (2, 1, 28, 28)
    _, objects = train(compose_cfg("experiment=stackgan_mnist_stage2", f"model.stage1_ckpt={ckpt}", *fast))
    model = objects["model"]
    assert model.sample_images(2).shape == (2, 1, 28, 28) and model.stage1.image_size == 14


@needs_mnist
@pytest.mark.slow
def test_both_stages_train_on_two_processes(tmp_path: Path) -> None:
    """`trainer.devices=2` from the command line, Stage-I then Stage-II from its checkpoint (test_ddp_cli.py's form)."""
    from test_ddp_cli import run_train

    fast = ["trainer.devices=2", "trainer.accelerator=cpu", "trainer.max_epochs=1", "trainer.limit_train_batches=4",
            "trainer.limit_val_batches=1", "logger=[]", "callbacks=model_checkpoint", "metrics=none",
            "trainer.enable_model_summary=false"]
    out = run_train("experiment=stackgan_mnist_stage1", *fast, run_dir=tmp_path / "one")
    assert "2 processes: trainer.strategy=auto -> ddp_find_unused_parameters_true" in out.stdout + out.stderr
    ckpt = tmp_path / "one" / "checkpoints" / "last.ckpt"
    run_train("experiment=stackgan_mnist_stage2", f"model.stage1_ckpt={ckpt}", *fast, run_dir=tmp_path / "two")
    two = torch.load(tmp_path / "two" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    one = torch.load(ckpt, weights_only=True)["state_dict"]
    assert all(torch.equal(v, one[f"generator.{k.removeprefix('stage1.')}"]) for k, v in two.items() if k.startswith("stage1."))


@pytest.mark.slow
def test_stage1_learns_class_conditioned_toy_images() -> None:
    """Three classes, each a flat image of its own grey level (+ a little noise): after 240 steps the samples drawn
    for each class are ordered like the class levels and apart (~25 s on a loaded CPU). KL weight 2.0 · 3/128: the
    authors' per-dimension pressure (2.0 on the mean over 128 dimensions) at this toy's c_dim = 3; the full 2.0 on
    3 dimensions pulls μ to 0 and the samples stop depending on the class (measured; kl_weight=0 learns too)."""
    torch.manual_seed(0)
    levels = torch.tensor([-0.7, 0.0, 0.7])
    labels = torch.randint(K, (512,))
    x = (levels[labels][:, None, None, None] + 0.05 * torch.randn(512, 1, 8, 8)).clamp(-1, 1)
    data = DataLoader(TensorDataset(x, labels), batch_size=32, shuffle=True)
    adam = {**ADAM, "lr": 1e-3, "betas": [0.5, 0.999]}
    model = stage1(generator={**S1, "base_channels": 32}, discriminator={**D1, "base_channels": 16}, kl_weight=2.0 * 3 / 128,
                   optimizer_g=adam, optimizer_d=adam)
    trainer(max_epochs=15).fit(model, data)
    model.eval()
    with torch.no_grad():
        means = torch.stack([model.sample_for_class(200, k, torch.Generator().manual_seed(k)).mean() for k in range(K)])
    assert (means.diff() > 0.15).all(), means  # measured: [-0.53, -0.21, 0.39]
