"""CycleGAN and the no-cycle baseline: the image pool, loss terms by hand, which networks each step moves, the
decay schedule, exact resume through train(), translation, and digit preservation on mnist_mnistm."""

from pathlib import Path
from typing import Any, Callable

import lightning as L
import pytest
import torch
from helpers import needs_mnist, t
from models.test_skeleton import ADAM, snapshot
from omegaconf import DictConfig, open_dict
from torch import Tensor, nn
from torch.testing import assert_close
from torch.utils.data import DataLoader

from lit_gans.data import Unpaired
from lit_gans.data.unpaired import collate_unpaired
from lit_gans.models import CycleGAN, DiscoGAN, DualGAN, TranslationGAN
from lit_gans.models.cyclegan import digit_view
from lit_gans.models.image_pool import ImagePool
from lit_gans.models.steps import BatchState, Step
from lit_gans.schedules import LinearDecay, linear_decay_factor
from lit_gans.training import train

Compose = Callable[..., DictConfig]
SIZE = 8
RESNET = {"_target_": "lit_gans.networks.ResnetGenerator", "in_shape": [3, SIZE, SIZE], "ngf": 4, "n_blocks": 1}
PATCH = {"_target_": "lit_gans.networks.PatchDiscriminator", "in_channels": None, "ndf": 4, "n_layers": 1,
         "norm": "instance"}
LSGAN = {"name": "least_squares", "logits": False,  # the paper's plain squared errors (scale 1)
         "discriminator": {"_target_": "lit_gans.losses.least_squares_discriminator_loss", "_partial_": True, "scale": 1.0},
         "generator": {"_target_": "lit_gans.losses.least_squares_generator_loss", "_partial_": True, "scale": 1.0}}
TINY = ["batch_size=8", "data.num_samples=32", "data.num_val_samples=16", "model.generator.ngf=4",
        "model.generator.n_blocks=1", "model.discriminator.ndf=4", "model.discriminator.n_layers=1"]


def cyclegan(cls: type = CycleGAN, **overrides: Any) -> CycleGAN:
    kwargs = dict(generator=RESNET, discriminator=PATCH, loss=LSGAN, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=0)
    return cls(**{**kwargs, **overrides})


def batch(n: int, seed: int = 0) -> Unpaired:
    g = torch.Generator().manual_seed(seed)
    a, b = (torch.rand(n, 3, SIZE, SIZE, generator=g) * 2 - 1 for _ in range(2))
    return Unpaired(a, b, torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long))


def loader(n_batches: int, batch_size: int = 4) -> DataLoader:
    data = batch(n_batches * batch_size)
    items = [(data.a[i], data.b[i], 0, 0) for i in range(len(data.a))]
    return DataLoader(items, batch_size=batch_size, collate_fn=collate_unpaired)


def fit(model: L.LightningModule, n_batches: int) -> L.Trainer:
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    trainer.fit(model, loader(n_batches))
    return trainer


# ----- the image pool ----------------------------------------------------------------------------------------
def images(*values: float) -> Tensor:
    return torch.tensor(values).view(-1, 1, 1, 1)


def test_the_pool_returns_new_images_until_full_then_a_stored_one_half_the_time_swapping_it_in() -> None:
    pool = ImagePool(3)
    assert torch.equal(pool.query(images(1, 2)), images(1, 2)) and len(pool) == 2
    assert torch.equal(pool.query(images(3)), images(3)) and len(pool) == 3  # full now
    torch.manual_seed(0)
    draws = []  # replay the pool's draws: p ~ U(0, 1); p > ½: a stored index ~ U{0, 1, 2}
    for _ in range(200):
        p = float(torch.rand(()))
        draws.append(int(torch.randint(3, ())) if p > 0.5 else None)
    torch.manual_seed(0)
    stored, swaps = [1.0, 2.0, 3.0], 0
    for k, slot in enumerate(draws):
        new = 100.0 + k
        out = float(pool.query(images(new)))
        if slot is None:
            assert out == new  # the new image itself, the pool unchanged
        else:
            assert out == stored[slot]  # a stored image, and the new one takes its place
            stored[slot], swaps = new, swaps + 1
        assert [float(x) for x in pool.images] == stored
    assert 70 < swaps < 130  # probability ½
    assert torch.equal(ImagePool(0).query(images(5, 6)), images(5, 6))  # size 0: no history


