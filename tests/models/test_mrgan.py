"""MRGAN and MDGAN (Che et al. 2017): which networks each step moves (the others bit-identical), each step's loss
against hand computation on the model's own networks, exact resume of every optimizer, configuration errors, and a
2-D toy on which the regulariser makes G∘E(x) return every point to its own mode."""

import copy
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from helpers import record_moved_networks
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from lit_gans.models import MDGAN, MRGAN
from lit_gans.models.steps import BatchState

H = 16
TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 2, "out_shape": [2], "hidden": [H], "output_activation": "none"}
BN_G = {**TOY_G, "batch_norm": True}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [H]}
TOY_E = {"_target_": "lit_gans.networks.MLPEncoder", "in_shape": [2], "out_features": 2, "hidden": [H], "batch_norm": False}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3, "betas": [0.5, 0.999]}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss", "generator": "lit_gans.losses.non_saturating_generator_loss",
      "logits": True}
NETS = ("generator", "encoder", "discriminator", "diffusion_discriminator")


def toy(cls: type = MRGAN, **overrides: Any) -> MRGAN:
    kw = {"generator": TOY_G, "discriminator": TOY_D, "encoder": TOY_E, "loss": NS, "optimizer_g": ADAM,
          "optimizer_d": ADAM, "latent_dim": 2, "lambda1": 0.5, "lambda2": 0.25}
    if cls is MDGAN:
        kw["optimizer_dd"] = ADAM
    return cls(**{**kw, **overrides})


def loader(x: torch.Tensor, batch_size: int = 16) -> DataLoader:
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def trainer(max_epochs: int = 1) -> L.Trainer:
    return L.Trainer(accelerator="cpu", max_epochs=max_epochs, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False)


def sp(v: torch.Tensor) -> torch.Tensor:
    return torch.log1p(torch.exp(v))  # softplus: −log sigmoid(−v)


# ----- who moves ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, expected", [
    (MRGAN, [("d", {"discriminator"}), ("g", {"generator", "encoder"})]),
    (MDGAN, [("d", {"discriminator"}), ("g", {"generator", "encoder"}),  # manifold step: D_m, then G and E
             ("dd", {"diffusion_discriminator"}), ("g", {"generator"})]),  # diffusion step: D_d, then G alone
])
def test_each_step_moves_exactly_its_networks_and_leaves_the_others_bit_identical(cls: type, expected: list) -> None:
    torch.manual_seed(0)
    model = toy(cls)
    moved = record_moved_networks(model, [n for n in NETS if hasattr(model, n)])
    trainer().fit(model, loader(torch.randn(32, 2)))
    assert moved == expected * 2
    groups = [{id(p) for p in o.optimizer.param_groups[0]["params"]} for o in model.optimizers()]
    owned = [{id(p) for net in model.players[name] for p in getattr(model, net).parameters()} for name in model.players]
    assert groups == owned  # one optimizer per player, in `players` order (G and E share one)
    assert groups[0] == {id(p) for p in [*model.generator.parameters(), *model.encoder.parameters()]}


# ----- each step's loss by hand --------------------------------------------------------------------------------------
def test_mrgan_steps_against_hand_computation() -> None:
    torch.manual_seed(0)
    model = toy()
    x = torch.randn(5, 2)
    g, e, d, l1, l2 = model.generator, model.encoder, model.discriminator, 0.5, 0.25

    torch.manual_seed(1)
    d_loss, _ = model.discriminator_step(BatchState(x, 0))
    torch.manual_seed(1)
    fake = g(model.sample_latent(5))
    assert_close(d_loss, sp(-d(x)).mean() + sp(d(fake)).mean())  # the vanilla GAN's D

    torch.manual_seed(2)
    g_loss, logs = model.generator_step(BatchState(x, 0))
    torch.manual_seed(2)
    fake = g(model.sample_latent(5))
    rec = g(e(x))
    t_e = l1 * (x - rec).pow(2).sum(1).mean() + l2 * sp(-d(rec)).mean()  # λ1 ‖x − G∘E(x)‖² − λ2 log D(G∘E(x))
    assert_close(g_loss, sp(-d(fake)).mean() + t_e)  # T_G = −log D(G(z)) + T_E
    assert_close(logs["train/regularizer"], t_e)
    assert_close(logs["train/D(G(E(x)))"], torch.sigmoid(d(rec)).mean())
    assert_close(model.reconstruct(x), rec)
    assert_close(model.encode(x), e(x))
    assert model.has_encoder


