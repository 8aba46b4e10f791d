"""pix2pix: loss values by hand, which networks each step moves, the authors' step order, test-time dropout,
digit accuracy, and a short learning run on mnist_edges."""

from typing import Any

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from helpers import needs_mnist, t
from models.test_skeleton import ADAM, NS, snapshot
from torch.testing import assert_close
from torch.utils.data import DataLoader

from lit_gans.data import MNISTEdgesDataModule, Paired
from lit_gans.data.paired import collate_paired
from lit_gans.losses import halved, l1_translation_loss
from lit_gans.models import Pix2Pix
from lit_gans.models.pix2pix import center_crop, translation_mode
from lit_gans.models.steps import BatchState, Step

SIZE = 8
UNET = {"_target_": "lit_gans.networks.UNetGenerator", "in_shape": [1, SIZE, SIZE], "ngf": 4, "norm": "batch"}
PATCH = {"_target_": "lit_gans.networks.PatchDiscriminator", "in_channels": None, "ndf": 4, "n_layers": 1, "norm": "batch"}


def pix2pix(**overrides: Any) -> Pix2Pix:
    kwargs = dict(generator=UNET, discriminator=PATCH, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=0)
    return Pix2Pix(**{**kwargs, **overrides})


def pairs(n: int, seed: int = 0) -> Paired:
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(n, 1, SIZE, SIZE, generator=g) * 2 - 1
    return Paired(a, -a.flip(-1), torch.zeros(n, dtype=torch.long))  # a learnable map: negate and mirror


def pair_loader(n_batches: int, batch_size: int = 4) -> DataLoader:
    data = pairs(n_batches * batch_size)
    items = [(data.a[i], data.b[i], int(data.labels[i])) for i in range(len(data.a))]
    return DataLoader(items, batch_size=batch_size, collate_fn=collate_paired)


def fit(model: L.LightningModule, n_batches: int) -> L.Trainer:
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    trainer.fit(model, pair_loader(n_batches))
    return trainer


# ----- the loss terms on tiny tensors ------------------------------------------------------------------
def test_l1_term_and_halved_d_loss_by_hand() -> None:
    out, target = t(0.5, -1.0, 0.0, 1.0).view(1, 1, 2, 2), t(1.0, 1.0, 0.0, -1.0).view(1, 1, 2, 2)
    assert_close(l1_translation_loss(out, target), t(0.5 + 2.0 + 0.0 + 2.0).sum() / 4)
    d_real, d_fake = t(0.0, 0.0), t(0.0, 0.0)  # logits 0: log 2 per term
    assert_close(halved(NS_D(d_real, d_fake)), t(0.5 * 2 * torch.log(torch.tensor(2.0)).item()).squeeze())


def NS_D(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    from lit_gans.losses import minimax_discriminator_loss

    return minimax_discriminator_loss(d_real, d_fake)


def test_step_losses_equal_the_paper_formulas() -> None:
    torch.manual_seed(0)
    model = pix2pix()
    real = pairs(3)
    state = BatchState(real, 0)
    model.batch_start(state)
    fake = state.cache["fake"]
    d_loss, logs = model.discriminator_step(state)
    d_real = model.discriminator(torch.cat([real.a, real.b], 1))  # (B, 1, h, w) patch logits
    d_fake = model.discriminator(torch.cat([real.a, fake.detach()], 1))
    expected_d = 0.5 * (F.softplus(-d_real).mean() + F.softplus(d_fake).mean())  # ½ (BCE(real, 1) + BCE(fake, 0))
    assert_close(d_loss, expected_d)
    assert d_loss.requires_grad and logs["train/d_loss"] is d_loss
    g_loss, logs = model.generator_step(state)
    adversarial = F.softplus(-model.discriminator(torch.cat([real.a, fake], 1))).mean()  # −log D(x, G(x))
    l1 = (fake - real.b).abs().mean()
    assert_close(g_loss, adversarial + 100.0 * l1)
    assert_close(logs["train/l1"], l1.detach())


@pytest.mark.parametrize("lambda_l1, lambda_gan", [(0.0, 1.0), (100.0, 0.0), (10.0, 2.0)])
def test_ablation_weights(lambda_l1: float, lambda_gan: float) -> None:
    torch.manual_seed(0)
    model = pix2pix(lambda_l1=lambda_l1, lambda_gan=lambda_gan)
    real = pairs(2)
    state = BatchState(real, 0)
    model.batch_start(state)
    fake = state.cache["fake"]
    adversarial = F.softplus(-model.discriminator(torch.cat([real.a, fake], 1))).mean()
    l1 = (fake - real.b).abs().mean()
    assert_close(model.generator_step(state)[0], lambda_gan * adversarial + lambda_l1 * l1)
    assert model.discriminator_step_due(0) == (lambda_gan > 0)  # L1 alone: D is not trained


def test_unconditional_d_reads_the_output_only() -> None:
    model = pix2pix(conditional_d=False)
    assert model.discriminator.net[0].in_channels == 1
    assert pix2pix().discriminator.net[0].in_channels == 2  # (input, output) concatenated


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="n_critic=1"):
        pix2pix(n_critic=5)
    with pytest.raises(ValueError, match="not both 0"):
        pix2pix(lambda_l1=0.0, lambda_gan=0.0)
    with pytest.raises(NotImplementedError, match="translate"):
        pix2pix().sample_fake(2)


