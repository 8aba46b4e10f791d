"""Reading our checkpoints with errors that name the fix, and refusing the ones that name foreign code.

A checkpoint is data. ``torch.load(weights_only=True)`` unpickles only tensors and plain containers,
but rebuilding the module then calls the class named in ``lit_gans_class`` with the file's
``hyper_parameters``, and Hydra's ``instantiate`` calls every ``_target_`` in them (networks,
optimizers, schedulers, losses). `check_checkpoint` therefore checks, before anything is built, that
each of those names is on an allow-list of what our configs can name; `read_checkpoint` runs it on
every file it opens.
"""

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra._internal.utils import _locate  # what instantiate / get_class / get_method resolve names with
from torch import nn


class UnsafeCheckpointError(ValueError):
    """A checkpoint (or run config) names code outside lit_gans' allow-list; nothing in it was run."""


@dataclass(frozen=True)
class Allowed:
    """Names under ``package`` that resolve to an object defined there, of the given kind:
    a subclass of one of ``bases``, or (``bases=None``) a plain function."""

    package: str
    bases: tuple[type, ...] | None
    what: str

    def admits(self, name: str) -> bool:
        """Import only inside ``package``, and only public names: ``lit_gans.x._helper`` is no config's."""
        if not name.startswith(self.package + ".") or any(part.startswith("_") for part in name.split(".")):
            return False
        try:
            obj = _locate(name)
        except Exception:  # noqa: BLE001 - a name that does not resolve is refused like any other
            return False
        # defined in the package itself: ``lit_gans.checkpoints.torch.load`` resolves to torch's loader
        module = getattr(obj, "__module__", None) or ""
        if module != self.package and not module.startswith(self.package + "."):
            return False
        if self.bases is None:
            return inspect.isfunction(obj)
        return isinstance(obj, type) and issubclass(obj, self.bases)


def _model_base() -> type:
    from lit_gans.models import AdversarialModule  # lazily: lit_gans.models.base imports this module

    return AdversarialModule


# What a model's hyper-parameters may name: every ``_target_`` under conf/model, conf/net and conf/loss is one of
# these (tests/test_checkpoint_safety.py globs conf/ so the list cannot drift from the configs).
MODEL_TARGETS: tuple[Allowed, ...] = (
    Allowed("lit_gans.networks", (nn.Module,), "networks from lit_gans.networks"),
    Allowed("torch.nn", (nn.Module,), "layers from torch.nn"),
    Allowed("torch.optim", (torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler,
                            torch.optim.lr_scheduler.ReduceLROnPlateau), "optimizers and LR schedulers from torch.optim"),
    Allowed("lit_gans.schedules", (torch.optim.lr_scheduler.LRScheduler,), "LR schedules from lit_gans.schedules"),
    Allowed("lit_gans.losses", None, "loss functions from lit_gans.losses"),
)
LOSS_FUNCTIONS: tuple[Allowed, ...] = (MODEL_TARGETS[-1],)
# What evaluate.py may build from a run's saved config (<run>/.hydra/config.yaml): its data and metrics.
RUN_TARGETS: tuple[Allowed, ...] = (
    Allowed("lit_gans.data", (object,), "datamodules and distributions from lit_gans.data"),
    Allowed("lit_gans.callbacks", (L.Callback,), "callbacks from lit_gans.callbacks"),
)


def _refuse(where: str, value: Any, reason: str, source: str) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(
        f"{where} = {value!r} {reason}: {source} is refused because it names code outside lit_gans' allow-list "
        "(nothing in it was run). Only open checkpoints written by lit_gans; a model built on code of your own "
        "must be rebuilt with that code and given the checkpoint's state_dict."
    )


def _check_name(name: Any, where: str, allowed: Sequence[Allowed], source: str) -> None:
    if not isinstance(name, str):
        raise _refuse(where, name, "is not a dotted name", source)
    if not any(rule.admits(name) for rule in allowed):
        raise _refuse(where, name, f"is not allowed (allowed: {'; '.join(r.what for r in allowed)})", source)


