"""Plumbing shared by the WGAN-paper MNIST benchmarks (wgan_meaningful_loss.py, wgan_architectures.py,
wgan_optimizer.py, wgan_clipping.py; mode_collapse.py uses its composition and output folder): compose an experiment config as ``python train.py experiment=...``
would, train it through ``lit_gans.training.train`` and read back what it logged.

Not a test: nothing here asserts. Outputs go under ``benchmarks/out/`` (which ignores itself in git).
"""

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from hydra.core.global_hydra import GlobalHydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig, open_dict  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"

from lit_gans.analysis import read_metrics_csv  # noqa: E402
from lit_gans.training import train  # noqa: E402

# what a benchmark run never needs: checkpoints and the live progress bar
QUIET = ["~callbacks.model_checkpoint", "~callbacks.progress_bar", "logger=csv", "trainer.enable_checkpointing=false"]


@dataclass
class Run:
    """One finished training run (``objects`` only when trained in this process, not when loaded)."""

    name: str
    dir: Path
    seconds: float
    n_critic: int
    metrics: dict[str, float]  # the last logged values
    logs: dict[str, tuple[np.ndarray, np.ndarray]]  # key -> (batch index, values), from csv/metrics.csv
    objects: dict[str, Any] = field(default_factory=dict)  # model, trainer, datamodule

    def curve(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(generator iterations, values) of a logged key. The csv's step is Lightning's batch index (0-based,
        across epochs), and the skeleton takes one generator step every n_critic batches."""
        steps, values = self.logs[key]
        return (steps + 1) / self.n_critic, values

    def callback(self, cls: type) -> Any:
        return next(c for c in self.objects["trainer"].callbacks if isinstance(c, cls))


def out_dir(name: str) -> Path:
    """``benchmarks/out/<name>``, created; ``benchmarks/out`` holds a ``.gitignore`` of ``*``."""
    OUT.mkdir(parents=True, exist_ok=True)
    ignore = OUT / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# benchmark outputs: figures, numbers and run folders\n*\n")
    path = OUT / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def compose_experiment(experiment: str, overrides: list[str], run_dir: Path, quiet: list[str] = QUIET) -> DictConfig:
    """The train config of ``python train.py experiment=<experiment> <quiet> <overrides>`` with its run folder at
    ``run_dir``; ``quiet`` switches off what the benchmark does not need (default: checkpoints, progress bar)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}", *quiet, *overrides], return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
        cfg.trainer.enable_progress_bar = False
        cfg.trainer.enable_model_summary = False
    HydraConfig().set_config(cfg)
    return cfg


def run_experiment(name: str, experiment: str, overrides: list[str], out: Path) -> Run:
    """Train ``experiment`` with ``overrides`` in ``out/<name>`` (a fresh folder: old logs would mix in)."""
    run_dir = out / name
    csv = run_dir / "csv" / "metrics.csv"
    if csv.exists():
        csv.unlink()
    for png in (run_dir / "samples").glob("*.png"):
        png.unlink()
    cfg = compose_experiment(experiment, overrides, run_dir)
    print(f"[{name}] python train.py experiment={experiment} {' '.join(overrides)}", flush=True)
    start = time.perf_counter()
    metrics, objects = train(cfg)
    seconds = time.perf_counter() - start
    info = {"experiment": experiment, "overrides": overrides, "seconds": seconds, "n_critic": int(cfg.model.n_critic),
            "metrics": metrics}
    (run_dir / "run.json").write_text(json.dumps(info, indent=1))
    print(f"[{name}] {seconds:.0f} s", flush=True)
    return Run(name, run_dir, seconds, info["n_critic"], metrics, read_metrics_csv(run_dir) if csv.exists() else {}, objects)


def load_run(name: str, out: Path) -> Run:
    """A run trained earlier by `run_experiment` into ``out/<name>``, read back from its folder (to re-analyse)."""
    run_dir = out / name
    info = json.loads((run_dir / "run.json").read_text())
    return Run(name, run_dir, info["seconds"], info["n_critic"], info["metrics"], read_metrics_csv(run_dir))


def sample_grids(run: Run) -> list[tuple[float, Path]]:
    """The run's saved sample grids as (generator iterations, path), in training order. A grid's file name is
    the optimizer step count (n_critic + 1 per generator iteration)."""
    grids = sorted((run.dir / "samples").glob("step_*.png"))
    return [(int(p.stem.split("_")[1]) / (run.n_critic + 1), p) for p in grids]


