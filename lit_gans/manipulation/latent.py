"""The generator as a differentiable map z -> image with its conditions fixed: what projection, editing and
interpolation optimise over (Zhu et al. 2016, "Generative Visual Manipulation on the Natural Image Manifold").

Every image model of the collection fits: unconditional G(z); class-conditional G(z, y) (cGAN, AC-GAN) with the
class y fixed; InfoGAN's G(z, c) with its codes c fixed. Translation models draw no z and are refused.

Box parameterisation: the optimisers work on an unconstrained w and read z = b·tanh(w / b), so z never leaves
the box [-b, b]^d. For a uniform prior b = 1 (the authors' z = tanh(z'), which keeps z in U[-1, 1]^d's support);
for a Gaussian prior b = 3 (±3σ per coordinate, 99.7 % of the prior's mass in each direction): a plain z would
drift to norms the generator never saw in training.
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
    """

    def __init__(self, model: Any, label: int | None = None, codes: tuple[Sequence[int], Sequence[float]] | None = None) -> None:
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

    def describe(self) -> str:
        if self.kind == "label":
            return f"label {self.label}"
        if self.kind == "code":
            return f"codes {self.codes[0].tolist()} / {[round(v, 3) for v in self.codes[1].tolist()]}"
        return "unconditional"

    # ----- G -----------------------------------------------------------------------------------
    def __call__(self, z: Tensor) -> Tensor:
        """G(z, fixed conditions): (B, latent_dim) -> (B, C, H, W) in [-1, 1]; differentiable in z."""
        n = len(z)
        if self.kind == "label":
            return self.model.generator(z, torch.full((n,), self.label, dtype=torch.long, device=z.device))
        if self.kind == "code":
            from lit_gans.models.infogan import Codes

            cat, cont = self.codes
            return self.model.generator(self.model.generator_input(z, Codes(cat.expand(n, -1), cont.expand(n, -1))))
        return self.model.generator(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """z ~ the model's prior (n, latent_dim)."""
        return self.model.sample_latent(n, generator=generator)

    # ----- the box parameterisation ------------------------------------------------------------
    def from_param(self, w: Tensor) -> Tensor:
        """z = b·tanh(w / b), inside [-b, b]^d for any w."""
        return self.bound * torch.tanh(w / self.bound)

    def to_param(self, z: Tensor) -> Tensor:
        """The w with from_param(w) = z, z first clipped to ±0.99·b (the authors' clip)."""
        return self.bound * torch.atanh((z / self.bound).clamp(-INSIDE, INSIDE))

    def clip(self, z: Tensor) -> Tensor:
        return z.clamp(-INSIDE * self.bound, INSIDE * self.bound)

    def interpolate(self, z0: Tensor, z1: Tensor, steps: int) -> Tensor:
        """Latents from z0 to z1 (B, d) -> (B, steps, d): a straight line for a uniform prior (it stays in the
        box), slerp for a Gaussian one (`lit_gans.sampling.slerp`: typical norms along the path)."""
        t = torch.linspace(0, 1, steps, device=z0.device)
        if self.prior == "normal":
            return slerp(z0, z1, t)
        return z0[:, None] + t[None, :, None] * (z1 - z0)[:, None]

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
