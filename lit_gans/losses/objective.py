"""``Objective``: the pair of losses (and optional penalty) a ``conf/loss/*.yaml`` selects."""

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hydra.utils import get_method, instantiate
from torch import Tensor

from lit_gans.losses.adversarial import minimax_generator_loss
from lit_gans.losses.wasserstein import wasserstein_generator_loss

DiscriminatorLoss = Callable[[Tensor, Tensor], Tensor]
GeneratorLoss = Callable[[Tensor], Tensor]


def _resolve(spec: str | Mapping[str, Any] | None) -> Callable | None:
    """A dotted path (``"lit_gans.losses.x"``) or a ``{_target_, _partial_: true, ...}`` dict."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return get_method(spec)
    return instantiate(dict(spec), _partial_=True)


def _function(fn: Callable) -> Callable:
    """The loss function itself: configs with arguments give a functools.partial of it."""
    return getattr(fn, "func", fn)


# generator losses that are minus the discriminator loss's fake term: the game is zero-sum
ZERO_SUM_GENERATOR_LOSSES = (minimax_generator_loss, wasserstein_generator_loss)


@dataclass(frozen=True)
class Objective:
    """A discriminator loss, a generator loss and optional penalties on D's input gradient (WGAN-GP's, R1).

    Built from plain config so checkpoints hold strings, not functions. A loss with hyper-parameters
    of its own (LSGAN's targets, f-GAN's divergence, EBGAN's margin) declares them under ``params``
    and its function specs interpolate them (``margin: ${..params.margin}``), so the command line
    reads ``loss.params.margin=20`` and models can read ``objective.params``:

    >>> obj = Objective.from_config({"name": "wasserstein_gp",
    ...     "discriminator": "lit_gans.losses.wasserstein_critic_loss",
    ...     "generator": "lit_gans.losses.wasserstein_generator_loss",
    ...     "estimate": "lit_gans.losses.em_estimate", "gp_weight": 10.0})
    >>> obj.gp_weight, obj.estimate_name
    (10.0, 'em_estimate')
    """

    name: str
    discriminator: DiscriminatorLoss
    generator: GeneratorLoss
    estimate: DiscriminatorLoss | None = None  # a divergence estimate to log, e.g. the EM estimate
    gp_weight: float = 0.0  # λ of the gradient penalty (Gulrajani et al. 2017); 0 disables it
    gp_one_sided: bool = False
    # γ of the R1 penalty (γ/2)·E‖∇_x D(x)‖² on real data (Mescheder et al. 2018, Eq. 9; `lit_gans.losses.r1`); 0 disables it
    r1_gamma: float = 0.0
    logits: bool = False  # D's outputs are logits: also log D(x) = sigmoid(d) as a probability
    params: Mapping[str, Any] = field(default_factory=dict)  # the loss's own hyper-parameters (see below)
    # losses whose inputs only one model family produces (Cramér features, autoencoder energies) name it:
    # {"model": the conf/model name, "class": the LightningModule class path}
    requires: Mapping[str, str] | None = None

    # the keys whose values name functions (a dotted path or a `_target_` dict); checkpoints are checked on them
    FUNCTION_KEYS = ("discriminator", "generator", "estimate")

    @property
    def estimate_name(self) -> str | None:
        if self.estimate is None:
            return None
        return getattr(_function(self.estimate), "__name__", None)

    @property
    def zero_sum(self) -> bool:
        """G's loss is −(D's loss) up to terms without θ_G (minimax, Wasserstein): there is one value function."""
        return _function(self.generator) in ZERO_SUM_GENERATOR_LOSSES

    def behaviour(self) -> tuple:
        """What the objective computes, independent of how its config spells it: each function's qualified
        name with all keyword values (defaults filled in), and the penalty settings. Two configs with equal
        behaviour train the same model (``check_resume`` compares this, so a config that only moved a
        default into ``params`` still resumes its old checkpoints)."""

        def spec(fn: Callable | None) -> tuple | None:
            if fn is None:
                return None
            func, bound = _function(fn), dict(getattr(fn, "keywords", {}) or {})
            defaults = {name: p.default for name, p in inspect.signature(func).parameters.items()
                        if p.default is not inspect.Parameter.empty}
            return f"{func.__module__}.{func.__qualname__}", tuple(sorted({**defaults, **bound}.items()))

        return (self.name, spec(self.discriminator), spec(self.generator), spec(self.estimate),
                self.gp_weight, self.gp_one_sided, self.r1_gamma, self.logits)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "Objective":
        known = {"name", "discriminator", "generator", "estimate", "gp_weight", "gp_one_sided", "r1_gamma", "logits", "params",
                 "requires"}
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"Unknown loss config keys {sorted(unknown)}; expected {sorted(known)}.")
        if float(cfg.get("r1_gamma", 0.0)) < 0:
            raise ValueError(f"loss.r1_gamma (R1's γ) must be >= 0, got {cfg['r1_gamma']}.")
        return cls(
            name=str(cfg.get("name", "custom")),
            discriminator=_resolve(cfg["discriminator"]),
            generator=_resolve(cfg["generator"]),
            estimate=_resolve(cfg.get("estimate")),
            gp_weight=float(cfg.get("gp_weight", 0.0)),
            gp_one_sided=bool(cfg.get("gp_one_sided", False)),
            r1_gamma=float(cfg.get("r1_gamma", 0.0)),
            logits=bool(cfg.get("logits", False)),
            params=dict(cfg.get("params") or {}),
            requires=dict(cfg["requires"]) if cfg.get("requires") else None,
        )
