"""WGAN paper (Arjovsky et al. 2017), Section 4.2, Figures 3 and 4: a meaningful loss metric, on MNIST.

Usage::

    python benchmarks/wgan_meaningful_loss.py            # both runs at the CPU settings below (~32 min, 1 core)
    python benchmarks/wgan_meaningful_loss.py --quick    # a 2-minute end-to-end check
    python benchmarks/wgan_meaningful_loss.py --paper-nets --g-iters 1874 --every 100   # the configs' own settings
    python benchmarks/wgan_meaningful_loss.py --analyse-only   # redo figure and numbers from the run folders

Trains ``experiment=wgan_meaningful_loss`` (WGAN, Algorithm 1) and ``experiment=gan_meaningful_loss`` (the
standard GAN with the -log D trick) for the same number of generator iterations, with the same DCGAN
generator and critic / discriminator; by default both networks have 32 base filters instead of 64, and 800
generator iterations, so the pair takes ~32 min of one (busy) CPU core: 25 min WGAN (4,000 batches), 7 min GAN. The critic's EM estimate (``train/em_estimate``) and the
discriminator's JS lower bound ½·L(D, g) + log 2 (``train/js_divergence_estimate``) are logged every 10
batches, MNIST-FID (``val/fid``: our digit classifier's features, 2,000 fixed-z samples against the 10k test
images) and a sample grid every ``--every`` generator iterations.

Writes ``benchmarks/out/wgan_meaningful_loss/``: ``figure.png`` (each estimate, raw and median-filtered as in
the paper, beside FID, with sample grids beneath), ``numbers.txt`` (what is printed) and the run folders.
Prints Spearman's ρ between each median-filtered estimate (read at the FID points) and FID, over the whole run
and from the estimate's peak on (the critic needs ~150 generator iterations to catch up: our skeleton has no
100-critic-step warm-up, see conf/experiment/wgan_lsun.yaml). The paper's claim:
the EM estimate tracks sample quality (ρ > 0: both fall), the JS estimate does not (it stays near log 2 ≈ 0.69
or rises while the samples improve).
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import (  # noqa: E402
    Run, budget_parser, load_run, out_dir, parse_budget, plt, run_experiment, sample_grids, set_threads, show_grids,
    width_overrides, write_numbers,
)

from lit_gans.analysis import median_filtered, spearman  # noqa: E402

ESTIMATES = {"wgan": ("wgan_meaningful_loss", "train/em_estimate", "EM estimate"),
             "gan": ("gan_meaningful_loss", "train/js_divergence_estimate", "JS estimate")}


def overrides(kind: str, args: argparse.Namespace) -> list[str]:
    """The CPU settings: same generator iterations and evaluation points for both runs."""
    n_critic = 5 if kind == "wgan" else 1
    batches = args.g_iters * n_critic
    every = args.every * n_critic
    ov = [f"seed={args.seed}", "trainer.max_epochs=-1", f"trainer.max_steps={args.g_iters * (n_critic + 1)}",
          f"++trainer.val_check_interval={every}", f"callbacks.samples.every_n_batches={every}",
          f"metrics.num_samples={args.fid_samples}", "trainer.log_every_n_steps=10"]
    if batches < every:
        raise SystemExit(f"--g-iters {args.g_iters} is below --every {args.every}: no FID point")
    return [*ov, *width_overrides(args)]


def at(steps: np.ndarray, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The curve's value at each point: the last logged value at or before it."""
    idx = np.searchsorted(steps, points, side="right") - 1
    return values[np.clip(idx, 0, len(values) - 1)]


def analyse(kind: str, run: Run, window: int) -> dict:
    """Median-filter the estimate over ``window`` generator iterations (an odd number of logged points) and
    correlate it, read at the FID points, with FID."""
    _, key, label = ESTIMATES[kind]
    it, est = run.curve(key)
    points = max(1, round(window / np.median(np.diff(it)))) if len(it) > 1 else 1
    points = min(points + (points % 2 == 0), len(est) - (len(est) % 2 == 0))
    filtered = median_filtered(est, points)
    fid_it, fid = run.curve("val/fid")
    at_fid = at(it, filtered, fid_it)
    rho, p = spearman(at_fid, fid) if len(fid) >= 3 else (math.nan, math.nan)
    # Section 4.2 reads the loss as an EM estimate once the critic is trained "relatively well"; without the
    # authors' code's 100-critic-step warm-up it first climbs while the critic catches up. A secondary,
    # labelled number: the correlation from the estimate's peak on.
    late = fid_it >= it[np.argmax(filtered)]
    rho_late = spearman(at_fid[late], fid[late])[0] if late.sum() >= 3 else math.nan
    classes = run.curve("val/classes_covered")[1]
    return dict(kind=kind, label=label, it=it, est=est, filtered=filtered, fid_it=fid_it, fid=fid, rho=rho, p=p,
                rho_late=rho_late, peak_it=it[np.argmax(filtered)], final_fid=fid[-1], best_fid=fid.min(),
                classes=classes[-1], final_est=filtered[-1], seconds=run.seconds)


