"""GP-GAN's blending GAN: the blending loss by hand, which networks each step moves, the critic's clipping and
n_critic schedule, exact resume, GP-GAN's high-resolution blend through the model, clear errors, and a short
learning run on the offline photo composites."""

from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from helpers import assert_same_state, half_and_resumed_runs
from hydra.errors import InstantiationException
from models.test_skeleton import W, snapshot
from torch.testing import assert_close
from torch.utils.data import DataLoader

from lit_gans.blending import gp_blend
from lit_gans.data import Paired
from lit_gans.data.paired import collate_paired
from lit_gans.losses import blending_gan_loss, l2_blending_loss
from lit_gans.models import BlendingGAN
from lit_gans.models.steps import BatchState

SIZE = 16
G = {"_target_": "lit_gans.networks.BlendingGenerator", "in_shape": [3, SIZE, SIZE], "nef": 4, "ngf": 4, "bottleneck": 8}
D = {"_target_": "lit_gans.networks.BlendingCritic", "image_size": SIZE, "in_channels": None, "ndf": 4}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3, "betas": [0.5, 0.999]}


def blending_gan(**overrides: Any) -> BlendingGAN:
    kwargs = dict(generator=G, discriminator=D, loss=W, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=0, n_critic=5)
    return BlendingGAN(**{**kwargs, **overrides})


def pairs(n: int, seed: int = 0) -> Paired:
    """Composites a (the centre square brightened) and targets b (the image): a learnable map."""
    g = torch.Generator().manual_seed(seed)
    b = torch.rand(n, 3, SIZE, SIZE, generator=g) * 2 - 1
    a = b.clone()
    a[..., 4:12, 4:12] = (a[..., 4:12, 4:12] + 0.5).clamp(-1, 1)
    return Paired(a, b, torch.full((n,), -1))


def pair_loader(n_batches: int, batch_size: int = 4, shuffle: bool = False) -> DataLoader:
    data = pairs(n_batches * batch_size)
    items = [(data.a[i], data.b[i], -1) for i in range(len(data.a))]
    return DataLoader(items, batch_size=batch_size, collate_fn=collate_paired, shuffle=shuffle)


def trainer(max_epochs: int = 1, **kwargs: Any) -> L.Trainer:
    return L.Trainer(accelerator="cpu", max_epochs=max_epochs, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0, **kwargs)


def test_the_loss_terms_by_hand() -> None:
    out, target = torch.tensor([[0.5, -1.0, 0.0, 1.0]]), torch.tensor([[1.0, 1.0, 0.0, -1.0]])
    assert_close(l2_blending_loss(out, target), torch.tensor((0.25 + 4 + 0 + 4) / 4))
    assert_close(blending_gan_loss(torch.tensor(2.0), torch.tensor(-3.0), 0.999), torch.tensor(0.999 * 2 - 0.001 * 3))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        blending_gan_loss(torch.tensor(1.0), torch.tensor(1.0), 1.5)


def test_step_losses_are_the_blending_loss_and_the_wgan_critic() -> None:
    torch.manual_seed(0)
    model = blending_gan()
    real = pairs(3)
    state = BatchState(real, 0)
    torch.manual_seed(1)
    d_loss, d_logs = model.discriminator_step(state)
    torch.manual_seed(1)
    fake = model.generator(real.a)  # BN in training mode: the same batch gives the same output
    expected_d = model.discriminator(fake).mean() - model.discriminator(real.b).mean()  # E f(G(x)) − E f(y)
    assert_close(d_loss, expected_d)
    assert_close(d_logs["train/em_estimate"], -expected_d)
    g_loss, g_logs = model.generator_step(state)
    fake = model.generator(real.a)
    l2 = ((fake - real.b) ** 2).mean()
    assert_close(g_loss, 0.999 * l2 + 0.001 * -model.discriminator(fake).mean())
    assert_close(g_logs["train/l2"], l2)


def test_the_critic_sees_one_image_and_the_generator_keeps_the_size() -> None:
    model = blending_gan()
    assert model.discriminator.net[0].in_channels == 3
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    stats = [b.clone() for b in model.generator.buffers()]
    assert model.translate(x).shape == x.shape
    assert_close(model.translate(x[:1]), model.translate(x)[:1])  # eval mode: running statistics, per image
    assert all(torch.equal(a, b) for a, b in zip(stats, model.generator.buffers()))


def test_critic_steps_every_batch_with_clipping_and_g_every_fifth() -> None:
    torch.manual_seed(0)
    model = blending_gan(clip_value=0.01)
    g0, d0 = snapshot(model.generator), snapshot(model.discriminator)
    fit = trainer()
    fit.fit(model, pair_loader(10))
    opt_g, opt_d = (o.optimizer for o in model.optimizers())
    steps = [opt.state[next(iter(opt.state))]["step"].item() for opt in (opt_g, opt_d)]
    assert steps == [2, 10] and fit.global_step == 12  # n_critic = 5: batches 5 and 10 take a G step
    assert all(p.abs().max() <= 0.01 for p in model.discriminator.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(g0, snapshot(model.generator)))
    assert any(not torch.equal(a, b) for a, b in zip(d0, snapshot(model.discriminator)))


