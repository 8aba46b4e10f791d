"""Historical averaging (Salimans et al. 2016, "Improved Techniques for Training GANs", Section 3.3).

Each player's cost gains λ‖θ − (1/t) Σ_{i=1}^{t} θ[i]‖², with θ[i] the player's parameters at its
i-th step; the average is kept online. It penalises moving far from where the player has been,
the paper's remedy for the low-dimensional games where gradient descent orbits an equilibrium.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

PLAYERS = ("d", "g")


def check_historical_averaging(cfg: Mapping[str, Any] | None) -> None:
    """Fail at construction, naming the fix, for a malformed ``historical_averaging`` option."""
    if not cfg:
        return
    unknown = set(cfg) - {"weight", "players"}
    players = cfg.get("players", list(PLAYERS))
    if unknown or cfg.get("weight", 0) < 0 or not set(players) <= set(PLAYERS):
        raise ValueError(f"historical_averaging takes {{weight >= 0, players: subset of {list(PLAYERS)}}}, got {dict(cfg)}.")


class HistoricalAverage:
    """The running mean (1/t) Σ θ[i] of one player's parameters, and its penalty.

    ``penalty(params)`` first adds the current θ[t] to the mean (so at t = 1 the term is 0), then
    returns ‖θ − mean‖² summed over every parameter element; the mean is a constant, so the
    gradient is 2(θ − mean). ``state_dict``/``load_state_dict`` carry t and the mean through
    checkpoints, so a resumed run continues the same average.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean: list[Tensor] = []

    @torch.no_grad()
    def update(self, params: Iterable[nn.Parameter]) -> None:
        params = list(params)
        if not self.mean:
            self.mean = [torch.zeros_like(p, dtype=torch.float32) for p in params]
        if len(self.mean) != len(params):
            raise RuntimeError(f"historical average holds {len(self.mean)} tensors but the player has {len(params)} parameters.")
        self.mean = [m.to(p.device) for m, p in zip(self.mean, params)]  # no-op unless just loaded to CPU
        self.count += 1
        for mean, p in zip(self.mean, params):
            mean.lerp_(p.float(), 1.0 / self.count)  # m_t = m_{t-1} + (θ_t − m_{t-1}) / t

    def penalty(self, params: Iterable[nn.Parameter]) -> Tensor:
        """Record θ[t], then ‖θ − (1/t) Σ_{i≤t} θ[i]‖² (a scalar with θ's graph)."""
        params = list(params)
        self.update(params)
        return sum(((p.float() - m) ** 2).sum() for p, m in zip(params, self.mean))

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mean": [m.cpu() for m in self.mean]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.count, self.mean = int(state["count"]), [m.clone() for m in state["mean"]]
