"""Weight clipping vs a gradient penalty, seen from the critic (WGAN-GP paper, Gulrajani et al. 2017, Figure 1b):
where the critic's weights go, and its gradient norms between real and generated images.

Usage::

    python benchmarks/wgan_clipping.py                   # both runs at the CPU settings below
    python benchmarks/wgan_clipping.py --quick           # a few-minute end-to-end check

Trains ``experiment=wgan_clipping_diagnostics`` (WGAN, Algorithm 1: RMSProp 5e-5, weights clipped to ±0.01)
and ``experiment=wgan_gp_clipping_diagnostics`` (WGAN-GP: λ = 10, Adam(1e-4, β = (0, 0.9))) with the same
critic (DCGAN with LayerNorm) and generator, 32 base filters by default (configs: 64). Every ``--every``
batches callbacks/critic_diagnostics records the fraction of the critic's weights at ±c, a histogram of them
and ‖∇_x̂ f(x̂)‖ on interpolates x̂ = εx + (1 − ε)G(z) (mean, std, min, max over a batch of 64).

Writes ``benchmarks/out/wgan_clipping/``: ``figure.png`` (final weight histograms; fraction at ±c over training;
gradient-norm mean with its min-max band) and ``numbers.txt``. What the WGAN-GP paper reports: clipping pushes
the weights to the two extremes of the clipping range, the penalty does not; clipped critics' gradients vanish
or explode, the penalised ones stay near 1 (the norm the penalty asks for). Gradient norms of a clipped critic
are only meaningful up to its (unknown) Lipschitz scale, so compare their spread and trend, not their level.
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

from lit_gans.callbacks.critic_diagnostics import CriticDiagnostics  # noqa: E402

RUNS = {"clipping": ("wgan_clipping_diagnostics", "WGAN, weight clipping c = 0.01"),
        "gradient_penalty": ("wgan_gp_clipping_diagnostics", "WGAN-GP, λ = 10")}


def overrides(args: argparse.Namespace) -> list[str]:
    return [*run_overrides(args, n_critic=5), f"callbacks.critic_diagnostics.every_n_batches={args.every}"]


def history(run: Run) -> list[dict]:
    return run.callback(CriticDiagnostics).history


def plot(runs: dict[str, Run], path: Path) -> None:
    """One weight histogram per run (each on its own range: ±0.01 vs ~±1), then the fraction at ±c and the
    gradient norms of both runs over training."""
    fig, axes = plt.subplots(1, len(runs) + 2, figsize=(5 * (len(runs) + 2), 4))
    for ax, (name, run) in zip(axes, runs.items()):
        last = history(run)[-1]
        centres = (last["hist_edges"][:-1] + last["hist_edges"][1:]) / 2
        ax.bar(centres, last["hist_counts"] / last["hist_counts"].sum(), width=np.diff(last["hist_edges"]))
        ax.set(title=f"{RUNS[name][1]}\ncritic parameters at the end", xlabel="value", ylabel="fraction", yscale="log")
    ax_clip, ax_norm = axes[-2], axes[-1]
    for name, run in runs.items():
        h = history(run)
        it = np.array([(e["step"] + 1) / run.n_critic for e in h])
        if "train/critic_weights_at_clip" in h[-1]:
            ax_clip.plot(it, [e["train/critic_weights_at_clip"] for e in h], "o-", ms=3, label=RUNS[name][1])
        mean = np.array([e["train/critic_grad_norm_mean"] for e in h])
        line, = ax_norm.plot(it, mean, lw=1.5, label=RUNS[name][1])
        ax_norm.fill_between(it, [e["train/critic_grad_norm_min"] for e in h], [e["train/critic_grad_norm_max"] for e in h],
                             color=line.get_color(), alpha=0.2)
    ax_clip.set(title="fraction of critic parameters at ±c", xlabel="generator iterations", ylim=(0, 1.02))
    ax_norm.axhline(1.0, color="gray", ls=":", lw=1)
    ax_norm.set(title="‖∇f(x̂)‖ on real-fake interpolates (mean, min-max)", xlabel="generator iterations", yscale="log")
    ax_clip.legend(fontsize=8)
    ax_norm.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = budget_parser(__doc__, g_iters=(20, 400))
    parser.add_argument("--every", type=int, default=None, help="batches between measurements (default 50; quick 10)")
    args = parse_budget(parser, argv)
    args.every = args.every or (10 if args.quick else 50)
    return args


def run(args: argparse.Namespace) -> dict:
    """Train both critics, write figure.png and numbers.txt; return the numbers (JSON-able)."""
    set_threads(args.threads)
    out = out_dir("wgan_clipping" + ("_quick" if args.quick else ""))
    runs = {name: run_experiment(name, experiment, overrides(args), out) for name, (experiment, _) in RUNS.items()}
    plot(runs, out / "figure.png")
    rows = []
    lines = [f"Weight clipping vs gradient penalty on MNIST: {args.g_iters} generator iterations per run, the LayerNorm "
             f"DCGAN critic, {'64' if args.paper_nets else args.channels} base filters, seed {args.seed}",
             f"{'run':<34}{'weights at ±c':>14}{'|w| max':>9}{'‖∇f‖ mean':>11}{'std':>8}{'min':>8}{'max':>8}"
             f"{'FID':>8}{'classes':>9}{'wall s':>8}"]
    for name, run in runs.items():
        last, m = history(run)[-1], run.metrics
        w_max = float(max(p.detach().abs().max() for p in run.objects["model"].discriminator.parameters()))
        at_clip = last.get("train/critic_weights_at_clip")  # only a clipped critic has a ±c
        at_clip_text = "n/a" if at_clip is None or math.isnan(at_clip) else f"{at_clip:.1%}"
        lines.append(f"{RUNS[name][1]:<34}{at_clip_text:>14}{w_max:>9.3f}"
                     f"{last['train/critic_grad_norm_mean']:>11.4f}{last['train/critic_grad_norm_std']:>8.4f}"
                     f"{last['train/critic_grad_norm_min']:>8.4f}{last['train/critic_grad_norm_max']:>8.4f}"
                     f"{m.get('val/fid', math.nan):>8.1f}{m.get('val/classes_covered', math.nan):>9.0f}{run.seconds:>8.0f}")
        at_clip_range = [e["train/critic_weights_at_clip"] for e in history(run) if "train/critic_weights_at_clip" in e]
        rows.append({"run": RUNS[name][1], "weights_at_clip": math.nan if at_clip is None else at_clip,
                     "weights_at_clip_range": [min(at_clip_range), max(at_clip_range)] if at_clip_range else None,
                     "max_abs_weight": w_max, "fid": m.get("val/fid", math.nan), "seconds": run.seconds,
                     **{k: last[f"train/critic_grad_norm_{k}"] for k in ("mean", "std", "min", "max")}})
    write_numbers(lines, out)
    return {"settings": lines[0], "figures": [str(out / "figure.png")], "runs": rows}


def main() -> None:
    run(parse_args())


if __name__ == "__main__":
    main()
