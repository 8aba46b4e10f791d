"""WGAN paper (Arjovsky et al. 2017), Section 4.2, the optimiser finding: the critic on Adam (β1 > 0) vs RMSProp.

Usage::

    python benchmarks/wgan_optimizer.py                  # three runs at the CPU settings below
    python benchmarks/wgan_optimizer.py --quick          # a few-minute end-to-end check
    python benchmarks/wgan_optimizer.py --lrs 5e-5 1e-4 1e-3 --g-iters 1000

"WGAN training becomes unstable at times when one uses a momentum based optimizer such as Adam (with β1 > 0) on
the critic, or when one uses high learning rates. [...] as the loss blew up and samples got worse, the cosine
between the Adam step and the gradient usually turned negative." Trains ``experiment=wgan_rmsprop`` (the paper's
RMSProp, α = 5e-5) and ``experiment=wgan_adam`` (Adam, β = (0.5, 0.999), the authors' code's setting) at each
``--lrs`` learning rate (default 5e-5 and the 10x higher 5e-4), logging ``train/d_step_grad_cosine`` (callbacks/
step_grad_cosine: cos(−Δθ, g) of every critic step) every 5 batches. DCGAN generator and critic with 32 base
filters by default (configs: 64). MNIST-FID and class coverage on ``--fid-samples`` samples at the end.

Writes ``benchmarks/out/wgan_optimizer/``: ``figure.png`` (the cosine and the EM estimate against generator
iterations, median-filtered, one line per run) and ``numbers.txt``: per run the median cosine, the fraction of
measured critic steps with a negative cosine, the EM estimate's final value and its largest jump, FID, classes.
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import (  # noqa: E402
    Run, budget_parser, out_dir, parse_budget, plt, run_experiment, run_overrides, set_threads, write_numbers,
)

from lit_gans.analysis import median_filtered  # noqa: E402

COSINE = "train/d_step_grad_cosine"


def overrides(lr: float, args: argparse.Namespace) -> list[str]:
    return [*run_overrides(args, n_critic=5), "trainer.log_every_n_steps=5", f"model.optimizer_d.lr={lr}"]


def smooth(values: np.ndarray, points: int = 15) -> np.ndarray:
    points = min(points, len(values) - (len(values) % 2 == 0))
    return median_filtered(values, max(points, 1))


def summarise(run: Run) -> dict:
    _, cos = run.curve(COSINE)
    _, em = run.curve("train/em_estimate")
    m = run.metrics
    return dict(median_cos=float(np.median(cos)), negative=float(np.mean(cos < 0)), min_cos=float(cos.min()),
                final_em=float(smooth(em)[-1]), em_jump=float(np.max(np.abs(np.diff(smooth(em))))) if len(em) > 1 else math.nan,
                fid=m.get("val/fid", math.nan), classes=m.get("val/classes_covered", math.nan), seconds=run.seconds)


def plot(runs: dict[str, Run], path: Path) -> None:
    fig, (ax_cos, ax_em) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    for name, run in runs.items():
        it, cos = run.curve(COSINE)
        line, = ax_cos.plot(it, smooth(cos), lw=1.5, label=name)
        ax_cos.plot(it, cos, lw=0.5, alpha=0.2, color=line.get_color())
        it, em = run.curve("train/em_estimate")
        ax_em.plot(it, smooth(em), lw=1.5, color=line.get_color(), label=name)
    ax_cos.axhline(0, color="gray", lw=0.8, ls=":")
    ax_cos.set_ylabel("cos(−Δθ, g) of the critic's step")
    ax_cos.set_title("WGAN critic: RMSProp vs Adam (β1 = 0.5), median-filtered (raw faint)")
    ax_cos.legend(fontsize=8)
    ax_em.set_ylabel("EM estimate")
    ax_em.set_xlabel("generator iterations")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = budget_parser(__doc__, g_iters=(20, 400))
    parser.add_argument("--lrs", type=float, nargs="+", default=None, help="critic learning rates (default 5e-5 5e-4)")
    parser.add_argument("--optimizers", choices=["rmsprop", "adam"], nargs="+", default=["rmsprop", "adam"])
    args = parse_budget(parser, argv)
    args.lrs = args.lrs or ([5e-5] if args.quick else [5e-5, 5e-4])
    return args


def run(args: argparse.Namespace) -> dict:
    """Train each (optimizer, lr) run, write figure.png and numbers.txt; return the numbers (JSON-able)."""
    set_threads(args.threads)
    out = out_dir("wgan_optimizer" + ("_quick" if args.quick else ""))
    runs = {f"{opt} lr {lr:g}": run_experiment(f"{opt}_lr{lr:g}", f"wgan_{opt}", overrides(lr, args), out)
            for lr in args.lrs for opt in args.optimizers}
    plot(runs, out / "figure.png")
    lines = [f"WGAN paper, Section 4.2 on MNIST: the critic's optimizer, {args.g_iters} generator iterations per run, "
             f"{'64' if args.paper_nets else args.channels} base filters, seed {args.seed}",
             f"{'run':<20}{'median cos':>11}{'cos < 0':>9}{'min cos':>9}{'final EM':>10}{'max EM jump':>12}{'FID':>8}"
             f"{'classes':>9}{'wall s':>8}"]
    for name, run in runs.items():
        s = summarise(run)
        lines.append(f"{name:<20}{s['median_cos']:>11.3f}{s['negative']:>9.1%}{s['min_cos']:>9.3f}{s['final_em']:>10.4f}"
                     f"{s['em_jump']:>12.4f}{s['fid']:>8.1f}{s['classes']:>9.0f}{s['seconds']:>8.0f}")
    write_numbers(lines, out)
    return {"settings": lines[0], "figures": [str(out / "figure.png")],
            "runs": [{"run": name, **summarise(run)} for name, run in runs.items()]}


def main() -> None:
    run(parse_args())


if __name__ == "__main__":
    main()
