"""The state of one interactive iGAN session, as plain Python (no web framework): what the web app (`app.py`,
`lit_gans.manipulation.webapp`) calls per browser event, and what its fast tests call directly.

A session holds the start z0 (a prior draw or a projected photo), the `Editor` around it, the constraints the user
has finished drawing, and the candidate the user picked. While a stroke is drawn the front end sends its points
again and again (``phase="move"``): the stroke in progress replaces the previous version of itself and the editor
runs `live_iterations` Adam steps (the live preview, Zhu et al. 2016 Section 5: "updates while drawing"). When the
stroke ends (``phase="end"``) it joins the finished constraints and the full candidate search runs (the settings'
25 iterations over 32 candidates). Every call returns a `View`: the shown image, the ranked candidates, and the
interpolation G(z0) -> G(z_picked) the slider walks along.

Coordinates are pixels of G's image, (row, col) floats; colours are in [-1, 1] per channel.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from lit_gans.manipulation.editing import (
    ColorStroke,
    Constraint,
    Editor,
    EditResult,
    EditSettings,
    brush,
    drag,
    sketch_stroke,
)
from lit_gans.manipulation.latent import LatentSpace
from lit_gans.manipulation.projection import ProjectionEncoder, project

TOOLS = ("color", "sketch", "warp")
PHASES = ("move", "end")


@dataclass
class View:
    """What the page shows after an event: images (C, H, W) in [-1, 1] on the CPU."""

    image: Tensor  # the picked candidate (the best after each edit)
    start: Tensor  # G(z0)
    candidates: Tensor  # (K, C, H, W) best first
    energy: list[float]
    frames: Tensor  # (steps, C, H, W) G along z0 -> z_picked
    picked: int = 0
    seconds: float = 0.0
    constraints: int = 0
    condition: str = ""
    photo: Tensor | None = None  # the uploaded photo, when the start is its projection
    info: dict[str, Any] = field(default_factory=dict)
    continuous: list[float] | None = None  # InfoGAN: the shown image's continuous codes (optimised or fixed)


class Session:
    """One user's editing session on a `LatentSpace` (thread-safe: one event at a time).

    Args:
        space: G with its conditions (label / InfoGAN codes), from a checkpoint.
        settings: the editor's (the authors' 32 candidates, 25 Adam iterations, the best 16 kept).
        live_iterations: Adam steps per "move" event (1: the cheapest live preview).
        frames: interpolation frames for the slider.
        encoder: P for "hybrid" projection of uploads (None: "optimize", L-BFGS from `restarts` prior draws).
        features, feature_weight: the feature term of the projection loss (`features.feature_network`).
        projection_steps, restarts: L-BFGS iterations and starts for uploads (the authors: 200 from P(x)).
    """

    def __init__(self, space: LatentSpace, settings: EditSettings | None = None, live_iterations: int = 1,
                 frames: int = 9, encoder: ProjectionEncoder | None = None, features: torch.nn.Module | None = None,
                 feature_weight: float = 0.1, projection_steps: int = 100, restarts: int = 4, seed: int = 0) -> None:
        self.space, self.settings = space, settings or EditSettings()
        self.live_iterations, self.n_frames, self.encoder = live_iterations, frames, encoder
        self.projection_steps, self.restarts = projection_steps, restarts
        self.features, self.feature_weight = features, (feature_weight if features is not None else 0.0)
        self.lock = threading.Lock()
        self.rng = torch.Generator().manual_seed(seed)
        self.seed = seed
        self.photo: Tensor | None = None
        first = space.sample(1, generator=self.rng)
        self.start(space.extend(space.split(first)[0]) if space.optimize_codes else first)  # the codes= given, if any

    # ----- state -----------------------------------------------------------------------------------
    def start(self, z0: Tensor) -> None:
        """A new edit from z0: no constraints, candidates around z0, z0 itself shown."""
        self.editor = Editor(self.space, z0.detach(), self.settings, seed=self.seed)
        self.done: list[Constraint] = []
        self.drawing: Constraint | None = None
        self.warp_reference: Tensor | None = None
        self.result = self._rank(0)

    def _rank(self, iterations: int) -> EditResult:
        self.editor.constraints = self.done + ([self.drawing] if self.drawing is not None else [])
        result = self.editor.step(iterations)
        self.picked = 0
        return result

    @torch.no_grad()
    def view(self) -> View:
        r, k = self.result, self.picked
        z1 = r.z[k]
        frames = self.editor.interpolation(z1, self.n_frames).cpu()
        continuous = self.space.continuous(z1[None])[0].tolist() if self.space.kind == "code" else None
        return View(image=r.images[k].cpu(), start=self.space(self.editor.z0)[0].cpu(), candidates=r.images.cpu(),
                    energy=[float(e) for e in r.energy], frames=frames, picked=k, seconds=r.seconds,
                    constraints=len(self.done), condition=self.space.describe(z1), photo=self.photo,
                    continuous=continuous)

    # ----- events ----------------------------------------------------------------------------------
    def constraint(self, tool: str, points: Sequence[Sequence[float]], color: Sequence[float] | None = None,
                   radius: float = 1.5) -> Constraint:
        """The constraint of a stroke drawn with ``tool`` through ``points`` ((row, col) pixels)."""
        if tool not in TOOLS:
            raise ValueError(f"tool must be one of {TOOLS}, got {tool!r}.")
        pts = [(float(p[0]), float(p[1])) for p in points]
        if not pts:
            raise ValueError("a stroke needs at least one point (row, col).")
        c, h, w = self.space.image_shape
        if tool == "color":
            rgb = torch.as_tensor(list(color if color is not None else [1.0] * c), dtype=torch.float32)
            if rgb.numel() == 3 and c == 1:
                rgb = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]).reshape(1)  # grey images: the luma
            if rgb.numel() != c:
                raise ValueError(f"color needs {c} value(s) in [-1, 1] (or 3 for RGB, converted to grey), got {rgb.numel()}.")
            return ColorStroke(brush((h, w), pts, radius), rgb.clamp(-1, 1).to(self.space.device))
        if tool == "sketch":
            return sketch_stroke((c, h, w), pts, radius=max(radius - 0.5, 0.5))
        if self.warp_reference is None:  # the image when the drag began
            self.warp_reference = self.result.images[self.picked].detach().clone()
        (r0, c0), (r1, c1) = pts[0], pts[-1]
        return drag(self.warp_reference, (round(r0), round(c0)), (round(r1), round(c1)), radius=max(int(radius * 2), 1))

    def stroke(self, tool: str, points: Sequence[Sequence[float]], phase: str = "end",
               color: Sequence[float] | None = None, radius: float = 1.5) -> View:
        """A stroke (all its points so far). ``phase="move"``: the live preview (`live_iterations` Adam steps with
        the stroke in progress); ``"end"``: the stroke is kept and the full search runs."""
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}.")
        with self.lock:
            self.drawing = self.constraint(tool, points, color, radius)
            if phase == "move":
                self.result = self._rank(self.live_iterations)
            else:
                self.done.append(self.drawing)
                self.drawing, self.warp_reference = None, None
                self.result = self._rank(self.settings.iterations)
            return self.view()

    def pick(self, index: int) -> View:
        """Show candidate ``index`` (0 = best); the next stroke edits from the candidates as they are."""
        with self.lock:
            if not 0 <= index < len(self.result.z):
                raise ValueError(f"candidate must be in 0..{len(self.result.z) - 1}, got {index}.")
            self.picked = int(index)
            return self.view()

    def commit(self) -> View:
        """Make the shown image the new start (z0 := the picked z, constraints cleared)."""
        with self.lock:
            self.start(self.result.z[self.picked][None])
            return self.view()

    def undo(self) -> View:
        """Drop the last finished constraint and search again from the current candidates."""
        with self.lock:
            if self.done:
                self.done.pop()
            self.result = self._rank(self.settings.iterations if self.done else 0)
            return self.view()

    def restart(self) -> View:
        """Back to G(z0): constraints cleared, candidates re-drawn around z0."""
        with self.lock:
            self.start(self.editor.z0)
            return self.view()

    def random(self) -> View:
        """A new start z0 from the prior."""
        with self.lock:
            self.photo = None
            self.start(self.space.sample(1, generator=self.rng))
            return self.view()

    def set_condition(self, label: int | None = None, categorical: Sequence[int] | None = None,
                      continuous: Sequence[float] | None = None) -> View:
        """A cGAN's class or InfoGAN's codes: G changes, z0 and the constraints stay; candidates re-ranked. With
        optimised codes the continuous values set are those of z0 and of the shown image (the search starts there
        and λ_s holds it there; they are clipped into the prior's box)."""
        with self.lock:
            current = self.result.z[self.picked][None]
            if self.space.kind == "label":
                if label is None:
                    raise ValueError("this checkpoint is class-conditional: pass label.")
                self.space.with_label(int(label))
            elif self.space.kind == "code":
                cat, cont = self.space.codes
                self.space.with_codes((list(categorical) if categorical is not None else cat.tolist(),
                                       list(continuous) if continuous is not None else cont.tolist()))
                if self.space.optimize_codes and continuous is not None:
                    current = self.space.with_continuous(current, continuous)
                    self.editor.z0 = self.space.with_continuous(self.editor.z0, continuous)
            else:
                raise ValueError("this checkpoint is unconditional: it has no class or codes to set.")
            self.editor.reset(current)
            self.result = self._rank(self.settings.iterations if self.done else 0)
            return self.view()

    def upload(self, photo: Tensor) -> View:
        """Project a photo (C, H, W) in [-1, 1] of G's shape onto the manifold and start editing from it."""
        with self.lock:
            x = self.space.check_images(photo, "uploaded photo")
            method = "hybrid" if self.encoder is not None else "optimize"
            result = project(self.space, x, method, self.encoder, steps=self.projection_steps, restarts=self.restarts,
                             features=self.features, feature_weight=self.feature_weight, generator=torch.Generator().manual_seed(self.seed))
            self.photo = x[0].cpu()
            self.start(result.z)
            view = self.view()
            view.info = {"mse": float(result.mse[0]), "method": method, "seconds": result.seconds}
            return view

    def describe(self) -> dict[str, Any]:
        """What the page needs to build its controls."""
        s = self.space
        out: dict[str, Any] = {"image_shape": list(s.image_shape), "kind": s.kind or "unconditional",
                               "model": type(s.model).__name__, "candidates": self.settings.keep,
                               "iterations": self.settings.iterations, "frames": self.n_frames}
        if s.kind == "label":
            out.update(num_classes=s.num_classes, label=s.label)
        if s.kind == "code":
            out.update(categories=list(s.model.categories), categorical=s.codes[0].tolist(),
                       continuous=self.space.continuous(self.result.z[self.picked][None])[0].tolist(),
                       optimize_codes=s.optimize_codes, code_range=float(s.model.hparams.continuous_range))
        return out
