"""``model.reuse_fake``: one G forward per batch for both players' steps, as the common tutorial DCGAN loop."""

import copy
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from helpers import assert_same_state, half_and_resumed_runs
from lit_gans.models import FGAN, GAN, WGAN, UnrolledGAN
from lit_gans.models.base import AdversarialModule
from lit_gans.models.steps import BatchState, Step

# G with BatchNorm: its running statistics show how many times G ran forward in training
TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [2], "hidden": [16],
         "output_activation": "none", "batch_norm": True}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [16]}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-2, "betas": [0.5, 0.999]}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss",
      "generator": "lit_gans.losses.non_saturating_generator_loss"}


def toy_kwargs(**overrides: Any) -> dict[str, Any]:
    kw = dict(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=4)
    return {**kw, **overrides}


def trainer(max_epochs: int = 1) -> L.Trainer:
    return L.Trainer(accelerator="cpu", max_epochs=max_epochs, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False)


def loader(n_batches: int, batch_size: int = 8) -> DataLoader:
    x = torch.randn(n_batches * batch_size, 2, generator=torch.Generator().manual_seed(3)) + 3
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def with_latents(model: AdversarialModule, latents: list[torch.Tensor]) -> list[torch.Tensor]:
    """Make ``model.sample_latent`` hand out ``latents`` in order; returns the list of those it handed out."""
    queue, used = iter(latents), []

    def sample_latent(n: int, generator: Any = None) -> torch.Tensor:
        z = next(queue)
        assert len(z) == n
        used.append(z)
        return z

    model.sample_latent = sample_latent  # type: ignore[method-assign]
    return used


def adam(module: torch.nn.Module) -> torch.optim.Adam:
    return torch.optim.Adam(module.parameters(), lr=1e-2, betas=(0.5, 0.999))


def test_one_batch_is_the_tutorial_loop_one_g_forward_d_on_it_detached_g_through_it() -> None:
    torch.manual_seed(0)
    model = GAN(**toy_kwargs(reuse_fake=True))
    G, D = copy.deepcopy(model.generator), copy.deepcopy(model.discriminator)
    z = torch.randn(8, 4)
    used = with_latents(model, [z])
    trainer().fit(model, loader(1))
    assert len(used) == 1  # one z, one G forward for the whole batch
    # the reference: the PyTorch DCGAN tutorial's loop, from the same weights and the same z
    real = next(iter(loader(1)))[0]
    opt_g, opt_d = adam(G), adam(D)
    fake = G(z)
    d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = F.softplus(-D(fake)).mean()  # the same fake, through D's updated weights
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    for ours, theirs in ((model.generator, G), (model.discriminator, D)):
        for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
            assert_close(a, b, msg=lambda m, n=name: f"{n}: {m}")
    assert int(model.generator.net[1].num_batches_tracked) == 1  # G ran forward once in training


def test_without_reuse_each_step_draws_its_own_z() -> None:
    torch.manual_seed(0)
    model = GAN(**toy_kwargs())
    G, D = copy.deepcopy(model.generator), copy.deepcopy(model.discriminator)
    z_d, z_g = torch.randn(8, 4), torch.randn(8, 4)
    used = with_latents(model, [z_d, z_g])
    trainer().fit(model, loader(1))
    assert len(used) == 2
    real = next(iter(loader(1)))[0]
    opt_g, opt_d = adam(G), adam(D)
    with torch.no_grad():
        fake_d = G(z_d)
    d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake_d)).mean()
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = F.softplus(-D(G(z_g))).mean()  # a fresh fake
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    for ours, theirs in ((model.generator, G), (model.discriminator, D)):
        for a, b in zip(ours.state_dict().values(), theirs.state_dict().values(), strict=True):
            assert_close(a, b)
    assert int(model.generator.net[1].num_batches_tracked) == 2


def adam_steps(optimizer: torch.optim.Optimizer) -> int:
    steps = {int(s["step"]) for s in optimizer.state.values()}
    assert len(steps) == 1
    return steps.pop()