# ----- the steps -----------------------------------------------------------------------------------------
class Counting(Pix2Pix):
    """Counts G's forward passes per training batch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.g_calls = 0
        self.generator.register_forward_hook(lambda *_: setattr(self, "g_calls", self.g_calls + 1))


def test_one_g_forward_per_batch_d_first_then_g_and_both_move() -> None:
    torch.manual_seed(0)
    model = Counting(**dict(generator=UNET, discriminator=PATCH, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM))
    g0, d0 = snapshot(model.generator), snapshot(model.discriminator)
    trainer = fit(model, 3)
    assert model.g_calls == 3  # G(x) once per batch, shared by the D and the G step (the authors' order)
    opt_g, opt_d = (o.optimizer for o in model.optimizers())
    assert [opt.state[next(iter(opt.state))]["step"].item() for opt in (opt_g, opt_d)] == [3, 3]
    assert trainer.global_step == 6
    assert all(not torch.equal(a, b) for a, b in zip(g0, snapshot(model.generator)))
    assert any(not torch.equal(a, b) for a, b in zip(d0, snapshot(model.discriminator)))


class DOnly(Pix2Pix):
    steps = (Step("d", "discriminator_step"),)


class GOnly(Pix2Pix):
    steps = (Step("g", "generator_step"),)


def test_the_d_step_moves_only_d_and_the_g_step_only_g() -> None:
    torch.manual_seed(0)
    kwargs = dict(generator=UNET, discriminator=PATCH, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM)
    d_only, g_only = DOnly(**kwargs), GOnly(**kwargs)
    before = {m: (snapshot(m.generator), snapshot(m.discriminator)) for m in (d_only, g_only)}
    fit(d_only, 2)
    fit(g_only, 2)
    g0, d0 = before[d_only]
    assert all(torch.equal(a, b) for a, b in zip(g0, snapshot(d_only.generator)))  # G's weights bit-identical
    assert any(not torch.equal(a, b) for a, b in zip(d0, snapshot(d_only.discriminator)))
    g0, d0 = before[g_only]
    assert all(torch.equal(a, b) for a, b in zip(d0, snapshot(g_only.discriminator)))
    assert any(not torch.equal(a, b) for a, b in zip(g0, snapshot(g_only.generator)))


def test_l1_only_never_moves_d() -> None:
    torch.manual_seed(0)
    model = pix2pix(lambda_gan=0.0)
    d0 = snapshot(model.discriminator)
    trainer = fit(model, 2)
    assert all(torch.equal(a, b) for a, b in zip(d0, snapshot(model.discriminator)))
    assert trainer.global_step == 2  # G steps only


# ----- test-time behaviour -----------------------------------------------------------------------------
def test_test_time_dropout_is_on_by_default_seeded_and_leaves_running_statistics() -> None:
    torch.manual_seed(0)
    model = pix2pix(generator={**UNET, "in_shape": [1, 32, 32]}).eval()  # 5 levels: dropout on levels 1-3
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    stats = [b.clone() for b in model.generator.buffers()]
    rng = torch.get_rng_state()
    one, two = model.translate(x, seed=1), model.translate(x, seed=2)
    assert not torch.equal(one, two)  # dropout is G's noise at test time (Section 3.1)
    assert torch.equal(one, model.translate(x, seed=1))
    assert torch.equal(torch.get_rng_state(), rng)  # a seeded translation leaves the global stream alone
    assert all(torch.equal(a, b) for a, b in zip(stats, model.generator.buffers()))
    assert not model.generator.training  # the mode is restored
    plain = pix2pix(generator={**UNET, "in_shape": [1, 32, 32]}, test_time_dropout=False)
    plain.load_state_dict(model.state_dict())
    assert torch.equal(plain.translate(x, seed=1), plain.translate(x, seed=2))  # eval mode: deterministic
    with translation_mode(model.generator, True):
        assert all(m.training for m in model.generator.modules())


def test_translate_takes_the_trained_direction_only() -> None:
    model = pix2pix()
    x = torch.zeros(1, 1, SIZE, SIZE)
    assert model.translate(x, "AtoB", seed=0).shape == x.shape
    with pytest.raises(ValueError, match="data.direction=BtoA"):
        model.translate(x, "BtoA")
    with pytest.raises(ValueError, match="must be one of"):
        model.translate(x, "AtoC")


@needs_mnist
def test_the_digit_classifier_reads_the_kept_labels_of_the_padded_targets() -> None:
    """The path behind val/digit_accuracy, given the real targets: our classifier must recognise them."""
    from lit_gans.metrics import load_mnist_classifier

    dm = MNISTEdgesDataModule(num_val_samples=500, batch_size=500)
    dm.prepare_data()
    batch = next(iter(dm.val_dataloader()))
    assert dm.digit_targets
    with torch.no_grad():
        accuracy = (load_mnist_classifier()(center_crop(batch.b, 28)).argmax(1) == batch.labels).float().mean()
    assert accuracy > 0.97


# ----- learning ------------------------------------------------------------------------------------------
@needs_mnist
def test_l1_falls_well_below_the_untrained_generators_on_mnist_edges(one_thread: None) -> None:
    torch.manual_seed(0)
    dm = MNISTEdgesDataModule(num_samples=1024, num_val_samples=256, batch_size=32)
    model = pix2pix(generator={**UNET, "in_shape": [1, 32, 32], "ngf": 8},
                    discriminator={**PATCH, "ndf": 8}, optimizer_g={**ADAM, "lr": 2e-3})
    trainer = lambda: L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                                enable_progress_bar=False, enable_model_summary=False, limit_val_batches=4,
                                num_sanity_val_steps=0)
    before = trainer().validate(model, datamodule=dm, verbose=False)[0]
    (trainer := trainer()).fit(model, datamodule=dm)
    after = trainer.callback_metrics
    assert after["val/l1"] < 0.5 * before["val/l1"], (before, after)
    assert 0.0 <= float(after["val/digit_accuracy"]) <= 1.0


# ----- a user's folder through train(), and exact resume ------------------------------------------------------
def folder_run(compose_cfg: Any, root: Any, *overrides: str) -> Any:
    return compose_cfg("model=pix2pix", "data=paired", f"data.root={root}", "data.load_size=20", "data.crop_size=16",
                       "data.num_workers=0", "batch_size=2", "model.generator.ngf=4", "model.discriminator.ndf=4",
                       "model.discriminator.n_layers=1", "callbacks=model_checkpoint", "seed=3", *overrides)


def test_a_paired_folder_trains_and_resumes_exactly(compose_cfg: Any, tmp_path: Any, one_thread: None) -> None:
    """Random crops, flips and dropout masks all come from restored random streams: a run killed after its
    first epoch and resumed ends with the weights of an uninterrupted one."""
    from data.test_data_paired import write_pairs
    from helpers import CrashAtEpoch  # noqa: F401  (named by the crash callback below)
    from omegaconf import open_dict

    from lit_gans.training import train

    root = tmp_path / "pairs"
    write_pairs(root, "train", 6, half=20)
    write_pairs(root, "val", 2, half=20)
    metrics, full = train(folder_run(compose_cfg, root, "trainer.max_epochs=2"))
    assert full["trainer"].global_step == 2 * 3 * 2 and "val/l1" in metrics
    crashing = folder_run(compose_cfg, root, "trainer.max_epochs=2")
    with open_dict(crashing):
        crashing.callbacks.crash = {"_target_": "helpers.CrashAtEpoch", "epoch": 1}
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(crashing)
    ckpt = f"{crashing.paths.output_dir}/checkpoints/last.ckpt"
    _, resumed = train(folder_run(compose_cfg, root, "trainer.max_epochs=2", f"ckpt_path={ckpt}"))
    for (name, a), b in zip(full["model"].state_dict().items(), resumed["model"].state_dict().values(), strict=True):
        assert_close(a, b, rtol=0, atol=0, msg=lambda m, n=name: f"{n}: {m}")
