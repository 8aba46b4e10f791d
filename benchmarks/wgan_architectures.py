"""WGAN paper (Arjovsky et al. 2017), Section 4.3, Figures 5-7: robustness to the generator's architecture.

Usage::

    python benchmarks/wgan_architectures.py              # six runs at the CPU settings below
    python benchmarks/wgan_architectures.py --quick      # a few-minute end-to-end check
    python benchmarks/wgan_architectures.py --g-iters 1874 --paper-nets   # the configs' own length and widths

Trains ``experiment={wgan,gan}_arch_{dcgan,nobn,mlp}``: WGAN (Algorithm 1) and the standard GAN (-log D trick,
DCGAN's Adam) with three generators — DCGAN; DCGAN without BatchNorm and with a constant number of filters;
a 4-layer ReLU MLP of 512 units — always against the DCGAN critic / discriminator, for the same number of
generator iterations. By default the convolutional networks have 32 base filters (64 in the configs) so the
six runs fit a CPU. At the end of each run: MNIST-FID (``val/fid``), the number of digit classes the samples
cover (``val/classes_covered``, our MNIST classifier) and KL(class histogram ‖ uniform) (``val/class_kl``:
0 for balanced digits, log 10 ≈ 2.3 for a single one), on ``--fid-samples`` fixed-z samples.

Writes ``benchmarks/out/wgan_architectures/``: ``figure.png`` (the final sample grid of each run: WGAN on top,
GAN below, as the paper's left/right panels), ``numbers.txt`` and the run folders. The paper's finding: both
work with the DCGAN generator; without BatchNorm / with the MLP the GAN fails or collapses while WGAN still
produces samples.
"""

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import (  # noqa: E402
    Run, budget_parser, out_dir, parse_budget, plt, run_experiment, run_overrides, sample_grids, set_threads, write_numbers,
)

GENERATORS = {"dcgan": "DCGAN", "nobn": "no BN, constant filters", "mlp": "ReLU MLP 4x512"}
ALGORITHMS = {"wgan": ("WGAN", 5), "gan": ("GAN", 1)}


def overrides(algorithm: str, generator: str, args: argparse.Namespace) -> list[str]:
    return run_overrides(args, n_critic=ALGORITHMS[algorithm][1], generator=generator != "mlp")


def plot(runs: dict[tuple[str, str], Run], path: Path) -> None:
    """Rows = the algorithms run, columns = the generators run (``--algorithms`` / ``--generators``)."""
    algorithms = [a for a in ALGORITHMS if any(key[0] == a for key in runs)]
    generators = [g for g in GENERATORS if any(key[1] == g for key in runs)]
    fig, axes = plt.subplots(len(algorithms), len(generators), figsize=(3.2 * len(generators), 3.6 * len(algorithms)),
                             squeeze=False)
    for row, algorithm in enumerate(algorithms):
        for col, generator in enumerate(generators):
            ax = axes[row][col]
            ax.axis("off")
            run = runs.get((algorithm, generator))
            if run is None:
                continue
            grids = sample_grids(run)
            if grids:
                ax.imshow(plt.imread(grids[-1][1]), cmap="gray")
            m = run.metrics
            ax.set_title(f"{ALGORITHMS[algorithm][0]}, G: {GENERATORS[generator]}\nFID {m.get('val/fid', math.nan):.1f}, "
                         f"{m.get('val/classes_covered', math.nan):.0f} classes, KL {m.get('val/class_kl', math.nan):.2f}",
                         fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = budget_parser(__doc__, g_iters=(20, 500), fid_samples=(500, 5000))
    parser.add_argument("--algorithms", choices=list(ALGORITHMS), nargs="+", default=list(ALGORITHMS))
    parser.add_argument("--generators", choices=list(GENERATORS), nargs="+", default=list(GENERATORS))
    return parse_budget(parser, argv)


def run(args: argparse.Namespace) -> dict:
    """Train every (algorithm, generator) pair, write figure.png and numbers.txt; return the numbers (JSON-able)."""
    set_threads(args.threads)
    out = out_dir("wgan_architectures" + ("_quick" if args.quick else ""))
    runs = {(a, g): run_experiment(f"{a}_{g}", f"{a}_arch_{g}", overrides(a, g, args), out)
            for a in args.algorithms for g in args.generators}
    plot(runs, out / "figure.png")
    lines = [f"WGAN paper, Figures 5-7 on MNIST: {args.g_iters} generator iterations per run, DCGAN critic/discriminator, "
             f"{'64' if args.paper_nets else args.channels} base filters, {args.fid_samples} samples, seed {args.seed}",
             f"{'algorithm':<10}{'generator':<26}{'G params':>10}{'MNIST-FID':>11}{'classes':>9}{'class KL':>10}{'wall s':>8}"]
    for (a, g), run in runs.items():
        m, params = run.metrics, sum(p.numel() for p in run.objects["model"].generator.parameters())
        lines.append(f"{ALGORITHMS[a][0]:<10}{GENERATORS[g]:<26}{params:>10,}{m.get('val/fid', math.nan):>11.1f}"
                     f"{m.get('val/classes_covered', math.nan):>9.0f}{m.get('val/class_kl', math.nan):>10.3f}{run.seconds:>8.0f}")
    write_numbers(lines, out)
    return {"settings": lines[0], "figures": [str(out / "figure.png")],
            "runs": [{"algorithm": ALGORITHMS[a][0], "generator": GENERATORS[g],
                      "g_params": sum(p.numel() for p in run.objects["model"].generator.parameters()),
                      "fid": run.metrics.get("val/fid", math.nan), "classes": run.metrics.get("val/classes_covered", math.nan),
                      "class_kl": run.metrics.get("val/class_kl", math.nan), "seconds": run.seconds}
                     for (a, g), run in runs.items()]}


def main() -> None:
    run(parse_args())


if __name__ == "__main__":
    main()