def pick(items: list[Any], k: int) -> list[Any]:
    """k items spread evenly over ``items``, the last one included."""
    if len(items) <= k:
        return items
    return [items[round(i)] for i in np.linspace(0, len(items) - 1, k)]


def show_grids(fig: plt.Figure, spec: Any, grids: list[tuple[float, Path]], k: int = 4) -> None:
    """Up to k sample grids side by side in a gridspec cell, titled by generator iteration."""
    chosen = pick(grids, k)
    cells = spec.subgridspec(1, k, wspace=0.05)
    for i in range(k):
        ax = fig.add_subplot(cells[0, i])
        ax.axis("off")
        if i < len(chosen):
            it, path = chosen[i]
            ax.imshow(plt.imread(path), cmap="gray")
            ax.set_title(f"G iter {it:.0f}", fontsize=8)


def budget_parser(description: str, g_iters: tuple[int, int], fid_samples: tuple[int, int] = (500, 2000),
                  quick_help: str | None = None) -> argparse.ArgumentParser:
    """The arguments every WGAN-paper benchmark takes: its budget (``--quick``, ``--g-iters``, ``--fid-samples``; the
    defaults as (quick, full)), the networks' width (``--channels``, ``--paper-nets``), ``--seed`` and ``--threads``.
    Add the benchmark's own arguments, then read them with `parse_budget`."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=quick_help or f"{g_iters[0]} generator iterations per run: checks the pipeline")
    parser.add_argument("--g-iters", type=int, default=None,
                        help=f"generator iterations per run (default {g_iters[1]}; quick {g_iters[0]})")
    parser.add_argument("--channels", type=int, default=32, help="base filters of the convolutional nets (configs: 64)")
    parser.add_argument("--paper-nets", action="store_true", help="keep the configs' 64 filters")
    parser.add_argument("--fid-samples", type=int, default=None,
                        help=f"samples for FID and classes (default {fid_samples[1]}; quick {fid_samples[0]})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.budget = (g_iters, fid_samples)
    return parser


def parse_budget(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> argparse.Namespace:
    """Parse a `budget_parser`'s arguments, the unset budget taken from its (quick, full) defaults."""
    args = parser.parse_args(argv)
    (quick_g_iters, g_iters), (quick_fid_samples, fid_samples) = parser.budget
    args.g_iters = args.g_iters or (quick_g_iters if args.quick else g_iters)
    args.fid_samples = args.fid_samples or (quick_fid_samples if args.quick else fid_samples)
    return args


def width_overrides(args: argparse.Namespace, generator: bool = True) -> list[str]:
    """``--channels`` base filters for the critic (and G: ``generator=False`` for one without, the MLP) unless
    ``--paper-nets``; under ``--quick`` a smaller real sample for the FID statistics."""
    ov = []
    if not args.paper_nets:
        ov += [f"model.generator.base_channels={args.channels}"] if generator else []
        ov.append(f"model.discriminator.base_channels={args.channels}")
    if args.quick:
        ov.append("metrics.num_real=1000")
    return ov


def run_overrides(args: argparse.Namespace, n_critic: int, generator: bool = True) -> list[str]:
    """A run of ``args.g_iters`` generator iterations of ``n_critic`` critic batches each (Lightning's max_steps counts
    both optimizers' steps), evaluated once at the end on ``args.fid_samples`` samples, no sample grids; then
    `width_overrides`."""
    return [f"seed={args.seed}", "trainer.max_epochs=-1", f"trainer.max_steps={args.g_iters * (n_critic + 1)}",
            "trainer.check_val_every_n_epoch=null", f"++trainer.val_check_interval={args.g_iters * n_critic}",
            "callbacks.samples.every_n_batches=0", f"metrics.num_samples={args.fid_samples}",
            *width_overrides(args, generator)]


def write_numbers(lines: list[str], out: Path) -> None:
    """Print a benchmark's lines, then its figure's path (``out/figure.png``), and write them to ``out/numbers.txt``."""
    text = "\n".join([*lines, f"figure: {out / 'figure.png'}"])
    print("\n" + text)
    (out / "numbers.txt").write_text(text + "\n")


def set_threads(threads: int) -> None:
    """Small CPU networks: one thread each is usually fastest on a shared 2-core machine."""
    torch.set_num_threads(threads)
