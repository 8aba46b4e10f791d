"""LAPGAN: the sampling chain, D_k on (h, l) pairs, the per-level losses by hand, which parameters each level's steps
move, exact resume, CC-LAPGAN, sample.py mode=pyramid and a toy that learns."""

import math
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from PIL import Image
from torch import Tensor
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from helpers import assert_same_state, half_and_resumed_runs, record_moved_networks, run_script
from lit_gans.models import LAPGAN
from lit_gans.models.base import Labeled
from lit_gans.models.steps import BatchState
from lit_gans.networks import LaplacianLevelDiscriminator
from lit_gans.pyramid import laplacian_pyramid, upsample
from lit_gans.sampling import load_model
from models.test_skeleton import ADAM, NS, adam_steps

SIZES = [5, 10, 20]
TINY = dict(
    generator={"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [1, 5, 5], "hidden": [8]},
    discriminator={"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [1, 5, 5], "hidden": [8]},
    level_generator={"_target_": "lit_gans.networks.LaplacianLevelGenerator", "channels": 1, "hidden": 4, "kernels": [3, 3]},
    level_discriminator={"_target_": "lit_gans.networks.LaplacianLevelDiscriminator", "channels": 1, "hidden": 4, "dropout": 0.0},
    loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=4, sizes=SIZES,
)
# each player and the networks it owns (module paths)
OWNED = {"g0": "generator.coarse", "d0": "discriminator", "g1": "generator.levels.0", "d1": "level_discriminators.0",
         "g2": "generator.levels.1", "d2": "level_discriminators.1"}


def tiny(**overrides: Any) -> LAPGAN:
    return LAPGAN(**{**TINY, **overrides})


def images(n: int = 32, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 20, 20, generator=g) * 2 - 1
    return TensorDataset(x, torch.randint(3, (n,), generator=g))


def trainer(max_epochs: int = 1, **kwargs: Any) -> L.Trainer:
    return L.Trainer(accelerator="cpu", max_epochs=max_epochs, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, **kwargs)


# ----- the chain ---------------------------------------------------------------------------------------------------
def test_each_level_adds_its_generated_residual_to_the_upsampled_coarser_image() -> None:
    torch.manual_seed(0)
    model = tiny().eval()
    z = model.sample_latent(3)
    assert z.shape == (3, 4 + 10 * 10 + 20 * 20)  # z_0, then one noise plane per finer level
    z0, z1, z2 = z.split([4, 100, 400], dim=1)
    with torch.no_grad():
        xs, hs = model.generator.pyramid(z)
        assert_close(xs[0], model.generator.coarse(z0), rtol=0, atol=0)
        for k, z_k in ((1, z1), (2, z2)):
            low = upsample(xs[k - 1], SIZES[k])
            assert_close(hs[k - 1], model.generator.levels[k - 1](z_k.reshape(3, 1, SIZES[k], SIZES[k]), low), rtol=0, atol=0)
            assert_close(xs[k], low + hs[k - 1], rtol=0, atol=0)
        assert_close(model.generator(z), xs[-1], rtol=0, atol=0)
        assert_close(model.sample_images(3, generator=torch.Generator().manual_seed(1)),
                     model.generator(model.sample_latent(3, generator=torch.Generator().manual_seed(1))), rtol=0, atol=0)
        # the last plane of z is the finest level's noise: it changes x_2 only
        z_other = torch.cat([z0, z1, -z2], dim=1)
        xs2, _ = model.generator.pyramid(z_other)
        assert torch.equal(xs2[0], xs[0]) and torch.equal(xs2[1], xs[1]) and not torch.equal(xs2[2], xs[2])
    with pytest.raises(ValueError, match=r"z is \(B, 504\)"):
        model.generator(torch.zeros(2, 4))


def test_d_k_scores_the_pair_it_reads_h_plus_l_as_the_paper() -> None:
    torch.manual_seed(0)
    d = LaplacianLevelDiscriminator(1, 10, hidden=4, dropout=0.0).eval()
    h, low, other = torch.randn(3, 2, 1, 10, 10).unbind(0)
    with torch.no_grad():
        score = d(h, low)
        assert score.shape == (2,)
        assert (d(h, other) - score).abs().min() > 1e-6  # another low-pass image, another score
        # "l_k explicitly added to h_k before the first convolution" (Section 4): only h + l matters
        assert_close(d(h + low - other, other), score, rtol=0, atol=1e-6)
        concat = LaplacianLevelDiscriminator(1, 10, hidden=4, dropout=0.0, combine="concat").eval()
        assert (concat(h + low - other, other) - concat(h, low)).abs().min() > 1e-6  # [h, l]: sees each apart
    with pytest.raises(ValueError, match="at least 9x9"):
        LaplacianLevelDiscriminator(1, 8)


# ----- the losses by hand -----------------------------------------------------------------------------------------
def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


@pytest.mark.parametrize("k", [0, 1, 2])
def test_level_losses_by_hand_on_the_real_pyramid(k: int) -> None:
    """D_k's loss −[mean log σ(D(h, l)) + mean log(1 − σ(D(h̃, l)))] and G_k's −mean log σ(D(h̃, l)) on fixed
    logits; D_k gets the real residual and the real l_k, and G_k's fake is made from that same real l_k."""
    torch.manual_seed(0)
    model = tiny()
    x = images(2).tensors[0]
    state = BatchState(x, 0)
    model.batch_start(state)
    coarsest, residuals, lows = laplacian_pyramid(x, SIZES)
    real = coarsest if k == 0 else residuals[k - 1]
    calls: list[tuple[Tensor, Tensor | None]] = []

    def scores(level: int, h: Tensor, low: Tensor | None, labels: Tensor | None) -> Tensor:
        assert level == k and labels is None
        calls.append((h, low))
        is_real = torch.equal(h, real)
        return torch.tensor([0.0, 2.0]) if is_real else torch.tensor([-1.0, 1.0])

    model.level_scores = scores
    d_loss, d_logs = model.level_discriminator_step(state, k)
    expected_d = (softplus(-0.0) + softplus(-2.0)) / 2 + (softplus(-1.0) + softplus(1.0)) / 2
    assert_close(d_loss, torch.tensor(expected_d))
    assert_close(d_logs[f"train/d{k}_loss"], d_loss) and assert_close(d_logs["train/d_loss"], d_loss)
    g_loss, g_logs = model.level_generator_step(state, k)
    assert_close(g_loss, torch.tensor((softplus(1.0) + softplus(-1.0)) / 2))
    (h_real, low_real), (h_fake, low_fake), (h_g, low_g) = calls
    assert torch.equal(h_real, real) and not h_fake.requires_grad and h_g.requires_grad  # D step: fake detached
    assert h_fake.shape == h_g.shape == real.shape
    if k == 0:
        assert low_real is low_fake is low_g is None
    else:  # conditioned on the REAL low-pass image of this batch (levels trained independently)
        for low in (low_real, low_fake, low_g):
            assert_close(low, lows[k - 1], rtol=0, atol=0)


def test_the_logged_totals_add_the_levels() -> None:
    torch.manual_seed(0)
    model = tiny()
    state = BatchState(images(4).tensors[0], 0)
    model.batch_start(state)
    losses = [model.level_discriminator_step(state, k)[0] for k in range(3)]
    assert_close(state.cache["d_loss"], sum(l.detach() for l in losses))


# ----- what each step moves ---------------------------------------------------------------------------------------
def test_each_levels_steps_move_only_that_levels_network() -> None:
    torch.manual_seed(0)
    model = tiny()
    steps = record_moved_networks(model, OWNED.values())
    trainer().fit(model, DataLoader(images(16), batch_size=8))
    moved: dict[str, set[str]] = {}
    for which, changed in steps:
        assert moved.setdefault(which, changed) == changed
    assert moved == {player: {name} for player, name in OWNED.items()}
    optimizers = [o.optimizer for o in model.optimizers()]
    assert len(optimizers) == 6 and all(adam_steps(o) == 2 for o in optimizers)  # g0, d0, g1, d1, g2, d2
    for optimizer, name in zip(optimizers, OWNED.values()):
        assert {id(p) for p in optimizer.param_groups[0]["params"]} == {id(p) for p in model.get_submodule(name).parameters()}


# ----- exact resume -----------------------------------------------------------------------------------------------
def test_a_resumed_run_matches_an_uninterrupted_one(tmp_path: Path) -> None:
    full, resumed, half = half_and_resumed_runs(
        tiny, lambda epochs: trainer(epochs), lambda: DataLoader(images(24), batch_size=8, shuffle=True), tmp_path)
    assert len(half["optimizer_states"]) == 6
    assert_same_state(full, resumed)


# ----- CC-LAPGAN --------------------------------------------------------------------------------------------------
def test_cc_lapgan_gives_the_class_to_every_level() -> None:
    torch.manual_seed(0)
    model = tiny(class_conditional=True, num_classes=3).eval()
    assert model.condition_kind == "label" and model.num_conditions == 3 and hasattr(model, "sample_grid")
    fake = model.sample_fake(4)
    assert isinstance(fake, Labeled) and fake.images.shape == (4, 1, 20, 20) and fake.labels.shape == (4,)
    y, other = torch.tensor([0, 1]), torch.tensor([2, 0])
    z = model.sample_latent(2)
    z0, *planes = model.generator.split_latent(z)
    with torch.no_grad():
        assert (model.generator.coarse(z0, y) - model.generator.coarse(z0, other)).abs().amax(dim=(1, 2, 3)).min() > 0
        x = torch.rand(2, 1, 20, 20) * 2 - 1
        assert (model.discriminator(laplacian_pyramid(x, SIZES)[0], y) - model.discriminator(
            laplacian_pyramid(x, SIZES)[0], other)).abs().min() > 0
        _, residuals, lows = laplacian_pyramid(x, SIZES)
        for k in (1, 2):
            g, d = model.generator.levels[k - 1], model.level_discriminators[k - 1]
            plane = planes[k - 1]
            assert (g(plane, lows[k - 1], y) - g(plane, lows[k - 1], other)).abs().amax(dim=(1, 2, 3)).min() > 0
            assert (d(residuals[k - 1], lows[k - 1], y) - d(residuals[k - 1], lows[k - 1], other)).abs().min() > 0
        grid, columns = model.sample_grid(0, columns=2)
        assert grid.shape == (6, 1, 20, 20) and columns == 2
        assert model.sample_for_class(5, 1).shape == (5, 1, 20, 20)
    model.train()
    trainer().fit(model, DataLoader(images(16), batch_size=8))  # (images, labels) batches reach every level
    assert not hasattr(tiny(), "sample_grid")  # unconditional: sample.py and grids treat it as G(z)
    with pytest.raises(ValueError, match="num_classes >= 2"):
        tiny(class_conditional=True, num_classes=1)


def test_the_configs_build_cc_lapgan_and_the_papers_cifar10_pyramid(compose_cfg: Any) -> None:
    from test_configs import build

    model, _ = build(compose_cfg("model=lapgan", "data=mnist", "model.class_conditional=true"))
    assert model.num_conditions == 10 and model.sample_for_class(2, 3).shape == (2, 1, 28, 28)
    cfg = compose_cfg("experiment=lapgan_cifar10", "model.class_conditional=true")
    assert list(cfg.model.sizes) == [8, 16, 32] and cfg.model.level_generator.hidden == 128
    model = instantiate(cfg.model, _recursive_=False)
    assert model.sample_images(2).shape == (2, 3, 32, 32) and model.d_scores(model.sample_fake(2)).shape == (2,)
    assert [type(o).__name__ for o in model.configure_optimizers()[0]] == ["SGD"] * 6
    crops = compose_cfg("experiment=lapgan_cifar10_crops")  # the paper's text: 8 -> 14 -> 28 on 28x28 crops
    assert (crops.data.random_crop, list(crops.data.shape), list(crops.model.sizes)) == (28, [3, 28, 28], [8, 14, 28])
    model = instantiate(crops.model, _recursive_=False)
    assert model.sample_images(2).shape == (2, 3, 28, 28) and crops.model.level_generator.hidden == 128


def test_bad_options_name_the_fix() -> None:
    with pytest.raises(ValueError, match="end at the image size"):
        trainer(max_steps=1).fit(tiny(), DataLoader(TensorDataset(torch.zeros(8, 1, 28, 28), torch.zeros(8)), batch_size=8))
    with pytest.raises(ValueError, match="increasing"):
        tiny(sizes=[10, 5, 20])
    with pytest.raises(ValueError, match="gradient penalty"):
        tiny(loss={**NS, "gp_weight": 10.0})
    with pytest.raises(ValueError, match="instance_noise"):
        tiny(instance_noise={"sigma": 0.1})
    with pytest.raises(ValueError, match="does not support PacGAN"):
        tiny(pack=2)


# ----- sample.py mode=pyramid ---------------------------------------------------------------------------------------
def test_sample_py_draws_every_level_of_the_chain(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = tiny()
    fit = trainer(max_steps=6)
    fit.fit(model, DataLoader(images(16), batch_size=8))
    ckpt = tmp_path / "lapgan.ckpt"
    fit.save_checkpoint(ckpt)
    loaded = load_model(ckpt)  # through the checkpoint allow-list
    assert_same_state(loaded, model)
    rows, n = loaded.pyramid_rows(3, generator=torch.Generator().manual_seed(0))
    assert n == 3 and rows.shape == (5 * 3, 1, 20, 20)  # x_0, h_1, x_1, h_2, x_2 (the final sample)
    assert_close(rows[-3:], loaded.sample_images(3, generator=torch.Generator().manual_seed(0)), rtol=0, atol=0)
    run_script("sample", f"ckpt_path={ckpt}", "mode=pyramid", "n=4", f"out={tmp_path / 'pyramid.png'}")
    assert Image.open(tmp_path / "pyramid.png").size == (4 * 22 + 2, 5 * 22 + 2)  # 4 columns, 5 rows of 20 + 2 px


# ----- a toy that learns ------------------------------------------------------------------------------------------
@pytest.mark.slow  # ~10 s alone, ~35 s on a loaded 2-core machine
def test_the_chain_learns_a_two_image_distribution() -> None:
    """Real images are ±P for a smooth 20x20 pattern P (detail at every level). From the real pyramid each level
    learns its part: the chained samples move from near 0 to near one of ±P (mean squared distance to the nearer
    one below half its value at initialisation). Mode coverage is not asserted: this tiny model collapsed onto +P
    in a trial run (10 epochs), as small GANs do on two-point data."""
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 20), torch.linspace(-1, 1, 20), indexing="ij")
    pattern = (torch.sin(3 * xx) * torch.cos(2 * yy)).expand(1, 1, 20, 20)
    x = pattern * (torch.randint(0, 2, (512, 1, 1, 1)) * 2 - 1.0)

    def distance(model: LAPGAN) -> Tensor:
        with torch.no_grad():
            s = model.sample_images(256, generator=torch.Generator().manual_seed(1))
        return torch.minimum((s - pattern).pow(2).mean((1, 2, 3)), (s + pattern).pow(2).mean((1, 2, 3))).mean()

    adam = {**ADAM, "lr": 2e-3, "betas": [0.5, 0.999]}
    model = tiny(optimizer_g=adam, optimizer_d=adam)
    before = distance(model)
    trainer(max_epochs=10).fit(model, DataLoader(TensorDataset(x, torch.zeros(512)), batch_size=32, shuffle=True))
    assert distance(model) < 0.5 * before
