"""Mode collapse on 2-D Gaussian mixtures: VEEGAN Table 1 / PacGAN Table 1 numbers for our models, and
the Unrolled GAN paper's Figure 1 strips (Metz et al. 2017); and on Stacked MNIST (1000 modes): VEEGAN
Table 2 / PacGAN Tables 2-3 (``--datasets stacked_mnist``, see benchmarks/stacked_mnist.py).

Usage::

    python benchmarks/mode_collapse.py                                    # ring8, every model, seed 0
    python benchmarks/mode_collapse.py --seeds 0 1 2 --datasets ring8 grid25
    python benchmarks/mode_collapse.py --steps 5000 --models gan unrolled5
    python benchmarks/mode_collapse.py --datasets stacked_mnist --models dcgan pacgan2 --steps 2000
    python benchmarks/mode_collapse.py --datasets stacked_mnist --d-size half    # PacGAN Table 3's D = ½ G
    python benchmarks/mode_collapse.py --datasets stacked_mnist --models dcgan --steps 6000 --eval-every 1000
                                         # modes / KL also at G steps 1000, 2000, ... (printed as they come)

Each (dataset, model, seed) trains one experiment config through ``lit_gans.training.train``: the
experiment ``<base>_<dataset>`` when that file exists, else ``<base>_ring8`` with ``data=<dataset>``
(bases in ``MODELS``: the plain non-saturating GAN, Unrolled GAN with K = 1 / 5 / 10 and the paper's K = 0
baseline, WGAN-GP, GAN + minibatch discrimination). ``--steps`` counts generator steps (the experiments'
own count, 25k, by default); a WGAN-GP generator step costs n_critic critic steps besides.

After training, 2,500 samples of the generator (fixed noise) are scored as in VEEGAN Section 5.1 and
PacGAN Table 1 (`lit_gans.metrics.modes.mode_coverage`, n_std and sample count from conf/metrics/modes):
modes covered (a mode counts with ≥ 1 high-quality sample, VEEGAN; "≥20" is PacGAN's rule of 20 of
2,500), % high-quality samples (within 3 std of the nearest centre) and the reverse KL of the mode
histogram. The table gives mean ± std over seeds beside the published numbers (VEEGAN Table 1, PacGAN
Table 1; kept with their sources in ``benchmarks/reference_numbers.py``). Their mixtures: PacGAN's released code uses a ring of radius 1 with
std 0.01 (ours, the Unrolled GAN paper's: radius 2, std 0.02 — the same std/radius ratio, so the same
problem up to scale) and our grid (spacing 2, std 0.05); their networks and step counts differ from ours.

Plots: ``<out>/<dataset>_<model>.png``, one row per seed, the generator's samples at evenly spaced
generator steps (0 … steps) over the mixture centres (red crosses), as in the paper's Figure 1.
Runs use 1 torch thread: these MLPs are too small for threads to pay off.
"""

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig, OmegaConf, open_dict

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # lit_gans, and the sibling wgan_common (not a package)
import stacked_mnist  # noqa: E402
from reference_numbers import MODE_COLLAPSE_2D  # noqa: E402
from wgan_common import compose_experiment, out_dir  # noqa: E402
from lit_gans.metrics.modes import ModeCoverage, mode_coverage  # noqa: E402
from lit_gans.training import train  # noqa: E402

DATASETS = ("ring8", "grid25", stacked_mnist.DATASET)
PACGAN_MIN_COUNT = 20  # PacGAN: a mode with fewer than 20 of 2,500 samples is lost


@dataclass(frozen=True)
class Model:
    label: str
    base: str  # experiment name without the _<dataset> suffix
    overrides: tuple[str, ...] = ()
    published: str = ""  # the row of PUBLISHED printed beside it ("gan", "unrolled"), if any


