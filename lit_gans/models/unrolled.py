"""Unrolled GAN (Metz, Poole, Pfau, Sohl-Dickstein 2017, "Unrolled Generative Adversarial Networks").

The generator descends the surrogate f_K(θ_G, θ_D) = f(θ_G, θ_D^K(θ_G, θ_D)) (eq. (5)): the objective
after K differentiable discriminator updates θ_D^{k+1} = θ_D^k + η^k dθ_D^k (eq. (6)) taken from the
current θ_D. Differentiating through the updates gives the "missing gradient term" of eq. (9)
(d f/dθ_D^K · dθ_D^K/dθ_G), which tells G how D would react to it. The inner updates repeat the real
optimizer's (SGD with momentum, or Adam with its moment estimates carried along differentiably, as the
paper does) from that optimizer's current state, on the step's real batch and G's samples (which carry
G's graph). D itself is then updated normally, one step per batch, by the skeleton.

Which f: the paper's f is the game's value V(θ_G, θ_D) = E_x log D(x) + E_z log(1 − D(G(z))), the saddle
objective, whose real-data term depends on θ_G once D is unrolled (through θ_D^K(θ_G)); dropping it would
drop half of eq. (9)'s missing term. So for the zero-sum losses (minimax, Wasserstein) G minimises
−L_D(θ_D^K) on the step's real batch and its samples (``unroll_objective="saddle"``, chosen by "auto").
For the other losses (non-saturating, least squares, ...) there is no value function: G minimises its
own loss against the unrolled D (``"generator"``, what "auto" picks there).

Unrolling never touches the real discriminator: it works on copies of θ_D (torch.func.functional_call)
and on copies of its buffers, so BatchNorm running statistics do not move either.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor
from torch.func import functional_call

from lit_gans.models.base import Logs
from lit_gans.models.gan import GAN

INNER_OPTIMIZERS = ("torch.optim.SGD", "torch.optim.Adam")
UNROLL_OBJECTIVES = ("auto", "saddle", "generator")
Params = dict[str, Tensor]


class UnrolledGAN(GAN):
    """Args (besides the skeleton's):
        unroll_steps: K (the paper: 5 or 10 on the ring; 0 is the plain GAN).
        unroll_second_order: keep the gradient through θ_D^K(θ_G) (eq. (9)'s second term); false drops it
            (G then just sees the unrolled D), the paper's comparison.
        unroll_objective: what G minimises at θ_D^K: "saddle" = −L_D (the value function f of eq. (5), real-data
            term included), "generator" = G's configured loss; "auto" = saddle for zero-sum losses (minimax,
            Wasserstein), else generator (see the module docstring).
    """

    reuse_fake_unsupported = ("its G step unrolls D's next updates on the G step's own samples; on the fake D has just "
                              "stepped on, the first unrolled update would repeat that step on the same batch.")

    def __init__(self, *args: Any, unroll_steps: int = 5, unroll_second_order: bool = True,
                 unroll_objective: str = "auto", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if unroll_steps < 0:
            raise ValueError(f"unroll_steps must be >= 0, got {unroll_steps}.")
        if unroll_objective not in UNROLL_OBJECTIVES:
            raise ValueError(f"Unknown unroll_objective {unroll_objective!r}; choose one of {UNROLL_OBJECTIVES}.")
        self.saddle = unroll_objective == "saddle" or (unroll_objective == "auto" and self.objective.zero_sum)
        if self.saddle and self.hparams.get("feature_matching"):
            raise ValueError("unroll_objective=saddle replaces G's loss by −L_D, which feature matching would replace "
                             "too; use model.unroll_objective=generator with feature matching.")
        target = self.hparams.optimizer_d.get("_target_")
        if target not in INNER_OPTIMIZERS:
            raise ValueError(f"The unrolled discriminator updates repeat the real optimizer's; supported: {INNER_OPTIMIZERS}, "
                             f"got model.optimizer_d._target_={target}.")
        self._d_state: Params | None = None  # θ_D^k and buffers used by d_forward while unrolling

    def double_backward_through_discriminator(self) -> bool:
        """Unrolling differentiates D's gradients and calls D with substituted parameters: ``compile`` leaves D eager."""
        return super().double_backward_through_discriminator() or self.hparams.unroll_steps > 0

    # ----- D with substituted parameters --------------------------------------------------------
    def d_forward(self, x: Tensor) -> Tensor:
        """D on its (packed, for PacGAN) input, with the substituted parameters while unrolling."""
        if self._d_state is None:
            return super().d_forward(x)
        return functional_call(self.discriminator, self._d_state, (x,))

    @contextlib.contextmanager
    def discriminator_state(self, state: Params) -> Iterator[None]:
        """Within the block the loss hooks see D with ``state`` (parameters and buffers by name)."""
        previous, self._d_state = self._d_state, state
        try:
            yield
        finally:
            self._d_state = previous

    # ----- the unrolled surrogate ---------------------------------------------------------------
    def unroll(self, real: Any, fake: Any, optimizer: torch.optim.Optimizer) -> tuple[Params, Params]:
        """θ_D^K and D's buffers after K inner updates that repeat ``optimizer`` (D's) from its current
        state; copies throughout, the real D and optimizer are untouched."""
        params = {n: p.detach().clone().requires_grad_(True) for n, p in self.discriminator.named_parameters()}
        buffers = {n: b.detach().clone() for n, b in self.discriminator.named_buffers()}
        if self.hparams.unroll_steps == 0:
            return params, buffers
        states = [optimizer.state.get(p, {}) for p in self.discriminator.parameters()]
        inner = _InnerOptimizer(self.hparams.optimizer_d["_target_"], optimizer.param_groups[0], states, list(params))
        for _ in range(self.hparams.unroll_steps):
            with self.discriminator_state({**params, **buffers}):
                d_loss, _ = self.discriminator_loss(real, fake)
            grads = torch.autograd.grad(d_loss, list(params.values()), create_graph=self.hparams.unroll_second_order)
            params = inner.step(params, grads)
            if not self.hparams.unroll_second_order:
                params = {n: p.detach().requires_grad_(True) for n, p in params.items()}
        return params, buffers

    def unrolled_generator_loss(self, real: Any, fake: Any, optimizer: torch.optim.Optimizer) -> tuple[Tensor, Logs]:
        """f(θ_G, θ_D^K(θ_G, θ_D)) (eq. (5)): −L_D (saddle) or the variant's generator loss against the
        unrolled discriminator."""
        params, buffers = self.unroll(real, fake, optimizer)
        with self.discriminator_state({**params, **buffers}):
            if not self.saddle:
                return super().generator_loss(real, fake)
            loss = -self.objective.discriminator(self.d_scores(real), self.d_scores(fake))  # the plain game, no penalty
            return loss, {"train/g_loss": loss}

    def generator_loss(self, real: Any, fake: Any) -> tuple[Tensor, Logs]:
        return self.unrolled_generator_loss(real, fake, self._torch_optimizer_d())

    def _torch_optimizer_d(self) -> torch.optim.Optimizer:
        opt = self.optimizers()[1]
        return getattr(opt, "optimizer", opt)  # Lightning wraps it


class _InnerOptimizer:
    """The discriminator optimizer's update as a differentiable function of (θ, ∇θ): torch.optim.SGD
    (momentum, dampening, nesterov, weight decay) or torch.optim.Adam (moments, bias correction, weight
    decay, no amsgrad), starting from the real optimizer's state and hyper-parameters."""

    def __init__(self, target: str, group: dict[str, Any], states: list[dict[str, Any]], names: list[str]) -> None:
        self.adam = target == "torch.optim.Adam"
        if self.adam and group.get("amsgrad"):
            raise ValueError("Unrolling Adam with amsgrad=True is not supported.")
        self.group, self.names = group, names
        if self.adam:
            self.m = {n: s["exp_avg"].detach() if "exp_avg" in s else None for n, s in zip(names, states)}
            self.v = {n: s["exp_avg_sq"].detach() if "exp_avg_sq" in s else None for n, s in zip(names, states)}
            self.t = int(states[0]["step"]) if states and "step" in states[0] else 0
        else:
            self.buf = {n: s.get("momentum_buffer") for n, s in zip(names, states)}
            self.buf = {n: b.detach() if b is not None else None for n, b in self.buf.items()}

    def step(self, params: Params, grads: tuple[Tensor, ...]) -> Params:
        g = self.group
        lr = float(g["lr"])
        out: Params = {}
        if self.adam:
            self.t += 1
            beta1, beta2 = g["betas"]
            c1, c2 = 1 - beta1**self.t, 1 - beta2**self.t
        for name, grad in zip(self.names, grads):
            p = params[name]
            if g.get("weight_decay", 0):
                grad = grad + g["weight_decay"] * p
            if self.adam:
                m, v = self.m[name], self.v[name]
                m = (1 - beta1) * grad if m is None else beta1 * m + (1 - beta1) * grad
                v = (1 - beta2) * grad * grad if v is None else beta2 * v + (1 - beta2) * grad * grad
                self.m[name], self.v[name] = m, v
                # the tiny constant keeps sqrt's derivative finite where v = 0 (1e-12 ≪ eps = 1e-8)
                out[name] = p - lr * (m / c1) / ((v / c2 + 1e-24).sqrt() + g["eps"])
            else:
                momentum = g.get("momentum", 0)
                if momentum:
                    buf = self.buf[name]
                    buf = grad if buf is None else momentum * buf + (1 - g.get("dampening", 0)) * grad
                    self.buf[name] = buf
                    grad = grad + momentum * buf if g.get("nesterov") else buf
                out[name] = p - lr * grad
        return out