def test_the_critic_step_moves_only_d_and_the_g_step_only_g() -> None:
    torch.manual_seed(0)
    d_only = blending_gan(n_critic=100)  # 3 batches: critic steps only
    g0, d0 = snapshot(d_only.generator), snapshot(d_only.discriminator)
    trainer().fit(d_only, pair_loader(3))
    assert all(torch.equal(a, b) for a, b in zip(g0, snapshot(d_only.generator)))  # bit-identical
    assert any(not torch.equal(a, b) for a, b in zip(d0, snapshot(d_only.discriminator)))

    class GOnly(BlendingGAN):
        steps = (BlendingGAN.steps[1],)

    g_only = GOnly(generator=G, discriminator=D, loss=W, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=0, n_critic=1)
    g0, d0 = snapshot(g_only.generator), snapshot(g_only.discriminator)
    trainer().fit(g_only, pair_loader(2))
    assert all(torch.equal(a, b) for a, b in zip(d0, snapshot(g_only.discriminator)))
    assert any(not torch.equal(a, b) for a, b in zip(g0, snapshot(g_only.generator)))


def test_l2_alone_never_moves_the_critic() -> None:
    torch.manual_seed(0)
    model = blending_gan(l2_weight=1.0, n_critic=5)
    d0 = snapshot(model.discriminator)
    fit = trainer()
    fit.fit(model, pair_loader(3))
    assert all(torch.equal(a, b) for a, b in zip(d0, snapshot(model.discriminator)))
    assert fit.global_step == 3  # no critic: a G step every batch


def test_exact_resume(tmp_path: Path) -> None:
    make_trainer = lambda epochs: L.Trainer(accelerator="cpu", max_epochs=epochs, logger=False,
                                            enable_checkpointing=False, enable_progress_bar=False,
                                            enable_model_summary=False, limit_val_batches=0)
    full, resumed, half = half_and_resumed_runs(lambda: blending_gan(n_critic=2), make_trainer,
                                                lambda: pair_loader(3, shuffle=True), tmp_path)
    assert len(half["optimizer_states"]) == 2 and "wgan_schedule" in half
    assert_same_state(full, resumed)


def test_blend_runs_the_gan_then_the_gaussian_poisson_pyramid() -> None:
    torch.manual_seed(0)
    model = blending_gan().eval()
    src, dst = torch.rand(1, 3, 40, 56), torch.rand(1, 3, 40, 56)
    mask = torch.zeros(1, 1, 40, 56)
    mask[..., 10:30, 20:40] = 1
    out = model.blend(src, dst, mask)
    assert out.shape == src.shape and 0 <= out.min() and out.max() <= 1
    assert not torch.allclose(out, gp_blend(src, dst, mask, image_size=SIZE))  # the GAN's colours, not the composite's
    with pytest.raises(ValueError, match="resize the mask"):
        model.blend(src, dst, mask[..., :20, :])


def test_bad_settings_and_sizes_are_refused_naming_the_fix() -> None:
    with pytest.raises(ValueError, match="l2_weight"):
        blending_gan(l2_weight=2.0)
    with pytest.raises(ValueError, match="gradient penalty"):
        blending_gan(loss={**W, "gp_weight": 10.0})
    with pytest.raises(InstantiationException, match="power of two"):  # wraps the network's ValueError
        blending_gan(generator={**G, "in_shape": [3, 24, 24]})
    model = blending_gan()
    with pytest.raises(ValueError, match=f"Resize it to {SIZE}x{SIZE}"):
        model.check_translation_size(32, 32)
    with pytest.raises(ValueError, match=f"resize them to {SIZE}x{SIZE}"):
        model.translate(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="data=photo_composites"):
        model.real_samples(torch.zeros(2, 3, SIZE, SIZE))


def test_g_learns_to_blend_held_out_photo_composites(tmp_path: Path, one_thread: None) -> None:
    """80 batches (16 G steps) of the offline composites at 16 px: G's L2 to the held-out targets (other
    photographs) falls below half the untrained G's. (G alone stays far above the composite's own L2, which is exact
    outside the pasted square: its 1x1 code keeps colours, not detail, which is why GP-GAN uses only its colours.)"""
    from lit_gans.data import PhotoCompositesDataModule

    torch.manual_seed(0)
    dm = PhotoCompositesDataModule(root=str(tmp_path), image_size=16, num_samples=256, num_val_samples=64, batch_size=16)
    dm.prepare_data()
    model = blending_gan(generator={**G, "nef": 8, "ngf": 8, "bottleneck": 64}, discriminator={**D, "ndf": 8},
                         optimizer_g={**ADAM, "lr": 2e-3}, optimizer_d={**ADAM, "lr": 2e-4})  # the authors' rates
    val = next(iter(dm.val_dataloader()))
    before = ((model.translate(val.a) - val.b) ** 2).mean()
    trainer(max_epochs=5).fit(model, dm.train_dataloader())
    after = ((model.translate(val.a) - val.b) ** 2).mean()
    assert after < 0.5 * before