MODELS = {
    "gan": Model("GAN (non-saturating)", "gan", published="gan"),
    "unrolled0": Model("Unrolled K=0 (saddle)", "unrolled", ("model.unroll_steps=0",)),
    "unrolled1": Model("Unrolled GAN K=1", "unrolled", ("model.unroll_steps=1",)),
    "unrolled5": Model("Unrolled GAN K=5", "unrolled", ("model.unroll_steps=5",), published="unrolled"),
    "unrolled10": Model("Unrolled GAN K=10", "unrolled", ("model.unroll_steps=10",)),
    "wgan_gp": Model("WGAN-GP", "wgan_gp"),
    "gan_minibatch": Model("GAN + minibatch discr.", "gan_minibatch"),
}
DEFAULT_MODELS = ("gan", "unrolled1", "unrolled5", "unrolled10", "wgan_gp", "gan_minibatch")


def _published(dataset: str) -> dict[str, Any]:
    """The published modes / % high quality beside our rows (VEEGAN Table 1: 5 runs; PacGAN Table 1: 10 trials)."""
    ref = MODE_COLLAPSE_2D[dataset]

    def cell(key: str) -> str:
        return f"{ref[key][0]:g} / {ref[key][1]:g}"

    return {"gan": f"VEEGAN {cell('GAN (VEEGAN)')}; PacGAN {cell('GAN (PacGAN)')}",
            "unrolled": f"VEEGAN (K=5) {cell('Unrolled GAN (K=5)')}",
            "others": [("ALI", f"VEEGAN {cell('ALI')}"), ("VEEGAN", f"VEEGAN {cell('VEEGAN')}"),
                       ("PacGAN4", f"PacGAN {cell('PacGAN4')}")]}


PUBLISHED = {dataset: _published(dataset) for dataset in MODE_COLLAPSE_2D}


