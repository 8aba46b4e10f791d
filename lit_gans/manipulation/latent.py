"""The generator as a differentiable map z -> image with its conditions fixed: what projection, editing and
interpolation optimise over (Zhu et al. 2016, "Generative Visual Manipulation on the Natural Image Manifold").

Every image model of the collection fits: unconditional G(z); class-conditional G(z, y) (cGAN, AC-GAN) with the
class y fixed; InfoGAN's G(z, c) with its codes c fixed. Translation models draw no z and are refused.

InfoGAN's continuous codes can also be optimised jointly with z (``optimize_codes=True``): the vector every optimiser
moves is then v = [z, c_cont] of `dim` = latent_dim + C coordinates (the categorical codes stay fixed, the user's
choice), and G reads its tail as the continuous codes. Vectors of latent_dim coordinates are still accepted (read
with the fixed codes; `extend` appends them).

Box parameterisation: the optimisers work on an unconstrained w and read z = b·tanh(w / b), so z never leaves
the box [-b, b]^d. For a uniform prior b = 1 (the authors' z = tanh(z'), which keeps z in U[-1, 1]^d's support);
for a Gaussian prior b = 3 (±3σ per coordinate, 99.7 % of the prior's mass in each direction): a plain z would
drift to norms the generator never saw in training. Optimised InfoGAN codes get their prior's box, b = r of
Unif(−r, r) (``continuous_range``), so they never leave the range G was trained on.
"""

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from lit_gans.sampling import slerp

BOUNDS = {"uniform": 1.0, "normal": 3.0}
# how far inside the box a z may be mapped back to w (atanh(±1) is infinite): the authors clip to ±0.99
INSIDE = 0.99


