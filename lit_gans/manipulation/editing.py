"""Editing on the manifold with user constraints (Zhu et al. 2016, Section 4, eq. (6)):

    z* = argmin_z Σ_g w_g E_g(G(z)) + λ_s ‖z − z0‖²

with colour strokes, sketch strokes and warps (`energies`). As in the authors' code, several candidates are
optimised at once: the current z and perturbations of it (uniform noise × 0.5, clipped into the box), each moved
by Adam (lr 0.1, β1 0.9) for 25 iterations per edit; they are ranked by their energy and the best kept.

InfoGAN: with ``LatentSpace(..., optimize_codes=True)`` the candidates are vectors [z, continuous codes], perturbed,
moved and regularised (λ_s ‖v − v0‖²) together; the codes stay in their prior's box [−r, r].

`Editor` keeps that state between calls, so an interactive front end (the web app) can run one or a few Adam
iterations per drawing event (``editor.step(1)``) and show the ranked candidates live.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from lit_gans.manipulation.energies import color_energy, latent_distance, sketch_energy, warp_energy
from lit_gans.manipulation.latent import LatentSpace


@dataclass
class ColorStroke:
    """The pixels under ``mask`` (H, W) should take ``color`` (C,) in [-1, 1] (white on MNIST: [1.0])."""

    mask: Tensor
    color: Tensor
    weight: float = 1.0

    def energy(self, images: Tensor) -> Tensor:
        return color_energy(images, self.mask, self.color)


@dataclass
class SketchStroke:
    """G(z)'s edges near the strokes should match those of ``sketch`` (C, H, W), the strokes drawn on a blank
    image; ``mask`` (H, W) is where they are compared (the strokes' neighbourhood, see `stroke_region`).
    ``weight``: the authors weigh sketches 0.2 against colour."""

    mask: Tensor
    sketch: Tensor
    weight: float = 0.2

    def energy(self, images: Tensor) -> Tensor:
        return sketch_energy(images, self.mask, self.sketch)


@dataclass
class Warp:
    """The region ``mask`` (H, W) of ``reference`` (C, H, W; the image when the drag began) moved by ``shift``
    (dy, dx) pixels: G(z) there should show the reference's source pixels."""

    mask: Tensor
    reference: Tensor
    shift: tuple[int, int]
    weight: float = 1.0

    def energy(self, images: Tensor) -> Tensor:
        return warp_energy(images, self.mask, self.reference, self.shift)


Constraint = ColorStroke | SketchStroke | Warp


def constraint_energy(images: Tensor, constraints: Sequence[Constraint]) -> Tensor:
    """Σ_g w_g E_g(images) (B,); 0 without constraints."""
    total = images.new_zeros(len(images))
    for c in constraints:
        total = total + c.weight * c.energy(images)
    return total


@dataclass
class EditSettings:
    """The authors' defaults (the authors' iGAN code): 32 candidates, Adam lr 0.1 / β1 0.9, 25 iterations per
    edit, perturbations of U(−0.5, 0.5) (× the box bound for a Gaussian prior), the best 16 kept. ``lambda_s``
    weighs the *mean* squared distance ‖z − z0‖² / d (the authors: an optional 10·‖z − z0‖² summed over 100
    dimensions, against MSEs of 64×64×3 photos). 0.1 is our choice for 28-px digits: in benchmarks/projection.py's
    sweep it meets as many constraints as λ_s = 0, while 10 leaves 3-4x more energy (docs/sections/igan.md)."""

    candidates: int = 32
    keep: int = 16
    iterations: int = 25
    lr: float = 0.1
    betas: tuple[float, float] = (0.9, 0.999)
    perturbation: float = 0.5
    lambda_s: float = 0.1


@dataclass
class EditResult:
    z: Tensor  # (K, d) the kept candidates, best first
    images: Tensor  # (K, C, H, W) G(z)
    energy: Tensor  # (K,) the constraint energy Σ_g w_g E_g
    total: Tensor  # (K,) + λ_s ‖z − z0‖² / d
    seconds: float = 0.0


class Editor:
    """One editing session from z0 (the projected photo or any z): add constraints, call `step`.

    >>> # editor = Editor(space, z0); editor.add(ColorStroke(mask, torch.tensor([1.0]))); result = editor.step(25)
    """

    def __init__(self, space: LatentSpace, z0: Tensor, settings: EditSettings | None = None, seed: int = 0) -> None:
        self.space, self.settings = space, settings or EditSettings()
        self.z0 = space.extend(z0.reshape(1, -1).to(space.device).detach())  # + the codes, when they are optimised
        self.constraints: list[Constraint] = []
        self.generator = torch.Generator().manual_seed(seed)
        self.reset(self.z0)

    def reset(self, z: Tensor | None = None) -> None:
        """New candidates around z (default: the current best): z itself and perturbations of it."""
        s = self.settings
        centre = self.space.extend((self.z0 if z is None else z.reshape(1, -1)).to(self.space.device).detach())
        noise = (torch.rand(s.candidates - 1, centre.shape[1], generator=self.generator) * 2 - 1).to(centre.device)
        starts = torch.cat([centre, self.space.clip(centre + s.perturbation * self.space.box(centre) * noise)])
        self.w = self.space.to_param(starts).clone().requires_grad_(True)
        self.optimizer = torch.optim.Adam([self.w], lr=s.lr, betas=s.betas)

    def add(self, constraint: Constraint) -> None:
        self.constraints.append(constraint)

    def clear(self) -> None:
        self.constraints.clear()

    def energies(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        images = self.space(z)
        energy = constraint_energy(images, self.constraints)
        total = energy + self.settings.lambda_s * latent_distance(z, self.z0) / z.shape[1]
        return images, energy, total

    def step(self, iterations: int | None = None) -> EditResult:
        """``iterations`` Adam steps on every candidate (default: the settings' 25), then the ranking."""
        start = time.perf_counter()
        for _ in range(self.settings.iterations if iterations is None else iterations):
            self.optimizer.zero_grad()
            _, _, total = self.energies(self.space.from_param(self.w))
            total.sum().backward()  # candidates are independent: each gets its own gradient
            self.optimizer.step()
        with torch.no_grad():
            z = self.space.from_param(self.w)
            images, energy, total = self.energies(z)
            order = total.argsort()[: self.settings.keep]
        return EditResult(z[order], images[order], energy[order], total[order], time.perf_counter() - start)

    @torch.no_grad()
    def interpolation(self, z1: Tensor, steps: int = 8) -> Tensor:
        """G along the path z0 -> z1 (steps, C, H, W): the paper's smooth transition to the edit."""
        path = self.space.interpolate(self.z0, z1.reshape(1, -1).to(self.z0.device), steps)[0]
        return self.space(path)


def edit(space: LatentSpace, z0: Tensor, constraints: Sequence[Constraint], settings: EditSettings | None = None,
         seed: int = 0) -> EditResult:
    """One whole edit (the settings' iterations) from z0 under ``constraints``: the kept candidates, best first."""
    editor = Editor(space, z0, settings, seed)
    for c in constraints:
        editor.add(c)
    return editor.step()


def stroke_region(strokes: Tensor, radius: int = 2) -> Tensor:
    """The neighbourhood of strokes (H, W) within ``radius`` pixels (a square dilation): a sketch's mask."""
    k = 2 * radius + 1
    return torch.nn.functional.max_pool2d(strokes.float()[None, None], k, stride=1, padding=radius)[0, 0]


def brush(shape: tuple[int, int], points: Sequence[tuple[float, float]], radius: float) -> Tensor:
    """A round-brush mask (H, W) along the polyline through ``points`` ((row, col) in pixels)."""
    h, w = shape
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    mask = torch.zeros(h, w)
    pts = [torch.tensor(p, dtype=torch.float32) for p in points]
    for a, b in zip(pts, pts[1:] or pts):
        d = b - a
        t = (((rows - a[0]) * d[0] + (cols - a[1]) * d[1]) / d.dot(d).clamp_min(1e-8)).clamp(0, 1)
        dist = ((rows - a[0] - t * d[0]) ** 2 + (cols - a[1] - t * d[1]) ** 2).sqrt()
        mask = torch.maximum(mask, (dist <= radius).float())
    return mask



def sketch_stroke(shape: tuple[int, int, int], points: Sequence[tuple[float, float]], radius: float = 1.0,
                  margin: int = 2, ink: float = 1.0, paper: float = -1.0, weight: float = 0.2) -> SketchStroke:
    """A pen stroke through ``points`` on a (C, H, W) canvas: the strokes in ``ink`` on ``paper`` (MNIST: white on
    black), compared within ``margin`` pixels of the stroke."""
    c, h, w = shape
    strokes = brush((h, w), points, radius)
    image = torch.where(strokes > 0, torch.tensor(ink), torch.tensor(paper)).expand(c, h, w).clone()
    return SketchStroke(stroke_region(strokes, margin), image, weight)


def drag(reference: Tensor, start: tuple[int, int], end: tuple[int, int], radius: int = 3) -> Warp:
    """A warp from a mouse drag: the square of half-side ``radius`` around ``start`` (row, col) in ``reference``
    (C, H, W) moved to ``end``."""
    h, w = reference.shape[-2:]
    mask = torch.zeros(h, w)
    r, c = int(start[0]), int(start[1])
    mask[max(r - radius, 0):r + radius + 1, max(c - radius, 0):c + radius + 1] = 1.0
    return Warp(mask, reference.detach(), (int(end[0]) - r, int(end[1]) - c))