def test_mdgan_steps_against_hand_computation() -> None:
    torch.manual_seed(0)
    model = toy(MDGAN, lambda2=1.0)
    x = torch.randn(5, 2)
    g, e, d_m, d_d = model.generator, model.encoder, model.discriminator, model.diffusion_discriminator
    assert type(d_d) is type(d_m) and d_d is not d_m  # null config: D_m's architecture, its own weights
    rec = g(e(x))

    loss, logs = model.manifold_discriminator_step(BatchState(x, 0))  # x real, G∘E(x) fake
    assert_close(loss, sp(-d_m(x)).mean() + sp(d_m(rec)).mean())
    assert_close(logs["train/D_m(G(E(x)))"], torch.sigmoid(d_m(rec)).mean())
    loss, _ = model.manifold_generator_step(BatchState(x, 0))  # λ d(x, G∘E(x)) − log D_m(G∘E(x))
    assert_close(loss, 0.5 * (x - rec).pow(2).sum(1).mean() + sp(-d_m(rec)).mean())

    torch.manual_seed(3)
    loss, _ = model.diffusion_discriminator_step(BatchState(x, 0))  # G∘E(x) real, G(z) fake
    torch.manual_seed(3)
    fake = g(model.sample_latent(5))
    assert_close(loss, sp(-d_d(rec)).mean() + sp(d_d(fake)).mean())
    torch.manual_seed(4)
    loss, _ = model.diffusion_generator_step(BatchState(x, 0))  # −log D_d(G(z))
    torch.manual_seed(4)
    assert_close(loss, F.softplus(-d_d(g(model.sample_latent(5)))).mean())


# ----- resume ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [MRGAN, MDGAN])
def test_resume_continues_exactly(cls: type, tmp_path: Path) -> None:
    x = torch.randn(48, 2, generator=torch.Generator().manual_seed(5))

    def run(max_epochs: int, ckpt: Path | None = None, save: Path | None = None) -> MRGAN:
        torch.manual_seed(0)
        model = toy(cls, generator=BN_G)  # with batch norm: both sets of G's statistics resume too
        tr = trainer(max_epochs)
        tr.fit(model, loader(x), ckpt_path=ckpt)
        if save is not None:
            tr.save_checkpoint(save)
        return model

    full = run(2)
    run(1, save=tmp_path / "half.ckpt")
    assert len(torch.load(tmp_path / "half.ckpt", weights_only=True)["optimizer_states"]) == len(cls.players)
    resumed = run(2, ckpt=tmp_path / "half.ckpt")
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert_close(a, b, rtol=0, atol=0, msg=lambda m, n=name: f"{n}: {m}")
    for a, b in zip(full.optimizers(), resumed.optimizers(), strict=True):
        for sa, sb in zip(a.optimizer.state.values(), b.optimizer.state.values(), strict=True):
            assert_close(sa["exp_avg_sq"], sb["exp_avg_sq"], rtol=0, atol=0)


