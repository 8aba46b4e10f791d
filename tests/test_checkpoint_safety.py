"""A checkpoint is data: every entry point that opens one refuses names outside lit_gans' allow-list
before anything is built, and runs nothing (issue 16, item 7)."""

import copy
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra._internal.utils import _locate
from omegaconf import DictConfig, OmegaConf

import lit_gans.sampling
from helpers import CONF, ROOT, compose_config, config_names, run_script
from lit_gans.checkpoints import (
    MODEL_TARGETS,
    RUN_TARGETS,
    UnsafeCheckpointError,
    check_checkpoint,
    check_hyper_parameters,
    check_model_class,
)
from lit_gans.evaluation import evaluate
from lit_gans.losses.objective import Objective
from lit_gans.models import WGANGP
from lit_gans.sampling import load_model
from lit_gans.training import train

Compose = Callable[..., DictConfig]
TOY = ["model=wgan_gp", "data=ring8", "data.num_samples=128", "batch_size=64", "callbacks=model_checkpoint"]


def model_hparams(*overrides: str) -> tuple[str, dict[str, Any]]:
    """(lit_gans_class, hyper_parameters) as a checkpoint of that composed model config holds them."""
    hparams = OmegaConf.to_container(compose_config("train", *overrides).model, resolve=True)
    return hparams.pop("_target_"), hparams


@pytest.fixture(scope="module")
def genuine() -> tuple[str, dict[str, Any]]:
    return model_hparams(*TOY)


def _makedirs(path: Path, partial: bool = False) -> dict[str, Any]:
    """A config node that creates ``path`` when Hydra instantiates it (``os.makedirs`` passes Hydra's own
    blocklist; the tests below show it runs when the check is bypassed)."""
    return {"_target_": "os.makedirs", "name": str(path)} | ({"_partial_": True} if partial else {})


def _set(tree: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        tree = tree[key]
    tree[last] = value


# name -> (the key path the error must name, how it changes a genuine (class, hparams) pair, given the canary path)
ATTACKS: dict[str, tuple[str, Callable[[Path], tuple[str | None, dict[str, Any]]]]] = {
    "foreign_class": ("lit_gans_class", lambda c: ("subprocess.Popen", {"args": ["touch", str(c)]})),
    "network": ("hyper_parameters.generator._target_", lambda c: (None, {"generator": _makedirs(c)})),
    "network_by_attribute_chain": ("hyper_parameters.discriminator._target_", lambda c: (
        None, {"discriminator": {"_target_": "lit_gans.networks.mlp.nn.modules.module.torch.hub.load",
                                 "repo_or_dir": str(c), "model": "x"}})),
    "network_positional_args": ("hyper_parameters.generator._args_[0]._target_", lambda c: (
        None, {"generator": {"_target_": "lit_gans.networks.MLPGenerator", "_args_": [_makedirs(c)]}})),
    "optimizer": ("hyper_parameters.optimizer_g._target_", lambda c: (
        None, {"optimizer_g": {"_target_": "subprocess.Popen", "args": ["touch", str(c)]}})),
    "scheduler": ("hyper_parameters.scheduler_d._target_", lambda c: (None, {"scheduler_d": _makedirs(c, partial=True)})),
    "partial_callable": ("hyper_parameters.optimizer_d._target_", lambda c: (
        None, {"optimizer_d": {"_target_": "os.system", "_partial_": True}})),
    "loss_function_name": ("hyper_parameters.loss.discriminator", lambda c: (None, {"loss.discriminator": "os.system"})),
    "loss_function_target": ("hyper_parameters.loss.generator._target_", lambda c: (
        None, {"loss.generator": _makedirs(c, partial=True)})),
    "loss_requires_class": ("hyper_parameters.loss.requires.class", lambda c: (
        None, {"loss.requires": {"model": "x", "class": "subprocess.Popen"}})),
    "private_helper": ("hyper_parameters.loss.estimate", lambda c: (
        None, {"loss.estimate": "lit_gans.losses.objective._resolve"})),
    "lightning_instantiator": ("hyper_parameters._instantiator", lambda c: (None, {
        "_instantiator": "lightning.pytorch.cli.instantiate_module", "_class_path": "lit_gans.models.WGANGP"})),
    "interpolation": ("hyper_parameters.generator.hidden_dims", lambda c: (None, {"generator.hidden_dims": (
        "${oc.create:'{_target_: os.makedirs, name: " + str(c) + "}'}")})),
}


def craft(genuine: tuple[str, dict[str, Any]], attack: str, canary: Path, path: Path) -> Path:
    """A genuine-shaped checkpoint (plain dicts, torch.save) with one attack in it."""
    cls, hparams = copy.deepcopy(genuine)
    foreign_cls, changes = ATTACKS[attack][1](canary)
    if foreign_cls is not None:
        cls, hparams = foreign_cls, changes
    else:
        for key, value in changes.items():
            _set(hparams, key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"lit_gans_class": cls, "hyper_parameters": hparams, "state_dict": {}, "epoch": 0, "global_step": 0}, path)
    return path


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "canary"
    yield path
    assert not path.exists(), "a crafted checkpoint ran code"