def check_config_targets(tree: Any, where: str, allowed: Sequence[Allowed] = MODEL_TARGETS,
                         source: str = "the checkpoint") -> None:
    """Walk dicts and lists; every ``_target_`` must be ``allowed``. Interpolations are refused too: Hydra
    resolves them before instantiating, and ``${oc.create:...}`` can turn a string into a new ``_target_``."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            path = f"{where}.{key}"
            if key == "_target_":
                _check_name(value, path, allowed, source)
            check_config_targets(value, path, allowed, source)
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            check_config_targets(value, f"{where}[{i}]", allowed, source)
    elif isinstance(tree, str) and "${" in tree:
        raise _refuse(where, tree, "is an interpolation (checkpoints hold resolved values)", source)


def check_model_class(name: Any, where: str = "lit_gans_class", source: str = "the checkpoint") -> type:
    """The lit_gans module class ``name`` refers to: only names under ``lit_gans.`` are imported at all."""
    base = _model_base()
    rule = Allowed("lit_gans", (base,), f"subclasses of {base.__module__}.{base.__qualname__}")
    _check_name(name, where, (rule,), source)
    return _locate(name)


def check_loss(loss: Any, where: str, source: str = "the checkpoint") -> None:
    """The loss's function specs given as dotted names (`Objective.FUNCTION_KEYS`; dict specs are
    ``_target_``s, checked by `check_config_targets`) and the model class it ``requires``."""
    from lit_gans.losses.objective import Objective

    if not isinstance(loss, Mapping):
        return  # Objective.from_config fails on it with its own message
    for key in Objective.FUNCTION_KEYS:
        if isinstance(loss.get(key), str):
            _check_name(loss[key], f"{where}.{key}", LOSS_FUNCTIONS, source)
    requires = loss.get("requires")
    if isinstance(requires, Mapping) and "class" in requires:
        check_model_class(requires["class"], f"{where}.requires.class", source)


def check_hyper_parameters(hparams: Any, where: str = "hyper_parameters", source: str = "the checkpoint") -> None:
    """Everything a module's hyper-parameters make Hydra or `Objective` resolve, checked against the allow-list."""
    if not isinstance(hparams, Mapping):
        raise _refuse(where, type(hparams).__name__, "is not a dict of hyper-parameters", source)
    for key in ("_instantiator", "_class_path"):  # Lightning's own rebuild hook (LightningCLI); lit_gans never writes it
        if key in hparams:
            raise _refuse(f"{where}.{key}", hparams[key], "is Lightning's instantiator hook, which lit_gans checkpoints "
                          "never hold", source)
    check_config_targets(hparams, where, MODEL_TARGETS, source)
    if "loss" in hparams:
        check_loss(hparams["loss"], f"{where}.loss", source)


def check_checkpoint(ckpt: Mapping[str, Any], path: str | Path | None = None) -> type | None:
    """Refuse a checkpoint that would run code outside lit_gans' allow-list when rebuilt; returns the
    module class it names (None when it names none, e.g. a plain Lightning checkpoint).

    Raises:
        UnsafeCheckpointError: naming the key, e.g. ``hyper_parameters.optimizer_g._target_ = 'os.system'``.
    """
    source = f"ckpt_path={path}" if path is not None else "the checkpoint"
    cls = check_model_class(ckpt["lit_gans_class"], source=source) if "lit_gans_class" in ckpt else None
    if "hyper_parameters" in ckpt:
        check_hyper_parameters(ckpt["hyper_parameters"], source=source)
    return cls


def read_checkpoint(path: str | Path, map_location: str = "cpu") -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of a lit_gans checkpoint (plain containers and tensors only),
    refused by `check_checkpoint` when it names code outside lit_gans' allow-list."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={path} does not exist. Point it at <run>/checkpoints/last.ckpt.")
    try:
        # mmap: the resume check reads only hyper_parameters, then Lightning loads the file itself
        ckpt = torch.load(path, map_location=map_location, weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means the same thing here
        raise RuntimeError(
            f"ckpt_path={path} is not a readable lit_gans checkpoint ({type(err).__name__}: {err}). "
            "It may be truncated or corrupt; pick another checkpoint from the run's checkpoints/ folder."
        ) from err
    if not isinstance(ckpt, Mapping):
        raise RuntimeError(f"ckpt_path={path} holds a {type(ckpt).__name__}, not a lit_gans checkpoint (a dict).")
    check_checkpoint(ckpt, path)
    return ckpt
