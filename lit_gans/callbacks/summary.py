"""One picture of a run, written at its end: ``<run>/summary.png`` and, for 1-D / 2-D data, ``<run>/scatter_strip.png``.

``summary.png``: the two losses in one panel, every other logged training scalar and every validation metric in
panels of their own, and the last sample grid of `SampleGrid` beside them. ``scatter_strip.png``: the fixed-noise
samples `SampleGrid` drew over training (up to ``strip_panels`` of them, evenly spaced, the last one included)
over the real data: how the generator spread over the modes, at a glance.

The callback records the scalars itself from ``trainer.callback_metrics`` (every ``every_n_batches`` training
batches, and at the end of every validation), so it works with any logger or none. Rank 0 only; matplotlib's Agg
canvas, no display needed. A run that fails (e.g. a diverged loss) still writes its summary.
"""

import logging
import math
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from lit_gans.callbacks.samples import SampleGrid, draw_points, real_points

log = logging.getLogger(__name__)
LOSSES = ("train/d_loss", "train/g_loss")  # drawn together: the game at a glance


class RunSummary(L.Callback):
    """Args:
        every_n_batches: record the training scalars every N batches (default: ``trainer.log_every_n_steps``,
            what the loggers see).
        val_prefix: keys recorded at the end of validation (the rest are recorded during training).
        strip_panels: at most this many scatter plots in the strip.
        filename, strip_filename: written in ``trainer.default_root_dir`` (the run folder).
    """

    def __init__(self, every_n_batches: int | None = None, val_prefix: str = "val/", strip_panels: int = 8,
                 filename: str = "summary.png", strip_filename: str = "scatter_strip.png") -> None:
        if every_n_batches is not None and every_n_batches < 1:
            raise ValueError(f"every_n_batches must be >= 1 or null, got {every_n_batches}")
        if strip_panels < 1:
            raise ValueError(f"strip_panels must be >= 1, got {strip_panels}")
        self.every_n_batches, self.val_prefix, self.strip_panels = every_n_batches, val_prefix, strip_panels
        self.filename, self.strip_filename = filename, strip_filename
        self.history: dict[str, list[tuple[int, float]]] = {}  # key -> [(global step, value)]
        self.strip_steps: list[int] = []  # the SampleGrid steps the last strip shows
        self.written: list[Path] = []

    # ----- recording ----------------------------------------------------------------------------------
    def record(self, trainer: L.Trainer, validation: bool) -> None:
        """Append the current scalar ``callback_metrics``: the validation keys or the others."""
        for key, value in trainer.callback_metrics.items():
            if key.startswith(self.val_prefix) != validation or not torch.is_tensor(value) or value.numel() != 1:
                continue
            self.history.setdefault(key, []).append((trainer.global_step, float(value)))

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        every = self.every_n_batches or trainer.log_every_n_steps
        if trainer.is_global_zero and (batch_idx + 1) % every == 0:
            self.record(trainer, validation=False)

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        if trainer.is_global_zero and not trainer.sanity_checking:
            self.record(trainer, validation=True)

    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """key -> (steps, values), the data the plots are drawn from (non-finite values as NaN: gaps)."""
        out = {}
        for key, points in self.history.items():
            steps, values = (np.array(v, dtype=np.float64) for v in zip(*points))
            out[key] = (steps, np.where(np.isfinite(values), values, np.nan))
        return out

    def panels(self) -> list[tuple[str, list[str]]]:
        """(title, keys) of each curve panel: the losses together, then one panel per other key."""
        keys = list(self.history)
        losses = [k for k in LOSSES if k in keys]
        rest = sorted(k for k in keys if k not in losses and not k.startswith(self.val_prefix))
        val = sorted(k for k in keys if k.startswith(self.val_prefix))
        return ([("losses", losses)] if losses else []) + [(k, [k]) for k in rest + val]

    # ----- writing ------------------------------------------------------------------------------------
    def on_fit_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self.write(trainer)  # after every on_train_end: SampleGrid's final render exists

    def on_exception(self, trainer: L.Trainer, pl_module: Any, exception: BaseException) -> None:
        try:  # a diverged run is when the curves matter most
            self.write(trainer)
        except Exception as err:  # noqa: BLE001 - never mask the original error
            log.warning("RunSummary could not write the summary of the failed run: %s", err)

    def write(self, trainer: L.Trainer) -> list[Path]:
        """Write summary.png (and scatter_strip.png when there are 1-D / 2-D samples); rank 0 only."""
        if not trainer.is_global_zero:
            return []
        out_dir = Path(trainer.default_root_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        samples = next((c for c in trainer.callbacks if isinstance(c, SampleGrid)), None)
        written = [self._write_summary(out_dir / self.filename, samples)]
        if samples is not None and samples.points:
            written.append(self._write_strip(out_dir / self.strip_filename, samples, real_points(trainer)))
        self.written = written
        log.info("Run summary: %s", ", ".join(str(p) for p in written))
        return written

    def _write_summary(self, path: Path, samples: SampleGrid | None) -> Path:
        from matplotlib.figure import Figure  # the Agg canvas, without touching pyplot's global backend

        panels, curves = self.panels(), self.curves()
        image = _last_image(samples)
        cols = 3
        rows = max(1, math.ceil(len(panels) / cols))
        width = cols + (2 if image is not None else 0)  # the sample picture takes a 2-column square
        fig = Figure(figsize=(3.2 * width, max(2.6 * rows, 6.0 if image is not None else 0)), dpi=100)
        # fixed margins: tight_layout would render the figure twice (seconds for a dozen panels)
        grid = fig.add_gridspec(rows, width, left=0.04, right=0.99, bottom=0.08, top=0.95, wspace=0.3, hspace=0.45)
        for i, (title, keys) in enumerate(panels):
            ax = fig.add_subplot(grid[i // cols, i % cols])
            for key in keys:
                steps, values = curves[key]
                ax.plot(steps, values, marker="." if len(steps) < 20 else None, lw=1, label=key.split("/")[-1])
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=7)
            if all(np.isnan(curves[key][1]).all() for key in keys):
                ax.text(0.5, 0.5, "no finite value", ha="center", va="center", transform=ax.transAxes, fontsize=8)
            if len(keys) > 1:
                ax.legend(fontsize=7)
        if not panels:
            ax = fig.add_subplot(grid[0, 0])
            ax.text(0.5, 0.5, "nothing logged yet", ha="center", va="center")
            ax.set_axis_off()
        if image is not None:
            ax = fig.add_subplot(grid[:, cols:])
            ax.imshow(image)
            ax.set_title(f"samples ({samples.saved[-1].stem})", fontsize=9)
            ax.set_axis_off()
        fig.supxlabel("global step (optimizer steps of D and G)", fontsize=8)
        fig.savefig(path)
        return path

    def _write_strip(self, path: Path, samples: SampleGrid, real: torch.Tensor | None) -> Path:
        from matplotlib.figure import Figure

        chosen = np.unique(np.linspace(0, len(samples.points) - 1, min(self.strip_panels, len(samples.points))).round())
        frames = [samples.points[int(i)] for i in chosen]
        self.strip_steps = [step for step, _ in frames]
        fig = Figure(figsize=(2.6 * len(frames), 2.8), dpi=100)
        axes = np.atleast_1d(fig.subplots(1, len(frames), sharex=True, sharey=frames[0][1].shape[1] == 2))
        for ax, (step, fake) in zip(axes, frames):
            draw_points(ax, fake, real)
            ax.set_title(f"step {step}", fontsize=9)
            ax.tick_params(labelsize=7)
        axes[-1].legend(loc="upper right", fontsize=6)
        fig.subplots_adjust(left=0.04, right=0.99, bottom=0.1, top=0.88, wspace=0.15)
        fig.savefig(path)
        return path

    # ----- resume -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = {k: list(v) for k, v in state_dict.get("history", {}).items()}


def _last_image(samples: SampleGrid | None) -> np.ndarray | None:
    """The newest sample picture SampleGrid wrote (an image grid or a scatter plot), as an array."""
    if samples is None or not samples.saved or not samples.saved[-1].is_file():
        return None
    from PIL import Image

    with Image.open(samples.saved[-1]) as image:
        return np.asarray(image.convert("RGB"))
