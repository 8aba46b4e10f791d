"""Speed options of the training step: ``model.compile``, ``model.channels_last``, fused / foreach Adam."""

import copy
import logging
from pathlib import Path
from typing import Any, Callable

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from helpers import assert_same_state, half_and_resumed_runs
from lit_gans.models import GAN, DCGAN, WGANGP

Compose = Callable[..., DictConfig]
TOY_G = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 4, "out_shape": [2], "hidden": [16],
         "output_activation": "none"}
TOY_D = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [16]}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-2, "betas": [0.5, 0.999]}
NS = {"discriminator": "lit_gans.losses.minimax_discriminator_loss",
      "generator": "lit_gans.losses.non_saturating_generator_loss"}
WGP = {"discriminator": "lit_gans.losses.wasserstein_critic_loss",
       "generator": "lit_gans.losses.wasserstein_generator_loss", "gp_weight": 10.0}
# a 28 px DCGAN pair, narrow: convolutions for channels_last
CONV_G = {"_target_": "lit_gans.networks.DCGANGenerator", "latent_dim": 8, "out_shape": [3, 28, 28], "base_channels": 4}
CONV_D = {"_target_": "lit_gans.networks.DCGANDiscriminator", "in_shape": [3, 28, 28], "base_channels": 4}


TOY_RUN = ["data=ring8", "data.distribution.num_modes=1", "data.num_samples=64", "batch_size=32"]


def toy_kwargs(**overrides: Any) -> dict[str, Any]:
    kw = dict(generator=TOY_G, discriminator=TOY_D, loss=NS, optimizer_g=ADAM, optimizer_d=ADAM, latent_dim=4)
    return {**kw, **overrides}


def trainer(max_epochs: int = 1, **kwargs: Any) -> L.Trainer:
    return L.Trainer(accelerator="cpu", max_epochs=max_epochs, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, **kwargs)


def loader(n_batches: int, shape: tuple[int, ...] = (2,), batch_size: int = 8) -> DataLoader:
    x = torch.randn(n_batches * batch_size, *shape, generator=torch.Generator().manual_seed(3)).clamp(-1, 1)
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def one_batch(model: L.LightningModule, data: DataLoader, seed: int = 0) -> L.LightningModule:
    torch.manual_seed(seed)
    trainer().fit(model, data)
    return model


def compiled(module: torch.nn.Module) -> bool:
    return getattr(module, "_compiled_call_impl", None) is not None


# ----- compile -------------------------------------------------------------------------------------------------
def test_compile_in_place_keeps_the_state_dict_keys_and_building_a_model_does_not_compile(tmp_path: Path) -> None:
    """nn.Module.compile wraps the call, not the module: the same keys (no ``_orig_mod.``), loadable into an eager
    model. Only fitting compiles (on_fit_start), so load_from_checkpoint (sampling, evaluation) builds eager nets."""
    torch.manual_seed(0)
    model = GAN(**toy_kwargs(compile=True))
    assert not compiled(model.generator) and not compiled(model.discriminator)
    keys = list(model.state_dict())
    model.apply_performance_options()  # what on_fit_start does; compiling itself happens at the first call
    assert compiled(model.generator) and compiled(model.discriminator)
    assert list(model.state_dict()) == keys
    torch.save(model.state_dict(), tmp_path / "state.pt")
    eager = GAN(**toy_kwargs())
    eager.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))  # strict
    assert_same_state(model, eager)


@pytest.mark.slow
def test_a_compiled_runs_checkpoint_loads_without_compile(tmp_path: Path) -> None:
    """nn.Module.compile in place: the same keys (no ``_orig_mod.``), so a compiled run's checkpoint loads into an
    eager model; loading does not compile (only fitting does). The "eager" backend: dynamo only, seconds."""
    torch.manual_seed(0)
    model = GAN(**toy_kwargs(compile={"backend": "eager"}))
    keys = list(model.state_dict())
    fit = trainer()
    fit.fit(model, loader(2))
    assert compiled(model.generator) and compiled(model.discriminator)
    assert list(model.state_dict()) == keys
    fit.save_checkpoint(tmp_path / "c.ckpt")
    loaded = GAN.load_from_checkpoint(tmp_path / "c.ckpt")
    assert not compiled(loaded.generator) and loaded.hparams.compile == {"backend": "eager"}
    assert_same_state(model, loaded)
    eager = GAN(**toy_kwargs())
    eager.load_state_dict(torch.load(tmp_path / "c.ckpt", weights_only=True)["state_dict"])  # strict
    assert_same_state(model, eager)