@pytest.mark.parametrize("reuse_fake", [False, True])
def test_n_critic_keeps_its_d_steps_and_only_g_step_batches_share_a_forward(reuse_fake: bool) -> None:
    model = GAN(**toy_kwargs(n_critic=5, reuse_fake=reuse_fake))
    with_latents(model, [torch.randn(8, 4) for _ in range(20)])
    caches: list[dict] = []
    original = model.batch_start

    def batch_start(state: BatchState) -> None:
        original(state)
        caches.append(dict(state.cache))

    model.batch_start = batch_start  # type: ignore[method-assign]
    trainer().fit(model, loader(10))
    opt_g, opt_d = (o.optimizer for o in model.optimizers())
    assert (adam_steps(opt_d), adam_steps(opt_g)) == (10, 2)
    # batches 4 and 9 take a G step; with reuse_fake only they compute a shared fake (with G's graph)
    assert [i for i, c in enumerate(caches) if "reused_fake" in c] == ([4, 9] if reuse_fake else [])
    assert all(c["reused_fake"].requires_grad for c in caches if "reused_fake" in c)
    assert int(model.generator.net[1].num_batches_tracked) == (10 if reuse_fake else 12)


def test_wgan_warmup_schedule_is_asked_once_per_batch_and_keeps_its_steps() -> None:
    """WGAN's warm-up counts critic steps in generator_step_due: reuse_fake asks it in batch_start, not twice."""
    counts = {}
    for reuse_fake in (False, True):
        model = WGAN(**toy_kwargs(loss={"discriminator": "lit_gans.losses.wasserstein_critic_loss",
                                        "generator": "lit_gans.losses.wasserstein_generator_loss"},
                                  generator={**TOY_G, "batch_norm": False}, n_critic=2, reuse_fake=reuse_fake,
                                  n_critic_warmup={"n_critic": 3, "first": 2, "every": 100}))
        calls = []
        original = model.generator_step_due
        model.generator_step_due = lambda i, f=original, seen=calls: seen.append(i) or f(i)  # type: ignore[method-assign]
        trainer().fit(model, loader(12))
        assert calls == list(range(12))
        opt_g, opt_d = (o.optimizer for o in model.optimizers())
        counts[reuse_fake] = (adam_steps(opt_d), adam_steps(opt_g), model._generator_iterations)
    assert counts[False] == counts[True] == (12, 2 + 3, 5)  # 3 + 3 warm-up batches, then every 2nd


def test_resume_is_exact_with_reuse_fake(tmp_path: Path) -> None:
    full, resumed, half = half_and_resumed_runs(lambda: GAN(**toy_kwargs(reuse_fake=True, n_critic=2)),
                                                trainer, lambda: loader(5), tmp_path)
    assert half["hyper_parameters"]["reuse_fake"] is True
    assert_same_state(full, resumed)


class OwnGeneratorStep(GAN):
    def generator_step(self, state: BatchState) -> Any:
        return super().generator_step(state)


class OwnSchedule(GAN):
    steps = (Step("g", "generator_step"), Step("d", "discriminator_step"))


@pytest.mark.parametrize("make, match", [
    (lambda: UnrolledGAN(**toy_kwargs(reuse_fake=True)), "UnrolledGAN does not support model.reuse_fake=true.*unrolls"),
    (lambda: OwnGeneratorStep(**toy_kwargs(reuse_fake=True)), "its own generator_step"),
    (lambda: OwnSchedule(**toy_kwargs(reuse_fake=True)), "update schedule"),
    (lambda: FGAN(**toy_kwargs(reuse_fake=True, single_step=True)), "single_step=true"),
])
def test_variants_that_cannot_share_the_fake_refuse_it_naming_the_fix(make: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match) as error:
        make()
    assert "reuse_fake=false" in str(error.value)


def test_the_plain_variants_accept_it() -> None:
    for cls in (GAN, FGAN, UnrolledGAN):
        cls(**toy_kwargs())  # off: always fine
    assert FGAN(**toy_kwargs(reuse_fake=True)).hparams.reuse_fake