class Snapshots(L.Callback):
    """G's samples for fixed noise at chosen generator steps (the columns of Figure 1's strip)."""

    def __init__(self, at_steps: list[int], n_critic: int, num_samples: int = 1000) -> None:
        self.at_steps, self.n_critic, self.num_samples = sorted(set(at_steps)), n_critic, num_samples
        self.batches = 0
        self.samples: dict[int, torch.Tensor] = {}

    @torch.no_grad()
    def _take(self, pl_module: Any, g_step: int) -> None:
        if g_step in self.at_steps and g_step not in self.samples:
            self.samples[g_step] = pl_module.sample_images(self.num_samples, generator=torch.Generator().manual_seed(1)).cpu()

    def on_train_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._take(pl_module, 0)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.batches += 1
        if self.batches % self.n_critic == 0:  # a generator step was taken on this batch
            self._take(pl_module, self.batches // self.n_critic)


@dataclass
class Run:
    coverage: ModeCoverage
    modes_pacgan: int
    seconds: float  # wall
    cpu_seconds: float  # this process's CPU time: what the run costs on an idle core (1 thread)
    snapshots: dict[int, torch.Tensor] = field(repr=False)  # generator step -> samples (N, 2)
    mixture: Any = field(repr=False)  # the run's GaussianMixture (centres for the plot)


def compose_run(model: Model, dataset: str, seed: int, steps: int | None, run_dir: Path,
                extra: tuple[str, ...] = ()) -> DictConfig:
    """The run's config as ``python train.py experiment=...`` composes it, quiet (no logger, callbacks, metrics)."""
    own = ROOT / "conf" / "experiment" / f"{model.base}_{dataset}.yaml"
    experiment, data = (own.stem, []) if own.exists() else (f"{model.base}_ring8", [f"data={dataset}"])
    cfg = compose_experiment(experiment, [*data, *model.overrides, *extra, f"seed={seed}"], run_dir,
                             quiet=["callbacks=none", "logger=[]", "metrics=none"])
    with open_dict(cfg):
        cfg.trainer.limit_val_batches = 0  # val/d_real only; we score the generator ourselves at the end
        if steps is not None:  # generator steps -> optimizer steps (n_critic D steps + 1 G step each)
            cfg.trainer.max_epochs = -1
            cfg.trainer.max_steps = steps * (cfg.model.n_critic + 1)
    return cfg


def train_one(model: Model, dataset: str, seed: int, steps: int | None, out: Path, columns: int,
              extra: tuple[str, ...] = ()) -> Run:
    run_dir = out / "runs" / f"{dataset}_{model.base}{''.join(model.overrides)}" / str(seed)
    cfg = compose_run(model, dataset, seed, steps, run_dir, extra)
    n_critic = int(cfg.model.n_critic)
    g_steps = int(cfg.trainer.max_steps) // (n_critic + 1)
    with open_dict(cfg):  # train() instantiates the callbacks group; the trainer hands ours back
        cfg.callbacks = {"snapshots": {"_target_": f"{Snapshots.__module__}.Snapshots", "n_critic": n_critic,
                                       "at_steps": [round(i * g_steps / (columns - 1)) for i in range(columns)]}}
    start, cpu_start = time.perf_counter(), time.process_time()
    _, objects = train(cfg)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    snapshots = next(c for c in objects["trainer"].callbacks if isinstance(c, Snapshots))
    mixture = objects["datamodule"].distribution
    coverage, modes_pacgan = score(objects["model"], mixture, seed)
    return Run(coverage, modes_pacgan, seconds, cpu_seconds, snapshots.samples, mixture)


@torch.no_grad()
def score(module: Any, mixture: Any, seed: int) -> tuple[ModeCoverage, int]:
    """VEEGAN's / PacGAN's numbers on 2,500 generated points (conf/metrics/modes: n_std 3, min_count 1)."""
    defaults = _metrics_defaults()
    module.eval()
    fake = module.sample_images(defaults["num_samples"], generator=torch.Generator().manual_seed(10_000 + seed)).cpu()
    coverage = mode_coverage(fake.flatten(1), mixture.centers, mixture.stds, mixture.weights, n_std=defaults["n_std"],
                             min_count=defaults["min_count"])
    return coverage, int((coverage.counts >= PACGAN_MIN_COUNT).sum())


def _metrics_defaults() -> dict[str, Any]:
    cfg = OmegaConf.load(ROOT / "conf" / "metrics" / "modes.yaml")
    return {"num_samples": int(cfg.num_samples), "n_std": float(cfg.n_std), "min_count": int(cfg.min_count)}


def plot_strip(runs: list[Run], seeds: list[int], mixture: Any, title: str, path: Path) -> None:
    """Rows = seeds, columns = generator steps: samples (blue) over the mixture centres (red crosses)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = sorted(runs[0].snapshots)
    lim = float(mixture.centers.abs().max()) * 1.5
    fig, axes = plt.subplots(len(runs), len(steps), figsize=(1.8 * len(steps), 1.9 * len(runs)), squeeze=False)
    for row, (run, seed) in enumerate(zip(runs, seeds)):
        for col, step in enumerate(steps):
            ax = axes[row][col]
            points = run.snapshots[step]
            ax.scatter(points[:, 0], points[:, 1], s=1, c="tab:blue", alpha=0.4, linewidths=0)
            ax.scatter(mixture.centers[:, 0], mixture.centers[:, 1], s=12, c="red", marker="x", linewidths=0.8)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"step {step}", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"seed {seed}", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _mean_std(values: list[float], fmt: str) -> str:
    if not all(math.isfinite(v) for v in values):  # reverse KL is inf for a run without any high-quality sample
        return "inf"
    values = [float(v) for v in values]
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):{fmt}} ± {spread:{fmt}}"


def print_table(dataset: str, rows: list[tuple[str, Model, list[Run]]], seeds: list[int], steps_note: str) -> None:
    published = PUBLISHED[dataset]
    print(f"\n{dataset}: {len(seeds)} seed(s) {seeds}, {steps_note}; mean ± std over seeds; "
          f"published = modes / % high quality")
    head = (f"{'model':<24}{'modes':>13}{'modes≥20':>10}{'% HQ':>15}{'reverse KL':>15}{'cpu s':>7}   published")
    print(head)
    print("-" * (len(head) + 30))
    for _, model, runs in rows:
        modes = [r.coverage.modes_covered for r in runs]
        hq = [100 * r.coverage.high_quality_fraction for r in runs]
        kl = [r.coverage.reverse_kl for r in runs]
        pac = [r.modes_pacgan for r in runs]
        ref = published.get(model.published, "")
        print(f"{model.label:<24}{_mean_std(modes, '.1f'):>13}{statistics.fmean(pac):>10.1f}{_mean_std(hq, '.1f'):>15}"
              f"{_mean_std(kl, '.3f'):>15}{statistics.fmean(r.cpu_seconds for r in runs):>7.0f}   {ref}")
        if len(runs) > 1:
            print(f"{'':<24}per seed: modes {modes}, % HQ {[round(h, 1) for h in hq]}")
    for label, ref in published["others"]:
        print(f"{label + ' (published only)':<24}{'':>13}{'':>10}{'':>15}{'':>15}{'':>7}   {ref}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=None, choices=sorted({*MODELS, *stacked_mnist.MODELS}),
                        help=f"2-D default: {' '.join(DEFAULT_MODELS)}; stacked_mnist default: "
                             f"{' '.join(stacked_mnist.DEFAULT_MODELS)}")
    parser.add_argument("--datasets", nargs="+", default=["ring8"], choices=DATASETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=None, help="generator steps (default: the experiment's, 25k)")
    parser.add_argument("--columns", type=int, default=6, help="snapshots per strip (steps 0 ... --steps)")
    parser.add_argument("--override", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra Hydra overrides for every run, e.g. model.optimizer_g.lr=1e-3")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/out/mode_collapse")
    parser.add_argument("--d-size", choices=list(stacked_mnist.D_SIZES), default="full",
                        help="stacked_mnist: D with ½ / ¼ of G's parameters (PacGAN Table 3) or as configured")
    parser.add_argument("--num-test-samples", type=int, default=None,
                        help="stacked_mnist: generated samples scored (default 26,000, the papers')")
    parser.add_argument("--eval-every", type=int, default=0, metavar="G_STEPS",
                        help="stacked_mnist: also score modes / KL every G_STEPS generator steps (0: at the end only)")
    args = parser.parse_args(argv)
    if args.columns < 2:
        parser.error("--columns must be >= 2")
    if args.eval_every < 0:
        parser.error("--eval-every must be >= 0 (0: score at the end only)")
    wrong = [n for n in args.models or [] if n not in (MODELS if set(args.datasets) - {stacked_mnist.DATASET}
                                                        else stacked_mnist.MODELS)]
    if wrong:
        parser.error(f"--models {' '.join(wrong)} do not run on {' '.join(args.datasets)}; 2-D models: "
                     f"{' '.join(MODELS)}; stacked_mnist models: {' '.join(stacked_mnist.MODELS)}")
    return args


def summary(run: Run, seed: int) -> dict[str, Any]:
    """One run's numbers, JSON-able (reverse KL is inf for a run without a high-quality sample)."""
    c = run.coverage
    return {"seed": seed, "modes": int(c.modes_covered), "modes_pacgan": run.modes_pacgan,
            "high_quality_pct": 100 * float(c.high_quality_fraction), "reverse_kl": float(c.reverse_kl),
            "counts": c.counts.tolist(), "seconds": run.seconds, "cpu_seconds": run.cpu_seconds}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Train and score every (dataset, model, seed); print the tables, plot the strips, return the numbers."""
    args.out = args.out or out_dir("mode_collapse")
    args.out.mkdir(parents=True, exist_ok=True)
    steps_note = f"{args.steps} generator steps" if args.steps else "the experiments' generator steps (25k)"
    if args.override:
        steps_note += f", overrides {' '.join(args.override)}"
    total, cpu = time.perf_counter(), time.process_time()
    models = ' '.join(args.models) if args.models else "the defaults"
    result: dict[str, Any] = {"settings": f"{steps_note}, models {models}, seeds {args.seeds}",
                              "datasets": {}, "figures": []}
    for dataset in args.datasets:
        if dataset == stacked_mnist.DATASET:
            stacked = run_stacked(args, steps_note)
            result["datasets"][dataset] = stacked
            result["figures"] += [str(args.out / run["grid"]) for m in stacked["models"] for run in m["runs"]]
            continue
        torch.set_num_threads(1)  # the 2-D MLPs are too small for threads to pay off
        rows = []
        for name in args.models or DEFAULT_MODELS:
            model = MODELS[name]
            runs = []
            for seed in args.seeds:
                one = train_one(model, dataset, seed, args.steps, args.out, args.columns, tuple(args.override))
                c = one.coverage
                print(f"[{dataset} {name} seed {seed}] modes {c.modes_covered} (≥20: {one.modes_pacgan}), "
                      f"HQ {100 * c.high_quality_fraction:.1f} %, reverse KL {c.reverse_kl:.3f}, "
                      f"counts {c.counts.tolist()}, {one.seconds:.0f} s wall / {one.cpu_seconds:.0f} s cpu", flush=True)
                runs.append(one)
            path = args.out / f"{dataset}_{name}.png"
            plot_strip(runs, args.seeds, runs[0].mixture, f"{model.label} on {dataset}", path)
            result["figures"].append(str(path))
            rows.append((name, model, runs))
        print_table(dataset, rows, args.seeds, steps_note)
        published = PUBLISHED.get(dataset, {})
        result["datasets"][dataset] = {
            "models": [{"name": name, "label": model.label, "published": published.get(model.published, ""),
                        "runs": [summary(r, seed) for r, seed in zip(runs, args.seeds)]} for name, model, runs in rows],
            "published_only": [list(pair) for pair in published.get("others", [])]}
    print(f"\nplots in {args.out}; wall time {time.perf_counter() - total:.0f} s, cpu {time.process_time() - cpu:.0f} s")
    return result


def run_stacked(args: argparse.Namespace, steps_note: str) -> dict[str, Any]:
    """Stacked MNIST: train and score each model and seed, print the table beside the published numbers,
    return the numbers (JSON-able)."""
    num_samples = args.num_test_samples or stacked_mnist.default_num_samples()
    if args.steps is None:
        steps_note = "the experiments' length (100k generator steps)"
    rows = []
    for name in args.models or stacked_mnist.DEFAULT_MODELS:
        model = stacked_mnist.MODELS[name]
        runs = []
        for seed in args.seeds:
            one = stacked_mnist.train_stacked(name, model, seed, args.steps, args.out, args.d_size, num_samples,
                                              tuple(args.override), compose_experiment, train, args.eval_every)
            curve = f", G step: modes / KL {stacked_mnist.format_curve(one.curve)}" if one.curve else ""
            print(f"[stacked_mnist {args.d_size} {name} seed {seed}] modes {one.modes}, KL {one.kl:.3f}, "
                  f"{one.g_steps} G steps, D/G parameters {one.d_to_g:.2f}, {one.seconds:.0f} s wall / "
                  f"{one.cpu_seconds:.0f} s cpu, samples {one.grid}{curve}", flush=True)
            runs.append(one)
        rows.append((name, model, runs))
    stacked_mnist.print_table(rows, args.seeds, args.d_size, num_samples, steps_note)
    return stacked_mnist.summary(rows, args.seeds, args.d_size, num_samples)


def main() -> None:
    run(parse_args())


if __name__ == "__main__":
    main()