def _evaluate(ckpt: Path) -> dict:
    return evaluate(compose_config("evaluate", f"ckpt_path={ckpt}"))


def _encode(ckpt: Path) -> Path:
    """encode.py's main on ``ckpt`` (the crafted file must be refused before any data or model is built)."""
    return run_script("encode", f"ckpt_path={ckpt}")


def _translate(ckpt: Path) -> Any:
    """translate.py's main on ``ckpt`` (refused before any image is read or model built)."""
    return run_script("translate", f"ckpt_path={ckpt}", f"input={ckpt.parent}", f"out={ckpt.parent / 'out'}")


def _project(ckpt: Path) -> Any:
    """project.py's main on ``ckpt`` (refused before any image is read or model built)."""
    return run_script("project", f"ckpt_path={ckpt}", f"image={ckpt.parent}", f"out={ckpt.parent / 'out'}")


def _blend(ckpt: Path) -> Any:
    """blend.py's GP-GAN loader on ``ckpt`` (refused before the model is built or an image read)."""
    import blend

    return blend.load_blending_gan(str(ckpt), "cpu")


def _app(ckpt: Path) -> Any:
    """app.py's session on ``ckpt`` (refused before the model is built or a server started)."""
    from lit_gans.manipulation.webapp import build_session

    return build_session(compose_config("app", f"ckpt_path={ckpt}"))


ENTRY_POINTS = ["sample", "evaluate", "encode", "translate", "project", "app", "blend", "train_resume", "load_from_checkpoint"]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_crafted_checkpoint_is_refused_naming_the_key_and_runs_nothing(
        attack: str, entry: str, genuine: tuple[str, dict[str, Any]], canary: Path, tmp_path: Path,
        compose_cfg: Compose) -> None:
    # under <run>/checkpoints/ without a .hydra/: evaluate would fail on the missing run config if it read that first
    ckpt = craft(genuine, attack, canary, tmp_path / "run" / "checkpoints" / "last.ckpt")
    key = ATTACKS[attack][0]
    open_it = {
        "sample": lambda: load_model(ckpt),
        "evaluate": lambda: _evaluate(ckpt),
        "encode": lambda: _encode(ckpt),
        "translate": lambda: _translate(ckpt),
        "project": lambda: _project(ckpt),
        "app": lambda: _app(ckpt),
        "blend": lambda: _blend(ckpt),
        "train_resume": lambda: train(compose_cfg(*TOY, f"ckpt_path={ckpt}")),
        "load_from_checkpoint": lambda: WGANGP.load_from_checkpoint(ckpt),
    }[entry]
    with pytest.raises(UnsafeCheckpointError) as err:
        open_it()
    assert str(err.value).startswith(f"{key} = "), str(err.value)
    assert f"ckpt_path={ckpt} is refused because it names code outside lit_gans' allow-list" in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("attack", ["foreign_class", "network", "interpolation"])
