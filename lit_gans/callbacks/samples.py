"""Fixed-noise samples over training: an image grid, or a scatter plot for toy data."""

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from torch import Tensor
from torchvision.utils import make_grid, save_image

from lit_gans.callbacks.ema import ema_weights
from lit_gans.encoding import reconstruction_grid, split_batches, split_dataset


class SampleGrid(L.Callback):
    """Every ``every_n_batches`` training batches (and at the end of training) draw G(z) for
    the same fixed z, save it as ``<run>/samples/step_<global_step>.png`` and send it to
    TensorBoard / W&B when those loggers are active.

    Images become a ``make_grid`` PNG; 1-D and 2-D samples become a matplotlib plot over real
    data (histogram or scatter), the view of the Unrolled GAN paper's Figure 1. Those low-dimensional
    samples are also kept in ``points`` as (global step, (N, D) tensor), saved in checkpoints, for
    `RunSummary`'s strip of plots over training. With a `GeneratorEMA` callback in the run, the
    generator's moving average draws the samples.

    Models with an encoder (``has_encoder``: BiGAN, ALI, ...) on image data also get a reconstruction grid beside
    each sample grid, ``reconstruction_step_<global_step>.png``: the first ``num_reconstructions`` test images in
    rows of 8, each row followed by its reconstructions G(E(x)) (the live G and E, not the EMA: they are a pair).
    """

    def __init__(self, every_n_batches: int = 500, num_samples: int = 64, seed: int = 0, dirname: str = "samples",
                 num_reconstructions: int = 32) -> None:
        self.every_n_batches, self.num_samples, self.seed, self.dirname = every_n_batches, num_samples, seed, dirname
        self.num_reconstructions = num_reconstructions
        self._z: Tensor | None = None
        self._real: Tensor | None = None  # the fixed real images of the reconstruction grids
        self.reconstructions: list[Path] = []
        self.saved: list[Path] = []
        self.points: list[tuple[int, Tensor]] = []  # (global step, (N, D) samples) of 1-D / 2-D data

    def fixed_latent(self, pl_module: Any) -> Tensor:
        if self._z is None:  # seeded, independent of the global RNG so training is unaffected
            gen = torch.Generator().manual_seed(self.seed)
            self._z = pl_module.sample_latent(self.num_samples, generator=gen).cpu()
        return self._z.to(pl_module.device)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.every_n_batches > 0 and (batch_idx + 1) % self.every_n_batches == 0:
            self.render(trainer, pl_module, batch)

    def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self.render(trainer, pl_module, None)

    @torch.no_grad()
    def render(self, trainer: L.Trainer, pl_module: Any, batch: Any) -> Path | None:
        if not trainer.is_global_zero:  # only rank 0 writes; G's eval-mode forward makes no collective call
            return None
        was_training = pl_module.generator.training
        pl_module.generator.eval()  # BatchNorm uses running statistics; sampling must not move them
        with ema_weights(trainer, pl_module):  # the generator average when the run keeps one
            if hasattr(pl_module, "sample_grid"):  # the variant's own layout (InfoGAN traversals, class rows)
                fake, nrow = pl_module.sample_grid(self.seed)
            else:
                fake = pl_module.generator(self.fixed_latent(pl_module))
                nrow = int(len(fake) ** 0.5)
        fake = fake.float().cpu()
        pl_module.generator.train(was_training)
        out_dir = Path(trainer.default_root_dir) / self.dirname
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"step_{trainer.global_step:07d}.png"
        if fake.dim() == 4:  # (N, C, H, W) in [-1, 1]
            grid = make_grid(fake, nrow=nrow, normalize=True, value_range=(-1, 1))
            save_image(grid, path)
        else:
            real = real_points(trainer, batch)
            _plot_points(fake.flatten(1), real, path, title=f"step {trainer.global_step}")
            if not self.points or self.points[-1][0] != trainer.global_step:  # the end-of-training render repeats a step
                self.points.append((trainer.global_step, fake.flatten(1)))
            grid = None
        self.saved.append(path)
        self._send_to_loggers(trainer, path, grid)
        if fake.dim() == 4 and getattr(pl_module, "has_encoder", False) and self.num_reconstructions > 0:
            self.render_reconstructions(trainer, pl_module, out_dir)
        return path

    def render_reconstructions(self, trainer: L.Trainer, pl_module: Any, out_dir: Path) -> Path | None:
        """x above G(E(x)) for the fixed real images; ``reconstruction_step_<global_step>.png``."""
        if self._real is None:
            datamodule = trainer.datamodule
            if datamodule is None or not (hasattr(datamodule, "dataset") or hasattr(datamodule, "val_set")):
                return None
            x, _ = next(split_batches(split_dataset(datamodule, "test"), self.num_reconstructions, self.num_reconstructions))
            self._real = x.float().cpu()
        per_row = 8
        grid = make_grid(reconstruction_grid(pl_module, self._real, per_row).float(), nrow=min(per_row, len(self._real)),
                         normalize=True, value_range=(-1, 1))
        path = out_dir / f"reconstruction_step_{trainer.global_step:07d}.png"
        save_image(grid, path)
        self.reconstructions.append(path)
        self._send_to_loggers(trainer, path, grid, key="reconstructions")
        return path

    def _send_to_loggers(self, trainer: L.Trainer, path: Path, grid: Tensor | None, key: str = "samples") -> None:
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(key=key, images=[str(path)], step=trainer.global_step)
            elif isinstance(logger, TensorBoardLogger):
                if grid is None:
                    from PIL import Image
                    from torchvision.transforms.functional import pil_to_tensor

                    grid = pil_to_tensor(Image.open(path).convert("RGB"))
                logger.experiment.add_image(key, grid, global_step=trainer.global_step)

    def state_dict(self) -> dict[str, Any]:
        return {"z": self._z, "points": self.points}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._z = state_dict.get("z")
        self.points = list(state_dict.get("points", []))


def real_points(trainer: L.Trainer, batch: Any = None) -> Tensor | None:
    """(N, D) real points to draw behind the samples: 2000 from the datamodule's distribution if it has one
    (seeded: the same in every plot), else the batch."""
    dist = getattr(trainer.datamodule, "distribution", None) if trainer.datamodule is not None else None
    if dist is not None:
        x = dist.sample(2000, torch.Generator().manual_seed(0))
        return (x[0] if isinstance(x, tuple) else x).float().cpu().flatten(1)
    if batch is not None:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        return x.float().cpu().flatten(1)
    return None


def draw_points(ax: Any, fake: Tensor, real: Tensor | None) -> None:
    """(N, 1) samples as histograms, (N, 2) as a scatter plot, over the real data when given."""
    if fake.shape[1] == 1:
        bins = 60
        if real is not None:
            ax.hist(real[:, 0].numpy(), bins=bins, density=True, alpha=0.5, label="real")
        ax.hist(fake[:, 0].numpy(), bins=bins, density=True, alpha=0.5, label="generated")
    else:
        if real is not None:
            ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:blue", alpha=0.3, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:orange", label="generated")
        ax.set_aspect("equal")


def _plot_points(fake: Tensor, real: Tensor | None, path: Path, title: str) -> None:
    from matplotlib.figure import Figure  # the Agg canvas, without touching pyplot's global backend

    fig = Figure(figsize=(4, 4), dpi=100)
    ax = fig.subplots()
    draw_points(ax, fake, real)
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(title)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.08, top=0.92)  # fixed: tight_layout renders twice
    fig.savefig(path)