def plot(results: list[dict], runs: list[Run], path: Path) -> None:
    fig = plt.figure(figsize=(6.5 * len(results), 6.2))
    outer = fig.add_gridspec(2, len(results), height_ratios=[2.2, 1], hspace=0.3, wspace=0.35)
    for col, (r, run) in enumerate(zip(results, runs)):
        ax = fig.add_subplot(outer[0, col])
        ax.plot(r["it"], r["est"], color="tab:blue", alpha=0.25, lw=0.8, label=f"{r['label']} (raw)")
        ax.plot(r["it"], r["filtered"], color="tab:blue", lw=2, label=f"{r['label']} (median filter)")
        if r["kind"] == "gan":
            ax.axhline(math.log(2), color="gray", ls=":", lw=1, label="log 2")
        ax.set_xlabel("generator iterations")
        ax.set_ylabel(r["label"], color="tab:blue")
        fid_ax = ax.twinx()
        fid_ax.plot(r["fid_it"], r["fid"], "o-", color="tab:red", ms=3, label="MNIST-FID")
        fid_ax.set_ylabel("MNIST-FID (lower is better)", color="tab:red")
        ax.set_title(f"{'WGAN' if r['kind'] == 'wgan' else 'GAN (-log D trick)'}: Spearman ρ(estimate, FID) = {r['rho']:.2f}")
        lines = ax.get_legend_handles_labels()[0] + fid_ax.get_legend_handles_labels()[0]
        ax.legend(lines, [ln.get_label() for ln in lines], fontsize=7, loc="upper right")
        show_grids(fig, outer[1, col], sample_grids(run))
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = budget_parser(__doc__, g_iters=(60, 800),
                           quick_help="60 generator iterations each, FID every 20: checks the pipeline")
    parser.add_argument("--every", type=int, default=None, help="generator iterations between FID points (default 50; quick 20)")
    parser.add_argument("--window", type=int, default=25, help="median filter window, in generator iterations")
    parser.add_argument("--only", choices=list(ESTIMATES), nargs="+", default=list(ESTIMATES))
    parser.add_argument("--analyse-only", action="store_true", help="re-read the runs of an earlier call, train nothing")
    args = parse_budget(parser, argv)
    args.every = args.every or (20 if args.quick else 50)
    return args


def run(args: argparse.Namespace) -> dict:
    """Train (or re-read) both runs, write figure.png and numbers.txt; return the numbers (JSON-able)."""
    set_threads(args.threads)
    out = out_dir("wgan_meaningful_loss" + ("_quick" if args.quick else ""))
    if args.analyse_only:
        runs = [load_run(kind, out) for kind in args.only]
    else:
        runs = [run_experiment(kind, ESTIMATES[kind][0], overrides(kind, args), out) for kind in args.only]
    results = [analyse(kind, run, args.window) for kind, run in zip(args.only, runs)]
    plot(results, runs, out / "figure.png")
    lines = [f"WGAN paper, Figures 3-4 on MNIST: {args.g_iters} generator iterations per run, FID every {args.every} "
             f"({args.fid_samples} samples), {'64' if args.paper_nets else args.channels} base filters, seed {args.seed}",
             f"{'run':<6}{'estimate':<14}{'Spearman ρ vs FID':>18}{'p':>9}{'ρ after peak':>13}{'peak at':>8}{'first FID':>11}"
             f"{'final FID':>11}{'best FID':>10}{'classes':>9}{'final est.':>12}{'wall s':>8}"]
    for r in results:
        lines.append(f"{r['kind']:<6}{r['label']:<14}{r['rho']:>18.3f}{r['p']:>9.3g}{r['rho_late']:>13.3f}{r['peak_it']:>8.0f}"
                     f"{r['fid'][0]:>11.1f}{r['final_fid']:>11.1f}{r['best_fid']:>10.1f}{r['classes']:>9.0f}"
                     f"{r['final_est']:>12.4f}{r['seconds']:>8.0f}")
    lines.append("ρ after peak: only the FID points from the (filtered) estimate's maximum on, i.e. once the critic has caught up")
    for r in results:
        pairs = ", ".join(f"{i:.0f}: {e:.4f}/{f:.1f}" for i, e, f in zip(r["fid_it"], at(r["it"], r["filtered"], r["fid_it"]), r["fid"]))
        lines.append(f"{r['kind']} (G iter: filtered estimate/FID) {pairs}")
    write_numbers(lines, out)
    keys = ("rho", "p", "rho_late", "peak_it", "final_fid", "best_fid", "classes", "final_est", "seconds")
    return {"settings": lines[0], "figures": [str(out / "figure.png")],
            "runs": [{"kind": r["kind"], "label": r["label"], "first_fid": float(r["fid"][0]),
                      **{k: float(r[k]) for k in keys},
                      "fid_points": [[float(i), float(e), float(f)] for i, e, f in
                                     zip(r["fid_it"], at(r["it"], r["filtered"], r["fid_it"]), r["fid"])]}
                     for r in results]}


def main() -> None:
    run(parse_args())


if __name__ == "__main__":
    main()