def test_compile_leaves_the_critic_eager_under_a_gradient_penalty(caplog: pytest.LogCaptureFixture) -> None:
    model = WGANGP(**toy_kwargs(loss=WGP, n_critic=1, compile=True))
    with caplog.at_level(logging.INFO, logger="lit_gans.models.base"):
        model.apply_performance_options()  # what on_fit_start does
    assert compiled(model.generator) and not compiled(model.discriminator)
    assert "compiling the generator only" in caplog.text
    plain = GAN(**toy_kwargs(compile=True))
    plain.apply_performance_options()
    assert compiled(plain.generator) and compiled(plain.discriminator)


def test_compile_refuses_a_malformed_option() -> None:
    with pytest.raises(ValueError, match="model.compile takes"):
        GAN(**toy_kwargs(compile="max-autotune"))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_one_compiled_training_batch_matches_the_eager_one(backend: str) -> None:
    """aot_eager: AOT autograd's traced forward/backward; inductor (generated C++ kernels) is the real thing. Both
    trace G and D several times (grad modes change between the steps): tens of seconds to minutes on this CPU."""
    torch.manual_seed(0)
    eager = GAN(**toy_kwargs())
    fast = copy.deepcopy(eager)
    fast.hparams.compile = {"backend": backend}
    one_batch(eager, loader(2))
    one_batch(fast, loader(2))
    assert compiled(fast.generator)
    for (name, a), b in zip(eager.state_dict().items(), fast.state_dict().values(), strict=True):
        assert_close(a, b, rtol=1e-4, atol=1e-5, msg=lambda m, n=name: f"{n}: {m}")


def test_resume_accepts_another_compile_or_channels_last_value(compose_cfg: Compose, tmp_path: Path) -> None:
    """Speed options change no result: a run resumes with them switched (check_resume ignores them)."""
    from lit_gans.training import check_resume, train

    cfg = compose_cfg("model=gan", *TOY_RUN, "callbacks=model_checkpoint", "trainer.max_epochs=1")
    _, first = train(cfg)
    ckpt = first["trainer"].checkpoint_callback.best_model_path
    again = compose_cfg("model=gan", *TOY_RUN, "model.compile={backend:eager}", "model.channels_last=true",
                        f"ckpt_path={ckpt}")
    check_resume(again, instantiate(again.model, _recursive_=False))
    changed = compose_cfg("model=gan", *TOY_RUN, "model.reuse_fake=true", f"ckpt_path={ckpt}")
    with pytest.raises(ValueError, match=r"model\.reuse_fake differ"):  # reuse_fake changes the algorithm
        check_resume(changed, instantiate(changed.model, _recursive_=False))


# ----- channels_last -------------------------------------------------------------------------------------------
def test_channels_last_converts_networks_and_real_batches_and_gives_the_same_step() -> None:
    torch.manual_seed(0)
    plain = DCGAN(**toy_kwargs(generator=CONV_G, discriminator=CONV_D, latent_dim=8))
    fast = copy.deepcopy(plain)
    fast.hparams.channels_last = True
    seen = []
    original = fast.discriminator_step
    fast.discriminator_step = lambda state: seen.append(state.real) or original(state)  # type: ignore[method-assign]
    one_batch(plain, loader(1, (3, 28, 28)))
    one_batch(fast, loader(1, (3, 28, 28)))
    assert seen[0].is_contiguous(memory_format=torch.channels_last) and not seen[0].is_contiguous()
    conv = next(m for m in fast.discriminator.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    for (name, a), b in zip(plain.state_dict().items(), fast.state_dict().values(), strict=True):
        assert_close(a, b, rtol=1e-4, atol=1e-5, msg=lambda m, n=name: f"{n}: {m}")


# ----- fused / foreach Adam ------------------------------------------------------------------------------------
def test_fused_and_foreach_adam_pass_through_hydra_and_resume_exactly(compose_cfg: Compose, tmp_path: Path) -> None:
    cfg = compose_cfg("model=gan", "data=mnist", "+model.optimizer_g.fused=true", "+model.optimizer_d.foreach=true")
    model = instantiate(cfg.model, _recursive_=False)
    opt_g, opt_d = model.configure_optimizers()
    assert isinstance(opt_g, torch.optim.Adam) and opt_g.defaults["fused"] is True
    assert opt_d.defaults["foreach"] is True
    fused = {**ADAM, "fused": True}
    foreach = {**ADAM, "foreach": True}
    full, resumed, half = half_and_resumed_runs(lambda: GAN(**toy_kwargs(optimizer_g=fused, optimizer_d=foreach)),
                                                trainer, lambda: loader(3), tmp_path)
    assert half["hyper_parameters"]["optimizer_g"]["fused"] is True
    assert_same_state(full, resumed)