def test_the_pool_state_round_trips_and_continues_identically() -> None:
    pool = ImagePool(4)
    pool.query(torch.randn(6, 3, 2, 2))
    state = pool.state_dict()
    assert state["images"].shape == (4, 3, 2, 2)
    torch.save(state, buffer := __import__("io").BytesIO())
    buffer.seek(0)
    again = ImagePool(4)
    again.load_state_dict(torch.load(buffer, weights_only=True))
    x = torch.randn(8, 3, 2, 2)
    torch.manual_seed(1)
    out = pool.query(x)
    torch.manual_seed(1)
    assert torch.equal(again.query(x), out)
    with pytest.raises(ValueError, match="pool_size"):
        ImagePool(5).load_state_dict(state)


# ----- the loss terms on tiny tensors ------------------------------------------------------------------------
class Times(nn.Module):
    """x -> k·x: a generator or a patch 'discriminator' whose outputs are computable by hand."""

    def __init__(self, k: float) -> None:
        super().__init__()
        self.k = nn.Parameter(torch.tensor(k, dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:
        return self.k * x


def by_hand(model: CycleGAN) -> BatchState:
    """G(x) = x/2, F(x) = −x, D_B(x) = x, D_A(x) = 2x on one 1x2x2 image per domain."""
    model.generator, model.generator_ba, model.discriminator, model.discriminator_a = Times(0.5), Times(-1.0), Times(1.0), Times(2.0)
    a, b = t(0.5, -1.0, 0.0, 1.0).view(1, 1, 2, 2), t(1.0, 0.5, -0.5, 0.0).view(1, 1, 2, 2)
    state = BatchState(Unpaired(a, b, torch.zeros(1), torch.zeros(1)), 0)
    model.batch_start(state)
    return state


def test_generator_loss_terms_by_hand() -> None:
    model = cyclegan()
    g_loss, logs = model.generator_step(by_hand(model))
    # LSGAN: mean((D_B(a/2) − 1)²) = mean(.5625, 2.25, 1, .25), mean((D_A(−b) − 1)²) = mean((−2b − 1)²) = mean(9, 4, 0, 1)
    assert_close(logs["train/g_adversarial_ab"], t(1.015625)[0])
    assert_close(logs["train/g_adversarial_ba"], t(3.5)[0])
    # cycle: F(G(a)) = −a/2, |−a/2 − a| = 1.5|a|, mean|a| = 0.625; G(F(b)) = −b/2, mean|b| = 0.5
    assert_close(logs["train/cycle_a"], t(0.9375)[0])
    assert_close(logs["train/cycle_b"], t(0.75)[0])
    # identity: |F(a) − a| = 2|a| -> 1.25; |G(b) − b| = |b|/2 -> 0.25
    assert_close(logs["train/identity_a"], t(1.25)[0])
    assert_close(logs["train/identity_b"], t(0.25)[0])
    assert_close(g_loss, t(1.015625 + 3.5 + 10 * (0.9375 + 0.75) + 0.5 * 10 * (1.25 + 0.25))[0])
    no_identity = cyclegan(lambda_identity=0.0)
    assert_close(no_identity.generator_step(by_hand(no_identity))[0], t(1.015625 + 3.5 + 10 * 1.6875)[0])
    baseline = cyclegan(TranslationGAN)
    state = by_hand(baseline)
    assert "rec_a" not in state.cache  # no reconstructions computed
    assert_close(baseline.generator_step(state)[0], t(1.015625 + 3.5)[0])


def test_discriminator_loss_is_halved_per_domain_by_hand() -> None:
    model = cyclegan(pool_size=0)  # the latest translations
    d_loss, logs = model.discriminator_step(by_hand(model))
    # D_B: ½ (mean((b − 1)²) + mean((a/2)²)) = ½ (0.875 + 0.140625); D_A: ½ (mean((2a − 1)²) + mean((2b)²)) = ½ (2.75 + 1.5)
    assert_close(logs["train/d_b_loss"], t(0.5 * (0.875 + 0.140625))[0])
    assert_close(logs["train/d_a_loss"], t(0.5 * (2.75 + 1.5))[0])
    assert_close(d_loss, t(0.5078125 + 2.125)[0])


NS = {"name": "non_saturating", "logits": True, "discriminator": "lit_gans.losses.minimax_discriminator_loss",
      "generator": "lit_gans.losses.non_saturating_generator_loss"}
WASSERSTEIN = {"name": "wasserstein", "discriminator": "lit_gans.losses.wasserstein_critic_loss",
               "generator": "lit_gans.losses.wasserstein_generator_loss"}
UNET = {"_target_": "lit_gans.networks.UNetGenerator", "in_shape": [3, SIZE, SIZE], "ngf": 4, "norm": "instance"}


def test_discogan_terms_by_hand_mse_reconstruction_and_unhalved_standard_gan() -> None:
    model = cyclegan(DiscoGAN, loss=NS)
    state = by_hand(model)
    g_loss, logs = model.generator_step(state)
    softplus = torch.nn.functional.softplus
    a, b = state.real.a, state.real.b
    # L_GAN_B = −log σ(D_B(G(a))) = softplus(−a/2), L_GAN_A = softplus(−D_A(F(b))) = softplus(2b)
    assert_close(logs["train/g_adversarial_ab"], softplus(-0.5 * a).mean())
    assert_close(logs["train/g_adversarial_ba"], softplus(2 * b).mean())
    # MSE reconstructions: (−a/2 − a)² = 2.25a², mean a² = 0.5625; mean b² = 0.375; weight 1, no identity term
    assert_close(logs["train/cycle_a"], t(2.25 * 0.5625)[0])
    assert_close(logs["train/cycle_b"], t(2.25 * 0.375)[0])
    assert "train/identity_a" not in logs
    assert_close(g_loss, softplus(-0.5 * a).mean() + softplus(2 * b).mean() + t(2.25 * (0.5625 + 0.375))[0])
    d_loss, _ = model.discriminator_step(state)  # −log σ(D(real)) − log(1 − σ(D(fake))), both Ds, not halved
    expected = (softplus(-b).mean() + softplus(0.5 * a).mean()) + (softplus(-2 * a).mean() + softplus(-2 * b).mean())
    assert_close(d_loss, expected)
    assert len(model.pools["a"]) == 0  # no history pool


def test_dualgan_terms_by_hand_weighted_l1_reconstruction_and_wasserstein_critics() -> None:
    model = cyclegan(DualGAN, generator=UNET, loss=WASSERSTEIN, lambda_u=500.0, lambda_v=100.0)
    state = by_hand(model)
    g_loss, logs = model.generator_step(state)
    # −E D_B(G(a)) − E D_A(F(b)) = −mean(a)/2 + 2 mean(b) = −0.0625 + 0.5; L1: 1.5·0.625 (u = a), 1.5·0.5 (v = b)
    assert_close(logs["train/g_adversarial_ab"] + logs["train/g_adversarial_ba"], t(0.4375)[0])
    assert_close(logs["train/cycle_a"], t(0.9375)[0])
    assert_close(logs["train/cycle_b"], t(0.75)[0])
    assert_close(g_loss, t(0.4375 + 500 * 0.9375 + 100 * 0.75)[0])
    d_loss, logs = model.discriminator_step(state)  # E D(fake) − E D(real) per critic, not halved
    assert_close(logs["train/d_b_loss"], t(0.0625 - 0.25)[0])
    assert_close(logs["train/d_a_loss"], t(-0.5 - 0.25)[0])
    assert_close(d_loss, t(-0.9375)[0])


def test_dualgan_takes_n_critic_clipped_critic_steps_per_generator_step() -> None:
    torch.manual_seed(0)
    model = cyclegan(DualGAN, generator=UNET, loss=WASSERSTEIN, n_critic=2, clip_value=0.01)
    trainer = fit(model, 4)
    opt_g, opt_d = (o.optimizer for o in model.optimizers())
    assert [opt.state[next(iter(opt.state))]["step"].item() for opt in (opt_g, opt_d)] == [2, 4]
    assert trainer.global_step == 6
    assert all(p.abs().max() <= 0.01 for p in model.player_parameters("d"))
    with pytest.raises(ValueError, match="lambda_u"):
        cyclegan(DualGAN, generator=UNET, loss=WASSERSTEIN, lambda_cycle=10.0)


def test_the_discriminators_learn_from_the_pool() -> None:
    torch.manual_seed(0)
    model = cyclegan(pool_size=50)
    state = BatchState(batch(4), 0)
    model.batch_start(state)
    model.discriminator_step(state)
    assert len(model.pools["a"]) == len(model.pools["b"]) == 4
    assert torch.equal(torch.stack(model.pools["b"].images), state.cache["fake_b"].detach())  # G(a) went in


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="n_critic=1"):
        cyclegan(n_critic=2)
    with pytest.raises(ValueError, match="lambda_cycle=0"):
        cyclegan(TranslationGAN, lambda_cycle=10.0)
    with pytest.raises(NotImplementedError, match="translate"):
        cyclegan().sample_fake(2)
    with pytest.raises(ValueError, match="AtoB"):
        cyclegan().translate(torch.zeros(1, 3, SIZE, SIZE), "AB")
    with pytest.raises(ValueError, match="divisible by 4"):
        cyclegan().translate(torch.zeros(1, 3, 10, 10))


# ----- the steps ---------------------------------------------------------------------------------------------
class DOnly(CycleGAN):
    steps = (Step("d", "discriminator_step"),)


class GOnly(CycleGAN):
    steps = (Step("g", "generator_step"),)


def generators(m: CycleGAN) -> list[Tensor]:
    return snapshot(m.generator) + snapshot(m.generator_ba)


def discriminators(m: CycleGAN) -> list[Tensor]:
    return snapshot(m.discriminator) + snapshot(m.discriminator_a)


def test_the_d_step_moves_only_the_ds_and_the_g_step_only_the_gs() -> None:
    torch.manual_seed(0)
    d_only, g_only = cyclegan(DOnly), cyclegan(GOnly)
    before = {m: (generators(m), discriminators(m)) for m in (d_only, g_only)}
    fit(d_only, 2)
    fit(g_only, 2)
    g0, d0 = before[d_only]
    assert all(torch.equal(a, b) for a, b in zip(g0, generators(d_only)))  # both generators bit-identical
    assert all(not torch.equal(a, b) for a, b in zip(d0, discriminators(d_only)))  # every D weight moved
    g0, d0 = before[g_only]
    assert all(torch.equal(a, b) for a, b in zip(d0, discriminators(g_only)))
    assert all(not torch.equal(a, b) for a, b in zip(g0, generators(g_only)))


def test_g_then_d_once_per_batch_with_one_forward_of_each_translation() -> None:
    torch.manual_seed(0)
    model = cyclegan()
    calls = {"g": 0, "f": 0}
    model.generator.register_forward_hook(lambda *_: calls.__setitem__("g", calls["g"] + 1))
    model.generator_ba.register_forward_hook(lambda *_: calls.__setitem__("f", calls["f"] + 1))
    trainer = fit(model, 3)
    # per batch: G(a), G(F(b)) in batch_start and G(b) for the identity term; F likewise
    assert calls == {"g": 9, "f": 9}
    assert trainer.global_step == 6
    opt_g, opt_d = (o.optimizer for o in model.optimizers())
    assert {id(p) for p in opt_g.param_groups[0]["params"]} == {id(p) for p in [*model.generator.parameters(),
                                                                               *model.generator_ba.parameters()]}
    assert {id(p) for p in opt_d.param_groups[0]["params"]} == {id(p) for p in [*model.discriminator.parameters(),
                                                                               *model.discriminator_a.parameters()]}


# ----- the schedule ------------------------------------------------------------------------------------------
def test_linear_decay_learning_rate_at_first_middle_and_last_epochs_equals_the_formula() -> None:
    n, m, lr = 100, 100, 2e-4
    opt = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=lr)
    schedule = LinearDecay(opt, constant_epochs=n, decay_epochs=m)
    seen = []
    for _ in range(n + m):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()  # after each epoch
    formula = [lr * (1 - max(0, e + 1 - n) / (m + 1)) for e in range(n + m)]  # the authors' rule, epoch_count 1
    for epoch in (0, n // 2, n - 1, n, n + m // 2, n + m - 1):
        assert seen[epoch] == pytest.approx(formula[epoch], rel=1e-12), epoch
    assert seen[0] == seen[n - 1] == lr and seen[n + m - 1] == pytest.approx(lr / (m + 1))
    assert opt.param_groups[0]["lr"] == 0.0  # zero after the last epoch
    assert linear_decay_factor(n + 50, n, m) == pytest.approx(1 - 51 / 101)


def test_an_epoch_interval_scheduler_steps_once_per_epoch_in_training() -> None:
    decay = {"_target_": "lit_gans.schedules.LinearDecay", "_partial_": True, "constant_epochs": 1, "decay_epochs": 3,
             "interval": "epoch"}
    model = cyclegan(scheduler_g=decay, scheduler_d=decay)
    lrs: list[float] = []

    class Record(L.Callback):
        def on_train_epoch_start(self, trainer: L.Trainer, pl_module: Any) -> None:
            lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    trainer = L.Trainer(accelerator="cpu", max_epochs=4, logger=False, enable_checkpointing=False, callbacks=[Record()],
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    trainer.fit(model, loader(2))
    assert lrs == pytest.approx([1e-3, 1e-3 * 3 / 4, 1e-3 * 2 / 4, 1e-3 * 1 / 4])
    with pytest.raises(ValueError, match="interval must be one of"):
        cyclegan(scheduler_g={**decay, "interval": "batch"}).configure_optimizers()


# ----- translation -------------------------------------------------------------------------------------------
def test_translate_uses_each_generator_and_seeding_leaves_the_global_stream() -> None:
    torch.manual_seed(0)
    model = cyclegan()
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    rng = torch.get_rng_state()
    assert torch.equal(model.translate(x, "AtoB", seed=1), model.generator.eval()(x))
    assert torch.equal(model.translate(x, direction="BtoA"), model.generator_ba.eval()(x))
    assert torch.equal(torch.get_rng_state(), rng)


def test_digit_view_reads_mnist_and_mnistm_as_white_on_black_digits() -> None:
    digit = -torch.ones(1, 3, 32, 32)
    digit[..., 10:20, 14:18] = 1.0  # a stroke
    mnist = digit_view(digit, "mnist")
    assert mnist.shape == (1, 1, 28, 28) and torch.equal(mnist, digit[:, :1, 2:30, 2:30])
    photo = torch.full((1, 3, 32, 32), 0.2)
    photo[:, 1] = -0.4
    photo[..., 10:20, 14:18] = -photo[..., 10:20, 14:18]  # |patch − digit|: the stroke inverts the colour
    assert torch.equal(digit_view(photo, "mnistm"), digit[:, :1, 2:30, 2:30])


# ----- through train() ---------------------------------------------------------------------------------------
@needs_mnist
def test_resume_through_train_is_exact_pools_and_schedule_included(compose_cfg: Compose, tmp_path: Path) -> None:
    def run(*extra: str) -> DictConfig:
        return compose_cfg("model=cyclegan", "data=mnist_mnistm", *TINY, "model.pool_size=5", "trainer.max_epochs=3",
                           "model.scheduler_g.constant_epochs=1", "model.scheduler_g.decay_epochs=2",
                           "model.scheduler_d.constant_epochs=1", "model.scheduler_d.decay_epochs=2",
                           "trainer.limit_val_batches=0", "callbacks=model_checkpoint", "seed=3", *extra)

    _, full = train(run())
    crashing = run()
    with open_dict(crashing):
        crashing.callbacks.crash = {"_target_": "helpers.CrashAtEpoch", "epoch": 2}
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(crashing)
    ckpt = Path(crashing.paths.output_dir) / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, weights_only=True)
    assert saved["image_pools"]["a"]["images"].shape == (5, 3, 32, 32) and saved["global_step"] == 2 * 4 * 2
    _, resumed = train(run(f"ckpt_path={ckpt}"))
    assert resumed["trainer"].global_step == full["trainer"].global_step == 3 * 4 * 2
    for (name, x), y in zip(full["model"].state_dict().items(), resumed["model"].state_dict().values(), strict=True):
        assert_close(x, y, rtol=0, atol=0, msg=lambda m, n=name: f"{n}: {m}")
    for domain in ("a", "b"):
        assert all(torch.equal(x, y) for x, y in zip(full["model"].pools[domain].images,
                                                     resumed["model"].pools[domain].images, strict=True))
    for opt_full, opt_resumed in zip(full["trainer"].optimizers, resumed["trainer"].optimizers, strict=True):
        assert opt_full.param_groups[0]["lr"] == opt_resumed.param_groups[0]["lr"] == 0.0  # 1 + 2 epochs: decayed to 0





@needs_mnist
@pytest.mark.slow
def test_cycle_consistency_preserves_digits_and_the_no_cycle_baseline_does_not(compose_cfg: Compose,
                                                                                 one_thread: None) -> None:
    """The seeds' point on mnist_mnistm: after a short run (200 batches of 16, CPU-sized nets) CycleGAN's MNIST ->
    MNIST-M translations keep the source digit well above chance (10 %), the no-cycle baseline's do not."""
    scores = {}
    for model in ("cyclegan", "translation_gan"):
        metrics, _ = train(compose_cfg("experiment=cyclegan_mnist_mnistm", f"model={model}", "trainer.max_epochs=1",
                                       "trainer.limit_train_batches=200", "trainer.val_check_interval=null",
                                       "trainer.limit_val_batches=20", "model.generator.ngf=16", "model.generator.n_blocks=2",
                                       "model.discriminator.ndf=16", "seed=0"))
        scores[model] = metrics["val/digit_preservation_ab"]
    assert scores["cyclegan"] > 0.4, scores
    assert scores["translation_gan"] < scores["cyclegan"] - 0.2, scores


def test_translation_interface_serves_both_directions_for_sample_and_translate_tools() -> None:
    """What sample.py and translate.py call (lit_gans/translation.py): each direction reads its own source domain,
    the grid is inputs | translations | reconstructions, and sizes the generator cannot keep are refused."""
    model = cyclegan().eval()
    data = batch(3)
    data = Unpaired(data.a, data.b, torch.tensor([1, 2, 3]), torch.tensor([4, 5, 6]))
    assert model.translation_directions == ("AtoB", "BtoA")
    assert model.translation_input_shape("BtoA") == (3, SIZE, SIZE)
    for direction, source, labels, forward, back in [("AtoB", data.a, [1, 2, 3], model.generator, model.generator_ba),
                                                      ("BtoA", data.b, [4, 5, 6], model.generator_ba, model.generator)]:
        item = model.translation_batch(data, direction)
        torch.testing.assert_close(item.inputs, source)
        assert item.targets is None and item.labels.tolist() == labels
        grid, nrow = model.translation_grid(data, direction, seed=0)
        assert nrow == 3
        with torch.no_grad():
            torch.testing.assert_close(grid[3:6], forward(source))
            torch.testing.assert_close(grid[6:], back(forward(source)))
        torch.testing.assert_close(grid[:3], source)
    model.check_translation_size(SIZE * 2, SIZE, "BtoA")  # any sides divisible by 4
    with pytest.raises(ValueError, match="divisible by 4"):
        model.check_translation_size(SIZE + 2, SIZE, "AtoB")