# ----- G's batch-norm statistics: one set for G(z), one for G∘E(x) ---------------------------------------------------
def buffers(module: torch.nn.Module) -> list[torch.Tensor]:
    return [b.clone() for b in module.buffers()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("cls", [MRGAN, MDGAN])
def test_reconstructions_and_samples_keep_separate_batch_norm_statistics(cls: type) -> None:
    torch.manual_seed(0)
    model = toy(cls, generator=BN_G).train()
    stats = model.reconstruction_statistics
    x = torch.randn(16, 2) * 5 + 3
    g_before, stats_before = buffers(model.generator), buffers(stats)
    reconstruction = model.reconstruct(x)
    assert same(g_before, buffers(model.generator)) and not same(stats_before, buffers(stats))
    assert_close(reconstruction, copy.deepcopy(model.generator).train()(model.encode(x)))  # the batch's statistics
    stats_after = buffers(stats)
    model.sample_fake(16)
    assert not same(g_before, buffers(model.generator)) and same(stats_after, buffers(stats))
    # eval mode: each pass normalises with its own running statistics
    model.eval()
    g_reconstructing = copy.deepcopy(model.generator)
    for name, key in stats.network_keys().items():
        g_reconstructing.get_submodule(key.rsplit(".", 1)[0]).register_buffer(key.rsplit(".", 1)[1], getattr(stats, name).clone())
    with torch.no_grad():
        assert_close(model.reconstruct(x), g_reconstructing(model.encode(x)))
        z = torch.randn(8, 2)
        assert_close(model.generator(z), copy.deepcopy(model.generator)(z))
        assert not torch.allclose(model.generator(z), g_reconstructing(z))


@pytest.mark.parametrize("cls, reconstructions", [(MRGAN, 2), (MDGAN, 6)])
def test_in_training_each_set_of_statistics_counts_its_own_passes(cls: type, reconstructions: int) -> None:
    """Two batches. G(z): MRGAN in its D step and its G step, MDGAN in its two diffusion steps (4 either way);
    G∘E(x): MRGAN in its G/E step, MDGAN in D_m's, the manifold G/E and D_d's steps. Shared, they would count 6 / 10."""
    torch.manual_seed(0)
    model = toy(cls, generator=BN_G)
    trainer().fit(model, loader(torch.randn(32, 2)))
    counts = [int(m.num_batches_tracked) for m in model.generator.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert counts and set(counts) == {4}
    stats = model.reconstruction_statistics
    assert {int(getattr(stats, n)) for n in stats.network_keys() if n.endswith("num_batches_tracked")} == {reconstructions}


def test_a_checkpoint_without_reconstruction_statistics_loads_them_from_g() -> None:
    torch.manual_seed(0)
    old = toy(generator=BN_G)
    old.sample_fake(16)  # G's statistics move away from their initial values
    state = {k: v for k, v in old.state_dict().items() if not k.startswith("reconstruction_statistics.")}
    new = toy(generator=BN_G)
    new.load_state_dict(state)  # strict
    for name, key in new.reconstruction_statistics.network_keys().items():
        torch.testing.assert_close(getattr(new.reconstruction_statistics, name), old.generator.state_dict()[key])


# ----- refusals --------------------------------------------------------------------------------------------------
def test_configuration_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="one of"):
        toy(distance="cosine")
    with pytest.raises(ValueError, match=">= 0"):
        toy(lambda1=-1.0)
    with pytest.raises(ValueError, match="model.pack=1"):
        toy(pack=2)
    with pytest.raises(ValueError, match="feature_matching=null"):
        toy(feature_matching="net.0")
    with pytest.raises(ValueError, match="loss=non_saturating"):
        toy(MDGAN, loss={"discriminator": "lit_gans.losses.wasserstein_critic_loss",
                         "generator": "lit_gans.losses.wasserstein_generator_loss", "gp_weight": 10.0})
    with pytest.raises(ValueError, match="loss.r1_gamma=0"):  # R1 reached D_m only, silently (D_d's loss skips it)
        toy(MDGAN, loss={**NS, "r1_gamma": 10.0})
    toy(loss={**NS, "r1_gamma": 10.0})  # MRGAN's single D takes it


# ----- learning --------------------------------------------------------------------------------------------------
def ring(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n points of 8 Gaussians (std 0.05) on a circle of radius 2, and each point's mode."""
    g = torch.Generator().manual_seed(seed)
    mode = torch.randint(0, 8, (n,), generator=g)
    angle = mode * (2 * torch.pi / 8)
    return torch.stack([2 * angle.cos(), 2 * angle.sin()], 1) + 0.05 * torch.randn(n, 2, generator=g), mode


@pytest.mark.parametrize("cls", [MRGAN, MDGAN])
def test_on_the_ring_the_regulariser_returns_every_point_to_its_own_mode(cls: type, one_thread: None) -> None:
    """The mechanism the paper relies on (Section 3.2): with the geometric regulariser, G∘E(x) of a point of any
    mode lands in that mode, so every mode is in G's range (a plain GAN's G has no such constraint). A behaviour check
    with a wide margin, not a race: after 100 batches of 64 (seconds) the reconstruction error fell tenfold and, for
    every one of the 8 modes, at least 90 % of held-out points come back nearest their own mode's centre (seeds 0-2
    at 60 batches: error down 100- to 1000-fold, 100 % of every mode)."""
    torch.manual_seed(0)
    hidden = {"hidden": [32, 32]}
    model = toy(cls, generator={**TOY_G, **hidden}, encoder={**TOY_E, **hidden}, discriminator={**TOY_D, **hidden},
                optimizer_g={**ADAM, "lr": 3e-3}, lambda1=1.0, lambda2=1.0 if cls is MDGAN else 0.1)
    test, modes = ring(2000, seed=1)
    with torch.no_grad():
        start = (model.reconstruct(test) - test).pow(2).sum(1).mean()
    x, _ = ring(100 * 64, seed=0)
    trainer().fit(model, loader(x, batch_size=64))
    model.eval()
    with torch.no_grad():
        rec = model.reconstruct(test)
        error = (rec - test).pow(2).sum(1).mean()
        angles = torch.arange(8) * torch.pi / 4
        landed = torch.cdist(rec, 2 * torch.stack([angles.cos(), angles.sin()], 1)).argmin(1)
    per_mode = torch.stack([(landed[modes == k] == k).float().mean() for k in range(8)])
    assert error < start / 10, (start, error)
    assert per_mode.min() > 0.9, per_mode


def test_the_configs_defaults(compose_cfg: Any) -> None:
    mrgan, mdgan = compose_cfg("model=mrgan").model, compose_cfg("model=mdgan").model
    assert (mrgan.lambda1, mrgan.lambda2, mrgan.distance) == (1e-2, 1e-2, "l2")
    assert (mdgan.lambda1, mdgan.lambda2, mdgan.diffusion_discriminator) == (1e-2, 1.0, None)  # λ2 = 1: Algorithm 1
    ring = compose_cfg("experiment=mdgan_ring8").model
    assert ring.encoder._target_ == "lit_gans.networks.MLPEncoder" and ring.encoder.hidden == [128, 128]
    # D_d at G's lr: at gan_ring8's D lr (1e-4) D_d stayed at chance and G(z) collapsed (docs/sections/mrgan.md)
    assert (ring.optimizer_dd.lr, ring.optimizer_g.lr, ring.optimizer_d.lr) == (1e-3, 1e-3, 1e-4)