def test_the_attacks_run_code_when_the_check_is_bypassed(
        attack: str, genuine: tuple[str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The crafted files are real attacks: without `check_checkpoint` (what main did) each creates its canary."""
    canary = tmp_path / "canary"
    ckpt = craft(genuine, attack, canary, tmp_path / "x.ckpt")
    monkeypatch.setattr(lit_gans.sampling, "read_checkpoint", lambda p, m="cpu": torch.load(p, weights_only=True))
    monkeypatch.setattr(lit_gans.sampling, "check_checkpoint", lambda ckpt, path: _locate(ckpt["lit_gans_class"]))
    try:
        load_model(ckpt)
    except Exception:  # noqa: BLE001 - the object built is no module; what matters is that it ran
        pass
    for _ in range(50):  # Popen returns before `touch` has run
        if canary.exists():
            break
        subprocess.run(["sleep", "0.1"], check=True)
    assert canary.exists()


def test_sample_cli_refuses_a_foreign_class_and_runs_nothing(
        genuine: tuple[str, dict[str, Any]], canary: Path, tmp_path: Path) -> None:
    """The user's command: `python sample.py ckpt_path=<a stranger's file>`."""
    ckpt = craft(genuine, "foreign_class", canary, tmp_path / "stranger.ckpt")
    out = subprocess.run([sys.executable, "sample.py", f"ckpt_path={ckpt}"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert out.returncode != 0
    assert "UnsafeCheckpointError: lit_gans_class = 'subprocess.Popen' is not allowed" in out.stderr, out.stderr[-2000:]


def test_evaluate_refuses_a_run_config_that_names_foreign_code(
        genuine: tuple[str, dict[str, Any]], canary: Path, tmp_path: Path) -> None:
    """evaluate.py also builds the data and metrics of the run's .hydra/config.yaml, which travels with the file."""
    cls, hparams = genuine
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    torch.save({"lit_gans_class": cls, "hyper_parameters": hparams, "state_dict": {}}, ckpt)
    (tmp_path / "run" / ".hydra").mkdir()
    run_cfg = OmegaConf.create({"data": {"_target_": "lit_gans.data.ToyDataModule", "shape": [2],
                                         "distribution": _makedirs(canary)},
                                "metrics": {"_target_": "lit_gans.callbacks.GeneratorMetrics", "features": "mixture"}})
    OmegaConf.save(run_cfg, tmp_path / "run" / ".hydra" / "config.yaml")
    with pytest.raises(UnsafeCheckpointError, match=r"^data.distribution._target_ = 'os.makedirs' is not allowed"):
        _evaluate(ckpt)
    run_cfg.data.distribution = {"_target_": "lit_gans.data.Ring"}
    run_cfg.metrics._target_ = "lit_gans.callbacks.ema.torch.hub.load"
    OmegaConf.save(run_cfg, tmp_path / "run" / ".hydra" / "config.yaml")
    with pytest.raises(UnsafeCheckpointError, match=r"^metrics._target_ = 'lit_gans.callbacks.ema.torch.hub.load'"):
        _evaluate(ckpt)


# ----- the allow-list covers what our configs name, and only that ------------------------------------------
def _targets(tree: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "_target_":
                yield f"{where}.{key}", value
            yield from _targets(value, f"{where}.{key}")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _targets(value, f"{where}[{i}]")


def _yaml(group: str) -> list[Path]:
    return sorted((CONF / group).rglob("*.yaml"))


@pytest.mark.parametrize("group", ["model", "net", "loss", "experiment"])
def test_every_target_our_model_configs_name_is_allowed(group: str) -> None:
    """Glob conf/: the allow-list cannot drift from what the configs name (experiments: their model part)."""
    checked = 0
    for path in _yaml(group):
        raw = OmegaConf.to_container(OmegaConf.load(path))
        raw = raw.get("model", {}) if group in ("model", "experiment") else raw  # `# @package _global_` files
        for where, name in _targets(raw, path.stem):
            if where == f"{path.stem}._target_" and group in ("model", "experiment"):
                check_model_class(name, where)  # the module class itself: lit_gans_class in a checkpoint
            else:
                assert any(rule.admits(name) for rule in MODEL_TARGETS), f"{path}: {where} = {name!r} is not allowed"
            checked += 1
        if group == "loss":  # also the functions and required classes named by plain strings
            check_hyper_parameters({"loss": OmegaConf.to_container(OmegaConf.load(path), resolve=True)})
    assert checked > 0


@pytest.mark.parametrize("group", ["data", "metrics"])
def test_every_target_of_data_and_metrics_configs_is_allowed_for_evaluate(group: str) -> None:
    for path in _yaml(group):
        for where, name in _targets(OmegaConf.to_container(OmegaConf.load(path)), path.stem):
            assert any(rule.admits(name) for rule in RUN_TARGETS), f"{path}: {where} = {name!r} is not allowed"


def _dotted_strings(tree: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _dotted_strings(value, f"{where}.{key}")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _dotted_strings(value, f"{where}[{i}]")
    elif isinstance(tree, str) and "." in tree and all(p.isidentifier() for p in tree.split(".")):
        yield where, tree


@pytest.mark.parametrize("model", config_names("model"))
def test_every_composed_model_passes_and_every_callable_it_names_is_checked(model: str) -> None:
    """A genuine checkpoint of every model passes; and each string in its hyper-parameters that resolves to
    code sits where the check looks (a `_target_`, a loss function key, the loss's required class)."""
    cls, hparams = model_hparams(f"model={model}")
    assert check_checkpoint({"lit_gans_class": cls, "hyper_parameters": hparams}) is _locate(cls)
    checked = {f"hyper_parameters.loss.{k}" for k in Objective.FUNCTION_KEYS} | {"hyper_parameters.loss.requires.class"}
    for where, name in _dotted_strings(hparams, "hyper_parameters"):
        try:
            obj = _locate(name)
        except ImportError:
            continue  # data, not a name of code
        if callable(obj):
            assert where.endswith("._target_") or where in checked, f"{where} = {name!r} names code the check skips"


def test_genuine_checkpoint_of_a_real_run_loads_everywhere(compose_cfg: Compose, one_thread: None) -> None:
    """A tiny real training run: its checkpoint loads for sampling, through Lightning, and resumes."""
    _, objects = train(compose_cfg(*TOY, "trainer.max_epochs=1"))
    ckpt = Path(objects["trainer"].checkpoint_callback.best_model_path)
    z = torch.randn(5, objects["model"].hparams.latent_dim)
    with torch.no_grad():
        expected = objects["model"].eval().generator(z)
        torch.testing.assert_close(load_model(ckpt).generator(z), expected, rtol=0, atol=0)
        torch.testing.assert_close(WGANGP.load_from_checkpoint(ckpt).eval().generator(z), expected, rtol=0, atol=0)
    _, resumed = train(compose_cfg(*TOY, "trainer.max_epochs=2", f"ckpt_path={ckpt}"))
    assert resumed["trainer"].current_epoch == 2
