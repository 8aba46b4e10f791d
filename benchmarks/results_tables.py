"""Markdown tables for ``docs/results.md``: one function per benchmark, from the dict its ``run`` returns
(read back from ``docs/results/<name>.json``), ours beside the paper's. Used by ``reproduce.py``.

Values may be strings where JSON cannot hold a float (``"inf"``, ``"nan"``), so every number goes through `num`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from reference_numbers import FGAN_TABLE3, FGAN_TABLE3_SOURCE

FGAN_COLUMNS = {"kl": "KL", "reverse_kl": "reverse KL", "js": "Jensen-Shannon (2·JS)", "jeffrey": "Jeffrey",
                "pearson": "Pearson χ²", "jensen_shannon": "Jensen-Shannon (2·JS)"}
FGAN_KEYS = {"jensen_shannon": "js"}  # fgan_table3's divergence names -> the table's columns


def num(value: Any, spec: str = ".4g") -> str:
    """A number for a table cell: ``—`` for missing, ∞ for infinite, the spec otherwise."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return {"inf": "∞", "-inf": "−∞", "nan": "—"}.get(value, value)
    if isinstance(value, float) and math.isnan(value):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return format(value, spec)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table; a ``|`` inside a cell (``|θ|``) is escaped so that it does not split the cell."""

    def line(cells: Sequence[Any]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header), *(line(row) for row in rows)])


def _finite(values: list[Any]) -> list[float]:
    return [float(v) for v in values if not isinstance(v, str) and math.isfinite(v)]


def mean_std(values: list[Any], spec: str) -> str:
    """``m`` for one value, ``m ± s`` over several; ∞ when any is infinite."""
    if len(_finite(values)) < len(values):
        return "∞"
    if len(values) == 1:
        return num(float(values[0]), spec)
    return f"{num(statistics.fmean(values), spec)} ± {num(statistics.stdev(values), spec)}"


def fgan_mixture_fit(r: dict) -> str:
    best = FGAN_TABLE3["best_fit"]
    rows = [[FGAN_COLUMNS[d], num(v["value"], ".4f"), num(best[d]["value"], ".4f"), num(v["mu"], ".4f"),
             num(best[d]["mu"], ".4f"), num(v["sigma"], ".4f"), num(best[d]["sigma"], ".4f")]
            for d, v in r["best_fit"].items()]
    left = table(["divergence", "D_f* ours", "D_f* paper", "μ* ours", "μ* paper", "σ* ours", "σ* paper"], rows)
    m = r["mixture"]
    mixture = " + ".join(f"{w:g}·N({mu:g}, {s:g}²)" for w, mu, s in zip(m["weights"], m["means"], m["stds"]))
    tt = FGAN_TABLE3["train_test"]
    right = table(["trained \\ measured", *(FGAN_COLUMNS[d] for d in tt)],
                  [[FGAN_COLUMNS[tr], *(f"{num(r['train_test_exact'][tr][te], '.4f')} ({num(tt[tr][te], '.4f')})"
                                        for te in tt)] for tr in tt])
    return (f"Exact best fits under P = {mixture} beside {FGAN_TABLE3_SOURCE} (left): largest difference over the "
            f"15 numbers {num(r['max_residual'], '.1e')}, rms {num(r['rms_residual'], '.1e')}.\n\n{left}\n\n"
            f"Exact D_f of the paper's learned Gaussians under P (the paper's right-hand table in brackets: "
            f"sample-based estimates, some below the exact minimum):\n\n{right}")


def fgan_table3(r: dict) -> str:
    rows = []
    for row in r["rows"]:
        col = FGAN_KEYS.get(row["divergence"], row["divergence"])
        best, learned = row["paper_best_fit"], row["paper_learned"]
        err = f"{abs(row['mu'] / best['mu'] - 1):.1%}, {abs(row['sigma'] / best['sigma'] - 1):.1%}"
        rows.append([FGAN_COLUMNS[col], num(row["mu"], ".4f"), num(row["sigma"], ".4f"), num(learned["mu"], ".4f"),
                     num(learned["sigma"], ".4f"), num(best["mu"], ".4f"), num(best["sigma"], ".4f"), err,
                     num(row["bound"], ".4f"), num(learned["objective"], ".4f"), num(best["value"], ".4f"),
                     num(row["seconds"], ".0f")])
    return table(["divergence", "μ̂ ours", "σ̂ ours", "μ̂ paper", "σ̂ paper", "μ* paper", "σ* paper",
                  "error vs (μ*, σ*)", "F ours", "F paper", "D_f* paper", "s"], rows)


def wgan_meaningful_loss(r: dict) -> str:
    paper = {"wgan": "falls as the samples improve (Fig. 3)", "gan": "flat near log 2 or rising (Fig. 4)"}
    rows = [[run["kind"].upper(), run["label"], f"{num(run['rho'], '.3f')} (p = {num(run['p'], '.1g')})",
             f"{num(run['rho_late'], '.3f')} (from G iter {num(run['peak_it'], '.0f')})",
             f"{num(run['first_fid'], '.1f')} → {num(run['final_fid'], '.1f')}", num(run["classes"], ".0f"),
             num(run["seconds"], ".0f"), paper[run["kind"]]] for run in r["runs"]]
    return table(["run", "estimate", "Spearman ρ(estimate, FID)", "ρ from the estimate's peak on", "FID first → final",
                  "classes", "wall s", "paper: the estimate"], rows)


def wgan_optimizer(r: dict) -> str:
    rows = [[run["run"], num(run["median_cos"], ".3f"), num(100 * run["negative"], ".0f") + " %",
             num(run["final_em"], ".3f"), num(run["em_jump"], ".3f"), num(run["fid"], ".1f"), num(run["seconds"], ".0f")]
            for run in r["runs"]]
    return (table(["critic optimizer", "median cos", "steps with cos < 0", "final EM estimate", "largest EM jump",
                   "FID", "wall s"], rows)
            + "\n\nThe paper (Sec. 4.2): Adam on the critic made training unstable at times, with the cosine turning negative.")


def wgan_clipping(r: dict) -> str:
    rows = []
    for run in r["runs"]:
        at_clip = run["weights_at_clip"]
        span = run.get("weights_at_clip_range")
        clip = "n/a" if num(at_clip) == "—" else f"{100 * at_clip:.1f} %" + (
            f" ({100 * span[0]:.0f}–{100 * span[1]:.0f} % over the run)" if span else "")
        rows.append([run["run"], clip, num(run["max_abs_weight"], ".3f"),
                     f"{num(run['mean'], '.3f')} ± {num(run['std'], '.3f')} ({num(run['min'], '.3f')}–{num(run['max'], '.3f')})",
                     num(run["fid"], ".1f"), num(run["seconds"], ".0f")])
    return (table(["run", "critic weights at ±c", "largest |w|", "‖∇f(x̂)‖ mean ± std (min–max)", "FID", "wall s"], rows)
            + "\n\nThe WGAN-GP paper (Fig. 1b): clipping piles the weights up at ±c; the penalty keeps ‖∇f(x̂)‖ near 1.")


def wgan_architectures(r: dict) -> str:
    paper = {("WGAN", "DCGAN"): "good samples", ("GAN", "DCGAN"): "good samples",
             ("WGAN", "no BN, constant filters"): "still works (Fig. 6)", ("GAN", "no BN, constant filters"): "fails (Fig. 6)",
             ("WGAN", "ReLU MLP 4x512"): "still works (Fig. 7)", ("GAN", "ReLU MLP 4x512"): "collapses (Fig. 7)"}
    rows = [[run["algorithm"], run["generator"], f"{run['g_params']:,}", num(run["fid"], ".1f"), num(run["classes"], ".0f"),
             num(run["class_kl"], ".2f"), num(run["seconds"], ".0f"), paper.get((run["algorithm"], run["generator"]), "")]
            for run in r["runs"]]
    return table(["algorithm", "generator", "G params", "MNIST-FID", "classes", "class KL", "wall s", "paper"], rows)


def wgan_toy_figures(r: dict) -> str:
    rows = [[num(e["theta"], "g"), num(e["w"], "g"), num(e["em"], ".3g"), num(e["js"], ".4f"), num(e["js_estimate"], ".4f"),
             num(e["grad_wgan"], ".3g"), num(e["grad_minimax"], ".3g"), num(e["grad_ns"], ".3g")] for e in r["estimates"]]
    est = table(["θ", "W = |θ| (paper)", "critic's EM estimate", "JS (paper)", "JS estimate ½V + log 2",
                 "∂L_G/∂θ: WGAN", "minimax", "−log D"], rows)
    learned = "; ".join(f"**{name}** " + ", ".join(f"{n}: {num(v, '.3f')}" for n, v in t["after"].items())
                        + f", final {num(t['final'], '.4f')}" for name, t in r["theta_learned"].items())
    f2 = r["figure2"]
    return (f"{est}\n\nThe critic's estimate ≈ K̂·|θ| with K̂ = {num(r['k_hat'], '.4g')}. θ learnable from θ0 = 1, after n "
            f"generator steps: {learned}.\n\nFigure 2 ({f2['batches']} batches, generator frozen): the GAN discriminator "
            f"saturates at the fakes (|logit| > 5 for {100 * f2['saturated_fraction']:.1f} %, mean D(G(z)) = "
            f"{num(f2['mean_d_fake'], '.2g')}, |∂D/∂x| there {100 * f2['slope_at_fakes_relative']['D']:.1f} % of its "
            f"maximum); the clipped critic's |f'| never falls below {num(f2['slope_min_over_max']['f'], '.2f')} of its "
            f"maximum on [−3, 8] and deviates from its linear fit by {100 * f2['critic_nonlinearity']:.1f} % of its range.")


def stacked_mnist(d: dict) -> str:
    """Stacked MNIST: modes of 1000 and KL(histogram ‖ uniform) over ``num_samples`` generated images."""
    rows = []
    for m in d["models"]:
        runs = m["runs"]
        spec = ".1f" if len(runs) > 1 else ".0f"
        rows.append([m["label"], mean_std([x["modes"] for x in runs], spec), mean_std([x["kl"] for x in runs], ".2f"),
                     str(runs[0]["g_steps"]), num(runs[0]["d_to_g"], ".2f"),
                     num(statistics.fmean(x["cpu_seconds"] for x in runs), ".0f"), m["published"]])
    rows += [[f"{label} (published only)", "", "", "", "", "", ref] for label, ref in d["published_only"]]
    return (f"**stacked_mnist** (D size: {d['d_size']}; {d['num_samples']:,} samples scored)\n\n"
            + table(["model", "modes (of 1000)", "KL", "G steps", "D/G parameters", "CPU s", "published: modes / KL"],
                    rows))


def mode_collapse(r: dict) -> str:
    parts = []
    for dataset, d in r["datasets"].items():
        if dataset == "stacked_mnist":
            parts.append(stacked_mnist(d))
            continue
        rows = []
        for m in d["models"]:
            runs = m["runs"]
            per_seed = len(runs) > 1
            rows.append([m["label"], mean_std([x["modes"] for x in runs], ".1f" if per_seed else ".0f"),
                         mean_std([x["modes_pacgan"] for x in runs], ".1f" if per_seed else ".0f"),
                         mean_std([x["high_quality_pct"] for x in runs], ".1f"),
                         mean_std([x["reverse_kl"] for x in runs], ".3f"),
                         num(statistics.fmean(x["cpu_seconds"] for x in runs), ".0f"), m["published"]])
            if per_seed:
                rows.append([f"… per seed {[x['seed'] for x in runs]}", ", ".join(str(x["modes"]) for x in runs),
                             ", ".join(str(x["modes_pacgan"]) for x in runs),
                             ", ".join(num(x["high_quality_pct"], ".1f") for x in runs),
                             ", ".join(num(x["reverse_kl"], ".3f") for x in runs), "", ""])
        rows += [[f"{label} (published only)", "", "", "", "", "", ref] for label, ref in d["published_only"]]
        parts.append(f"**{dataset}**\n\n" + table(["model", "modes (≥ 1 HQ)", "modes (≥ 20)", "% HQ", "reverse KL",
                                                  "CPU s", "published: modes / % HQ"], rows))
    return "\n\n".join(parts)


def infogan_mnist(r: dict) -> str:
    seeds = r["seeds"]
    epochs = max(len(s["code_accuracy"]) for s in seeds)
    paper = r["paper"]

    def cells(values: list[float], spec: str) -> list[str]:
        return [num(v, spec) for v in values] + [""] * (epochs - len(values))

    rows = [[f"`val/code_accuracy` (%), seed {s['seed']}", *cells(s["code_accuracy"], ".1f")] for s in seeds]
    rows += [[f"MNIST-FID, seed {s['seed']}", *cells(s["fid"], ".2f")] for s in seeds]
    return (table(["epoch", *(str(e + 1) for e in range(epochs))], rows)
            + f"\n\nThe paper: {num(paper['code_accuracy'], 'g')} % ({paper['source']}). Last L_I: "
            + ", ".join(f"seed {s['seed']} {num(s['mutual_info_last'], '.3f')}" for s in seeds) + " (limit ln 10 = 2.303).")


def encoders(r: dict) -> str:
    """benchmarks/encoders.py: every encoder model's E(x) on MNIST beside the floors and the published numbers."""
    import encoders as script  # the table lives with the script, which prints the same one

    return script.table(r)


def mode_regularizers(r: dict) -> str:
    """benchmarks/mode_regularizers.py: GAN vs MRGAN / MDGAN / ALI on the 2-D mixtures."""
    import mode_regularizers as script

    return script.tables(r)