class LatentSpace:
    """G restricted to its noise z: ``space(z)`` = G(z, conditions) for a batch of z (B, latent_dim).

    Args:
        model: a trained lit_gans image model (its ``generator`` and hyper-parameters); put in eval mode.
        label: class of a cGAN / AC-GAN (fixed for every z; `with_label` changes it).
        codes: InfoGAN's codes ``(categorical (J,) ints, continuous (C,) floats)`` (default: every categorical
            code 0 and every continuous code 0, the centre of the traversal); `with_codes` changes them.
        optimize_codes: InfoGAN only: the continuous codes join z in the optimised vector (``dim`` = latent_dim + C,
            their box the prior's [−r, r]); the fixed continuous codes are then only the default `extend` appends.
    """

    def __init__(self, model: Any, label: int | None = None, codes: tuple[Sequence[int], Sequence[float]] | None = None,
                 optimize_codes: bool = False) -> None:
        if getattr(model, "batch_kind", "images") != "images" or not hasattr(model, "sample_latent"):
            raise ValueError(f"{type(model).__name__} translates images and has no latent z to project onto or edit; "
                             "iGAN works with generators G(z) (unconditional, conditional, InfoGAN).")
        self.model = model.eval()
        for p in model.parameters():  # optimisers move z only
            p.requires_grad_(False)
        self.kind = getattr(model, "condition_kind", None)  # None | "label" | "code"
        self.latent_dim = int(model.hparams.latent_dim)
        self.prior = str(model.hparams.latent_distribution)
        self.bound = BOUNDS[self.prior]
        self.label: int | None = None
        self.codes: tuple[Tensor, Tensor] | None = None
        if self.kind == "label":
            self.with_label(0 if label is None else label)
        elif self.kind == "code":
            self.with_codes(codes)
        elif label is not None or codes is not None:
            raise ValueError(f"{type(model).__name__} is unconditional: it takes no label or codes.")
        self.code_dim, self.code_bound = 0, 1.0
        if optimize_codes:
            n_cont = int(model.hparams.continuous_codes) if self.kind == "code" else 0
            if n_cont == 0:
                raise ValueError(f"optimize_codes=true needs an InfoGAN checkpoint with continuous codes; "
                                 f"{type(model).__name__} has none (set optimize_codes=false).")
            self.code_dim, self.code_bound = n_cont, float(model.hparams.continuous_range)
        self.dim = self.latent_dim + self.code_dim  # the optimised vector: z, then the continuous codes if optimised
        with torch.no_grad():
            self.image_shape = tuple(self(torch.zeros(1, self.latent_dim, device=self.device)).shape[1:])  # (C, H, W)
        if len(self.image_shape) != 3:
            raise ValueError(f"{type(model).__name__} makes {self.image_shape}-shaped samples, not images.")

    @property
    def device(self) -> torch.device:
        return self.model.device

    # ----- conditions ------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return int(self.model.hparams.num_classes) if self.kind == "label" else 0

    def with_label(self, label: int) -> "LatentSpace":
        if self.kind != "label":
            raise ValueError(f"{type(self.model).__name__} is not class-conditional (no label to set).")
        if not 0 <= int(label) < self.num_classes:
            raise ValueError(f"label must be in 0..{self.num_classes - 1}, got {label}.")
        self.label = int(label)
        return self

    def with_codes(self, codes: tuple[Sequence[int], Sequence[float]] | None) -> "LatentSpace":
        """InfoGAN: fix the categorical indices (J,) and continuous values (C,) every z is generated with."""
        if self.kind != "code":
            raise ValueError(f"{type(self.model).__name__} has no InfoGAN codes.")
        categories, n_cont = self.model.categories, int(self.model.hparams.continuous_codes)
        cat, cont = codes if codes is not None else ([0] * len(categories), [0.0] * n_cont)
        cat, cont = torch.as_tensor(list(cat), dtype=torch.long), torch.as_tensor(list(cont), dtype=torch.float32)
        if cat.shape != (len(categories),) or cont.shape != (n_cont,):
            raise ValueError(f"codes must be ({len(categories)} categorical indices, {n_cont} continuous values), "
                             f"got ({cat.numel()}, {cont.numel()}).")
        if any(not 0 <= int(c) < k for c, k in zip(cat, categories)):
            raise ValueError(f"categorical codes must be below {categories}, got {cat.tolist()}.")
        self.codes = (cat.to(self.device), cont.to(self.device))
        return self

    @property
    def optimize_codes(self) -> bool:
        return self.code_dim > 0

    def describe(self, v: Tensor | None = None) -> str:
        """The conditions as text; with ``v`` (1 or (1, dim)) and optimised codes, v's continuous codes."""
        if self.kind == "label":
            return f"label {self.label}"
        if self.kind == "code":
            cont = self.continuous(v.reshape(1, -1))[0] if v is not None else self.codes[1]
            return f"codes {self.codes[0].tolist()} / {[round(x, 3) for x in cont.tolist()]}"
        return "unconditional"

    # ----- the optimised vector v = [z, continuous codes] ------------------------------------------
    def split(self, v: Tensor) -> tuple[Tensor, Tensor | None]:
        """v (B, dim) or (B, latent_dim) -> (z (B, latent_dim), its continuous codes (B, C) or None: the fixed ones)."""
        if v.shape[-1] == self.latent_dim:
            return v, None
        if v.shape[-1] != self.dim:
            raise ValueError(f"latent vectors have {self.latent_dim} (z) or {self.dim} (z + optimised codes) "
                             f"coordinates, got {v.shape[-1]}.")
        return v[..., :self.latent_dim], v[..., self.latent_dim:]

    def continuous(self, v: Tensor) -> Tensor:
        """InfoGAN's continuous codes G reads for each v (B, C): v's tail when optimised, else the fixed codes."""
        if self.kind != "code":
            raise ValueError(f"{type(self.model).__name__} has no InfoGAN codes.")
        cont = self.split(v)[1]
        return self.codes[1].expand(len(v), -1) if cont is None else cont

    def extend(self, z: Tensor, continuous: Tensor | None = None) -> Tensor:
        """z (B, latent_dim) -> v (B, dim): ``continuous`` (C,) or (B, C) (default: the fixed codes) appended when the
        codes are optimised; v unchanged when it already has dim coordinates."""
        if z.shape[-1] == self.dim:
            return z
        self.split(z)  # checks the size
        cont = self.codes[1] if continuous is None else continuous.to(z.device, z.dtype)
        return torch.cat([z, cont.expand(len(z), -1).to(z.device, z.dtype)], dim=1)

    def with_continuous(self, v: Tensor, continuous: Sequence[float] | Tensor) -> Tensor:
        """v with its continuous codes replaced by ``continuous`` (C,) (clipped into their box)."""
        cont = torch.as_tensor(continuous, dtype=v.dtype).to(v.device).reshape(-1)
        if cont.numel() != self.code_dim:
            raise ValueError(f"continuous codes: {self.code_dim} value(s) expected, got {cont.numel()}.")
        z = self.split(v)[0]
        return self.clip(torch.cat([z, cont.expand(len(v), -1)], dim=1))

    # ----- G -----------------------------------------------------------------------------------
    def __call__(self, z: Tensor) -> Tensor:
        """G(z, conditions): (B, latent_dim) or (B, dim) -> (B, C, H, W) in [-1, 1]; differentiable in z (and in
        the optimised codes)."""
        n = len(z)
        if self.kind == "label":
            return self.model.generator(z, torch.full((n,), self.label, dtype=torch.long, device=z.device))
        if self.kind == "code":
            from lit_gans.models.infogan import Codes

            z, cont = self.split(z)
            cat = self.codes[0].expand(n, -1)
            cont = self.codes[1].expand(n, -1) if cont is None else cont
            return self.model.generator(self.model.generator_input(z, Codes(cat, cont)))
        return self.model.generator(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """v ~ the model's prior (n, dim): z, and the optimised continuous codes ~ Unif(−r, r) as in training."""
        z = self.model.sample_latent(n, generator=generator)
        if not self.code_dim:
            return z
        cont = (torch.rand(n, self.code_dim, generator=generator) * 2 - 1) * self.code_bound
        return torch.cat([z, cont.to(z.device, z.dtype)], dim=1)

    # ----- the box parameterisation ------------------------------------------------------------
    def box(self, like: Tensor) -> Tensor:
        """Each coordinate's bound b for vectors like ``like`` (..., latent_dim or dim): z's, then the codes'."""
        b = torch.full((like.shape[-1],), self.bound, device=like.device, dtype=like.dtype)
        b[self.latent_dim:] = self.code_bound
        return b

    def from_param(self, w: Tensor) -> Tensor:
        """z = b·tanh(w / b), inside [-b, b]^d for any w."""
        b = self.box(w)
        return b * torch.tanh(w / b)

    def to_param(self, z: Tensor) -> Tensor:
        """The w with from_param(w) = z, z first clipped to ±0.99·b (the authors' clip)."""
        b = self.box(z)
        return b * torch.atanh((z / b).clamp(-INSIDE, INSIDE))

    def clip(self, z: Tensor) -> Tensor:
        b = INSIDE * self.box(z)
        return torch.maximum(torch.minimum(z, b), -b)

    def interpolate(self, z0: Tensor, z1: Tensor, steps: int) -> Tensor:
        """Latents from z0 to z1 (B, d) -> (B, steps, d): a straight line for a uniform prior (it stays in the
        box), slerp for a Gaussian one (`lit_gans.sampling.slerp`: typical norms along the path); optimised codes
        (a uniform prior) along a straight line."""
        t = torch.linspace(0, 1, steps, device=z0.device)
        (a, ca), (b, cb) = self.split(z0), self.split(z1)
        path = slerp(a, b, t) if self.prior == "normal" else a[:, None] + t[None, :, None] * (b - a)[:, None]
        if ca is None:
            return path
        return torch.cat([path, ca[:, None] + t[None, :, None] * (cb - ca)[:, None]], dim=2)

    # ----- inputs ------------------------------------------------------------------------------
    def check_images(self, x: Tensor, what: str = "image") -> Tensor:
        """x (B, C, H, W) in [-1, 1] of G's shape, on G's device; a clear error naming the fix otherwise."""
        if x.dim() == 3:
            x = x[None]
        c, h, w = self.image_shape
        if x.dim() != 4 or tuple(x.shape[1:]) != (c, h, w):
            raise ValueError(f"The {what} has shape {tuple(x.shape[1:]) if x.dim() == 4 else tuple(x.shape)} but this "
                             f"generator makes {c}x{h}x{w} images ({'grey' if c == 1 else f'{c}-channel'}); resize / "
                             f"convert it first (project.py: resize=true).")
        if x.min() < -1.001 or x.max() > 1.001:
            raise ValueError(f"The {what} has values in [{float(x.min()):.3g}, {float(x.max()):.3g}]; images are in "
                             "[-1, 1] as G makes them (x / 127.5 - 1 for 8-bit pixels).")
        return x.to(self.device, torch.float32)
