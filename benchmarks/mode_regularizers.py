"""Mode coverage of the encoder models on the 2-D Gaussian mixtures: GAN vs MRGAN vs MDGAN (Che et al. 2017) and
GAN vs ALI (Dumoulin et al. 2017, Section 4.5), with the mode metrics of benchmarks/mode_collapse.py (VEEGAN's /
PacGAN's: modes covered, % high-quality samples, reverse KL), the published rows beside ours.

Usage::

    python benchmarks/mode_regularizers.py                                   # ring8, gan mrgan mdgan, seed 0, 25k batches
    python benchmarks/mode_regularizers.py --batches 3000 --seeds 0 1 --datasets ring8 grid25
    python benchmarks/mode_regularizers.py --models mrgan --override model.lambda1=0.1
    python benchmarks/mode_regularizers.py --datasets grid25 --models gan ali --seeds 0 1 2   # ALI Section 4.5

Each (dataset, model, seed) trains ``experiment=<model>_<dataset>`` when that file exists (ali_grid25), else
``experiment=<model>_ring8`` with ``data=<dataset>``, through
``lit_gans.training.train``: the plain non-saturating GAN and the two regularised models share G, D (MDGAN: D_m and
D_d), latent, batch and optimisers, except MDGAN's D_d, at G's lr (1e-3; at D's 1e-4 it stayed at chance and MDGAN
collapsed: conf/experiment/mdgan_ring8.yaml); MRGAN and MDGAN add the toy MLP encoder and λ1 = λ2 = 1 (conf/experiment/
mrgan_ring8.yaml: our choice, the paper gives no λ for its 2-D figure). ``--batches`` counts training batches, the
same for every model (a GAN batch is 2 optimizer steps, MRGAN's 2, MDGAN's 4). The paper's claim (Section 3.2,
Figure 9): the regularisers recover the modes a GAN misses; this measures it on our nets.

After training, 2,500 generated points (fixed noise) are scored as in benchmarks/mode_collapse.py (and a mode with
≥ 20 of them, PacGAN's rule); for the encoder models also the share of held-out data points x whose G∘E(x) lands
nearest x's own mode (the regulariser's mechanism: every mode is in G's range). One torch thread per run.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import open_dict

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from mode_collapse import PUBLISHED, Snapshots, _mean_std, plot_strip, score  # noqa: E402
from reference_numbers import ALI_PAPER  # noqa: E402
from wgan_common import ROOT, compose_experiment, out_dir  # noqa: E402
from lit_gans.encoding import split_batches, split_dataset  # noqa: E402
from lit_gans.training import train  # noqa: E402

MODELS = {"gan": "GAN (non-saturating)", "mrgan": "MRGAN (λ1 = λ2 = 1)", "mdgan": "MDGAN (λ = 1, D_d lr 1e-3)", "ali": "ALI"}
DATASETS = ("ring8", "grid25")


@dataclass
class Result:
    modes: int
    modes_pacgan: int
    high_quality_pct: float
    reverse_kl: float
    counts: list[int]
    reconstructed_own_mode_pct: float | None  # encoder models: % of held-out x with G∘E(x) nearest x's mode
    cpu_seconds: float
    snapshots: Any = None
    mixture: Any = None


@torch.no_grad()
def reconstructed_own_mode(model: Any, datamodule: Any) -> float | None:
    """% of the held-out sample whose reconstruction G∘E(x) is nearest the centre of x's own mode."""
    if not getattr(model, "has_encoder", False):
        return None
    x, labels = next(split_batches(split_dataset(datamodule, "test"), batch_size=2000, limit=2000))
    rec = model.eval().reconstruct(x.to(model.device)).cpu()
    landed = torch.cdist(rec.flatten(1), datamodule.distribution.centers.to(rec.dtype)).argmin(1)
    return 100.0 * float((landed == labels).float().mean())


def train_one(name: str, dataset: str, seed: int, batches: int, out: Path, columns: int, extra: tuple[str, ...]) -> Result:
    run_dir = out / "runs" / f"{dataset}_{name}" / str(seed)
    own = ROOT / "conf" / "experiment" / f"{name}_{dataset}.yaml"
    experiment, data = (own.stem, []) if own.exists() else (f"{name}_ring8", [f"data={dataset}"])
    cfg = compose_experiment(experiment, [*data, *extra, f"seed={seed}"], run_dir,
                             quiet=["callbacks=none", "logger=[]", "metrics=none"])
    from hydra.utils import get_class

    per_batch = len(get_class(cfg.model._target_).steps)  # optimizer steps per batch (n_critic = 1)
    if int(cfg.model.n_critic) != 1:
        raise ValueError("this benchmark counts batches with n_critic = 1")
    with open_dict(cfg):
        cfg.trainer.limit_val_batches = 0
        cfg.trainer.max_epochs = -1
        cfg.trainer.max_steps = batches * per_batch
        cfg.callbacks = {"snapshots": {"_target_": f"{Snapshots.__module__}.Snapshots", "n_critic": 1,
                                       "at_steps": [round(i * batches / (columns - 1)) for i in range(columns)]}}
    start = time.process_time()
    _, objects = train(cfg)
    cpu = time.process_time() - start
    model, datamodule = objects["model"], objects["datamodule"]
    coverage, modes_pacgan = score(model, datamodule.distribution, seed)
    snapshots = next(c for c in objects["trainer"].callbacks if isinstance(c, Snapshots))
    return Result(int(coverage.modes_covered), modes_pacgan, 100 * float(coverage.high_quality_fraction),
                  float(coverage.reverse_kl), coverage.counts.tolist(), reconstructed_own_mode(model, datamodule), cpu,
                  snapshots.samples, datamodule.distribution)


def table(dataset: str, rows: dict[str, list[dict[str, Any]]], seeds: list[int], note: str) -> str:
    """One dataset's markdown table from the JSON rows (``results[dataset][model]`` = one dict per seed)."""
    lines = [f"{dataset}: seeds {seeds}, {note}; mean ± std over seeds",
             "", "| model | modes (≥ 1 HQ) | modes (≥ 20) | % HQ | reverse KL | G∘E(x) in own mode % | CPU s / run |",
             "|---|---|---|---|---|---|---|"]
    for name, results in rows.items():
        own = [r["reconstructed_own_mode_pct"] for r in results if r["reconstructed_own_mode_pct"] is not None]
        lines.append(f"| {MODELS[name]} | {_mean_std([r['modes'] for r in results], '.1f')} "
                     f"({', '.join(str(r['modes']) for r in results)}) | "
                     f"{_mean_std([r['modes_pacgan'] for r in results], '.1f')} | "
                     f"{_mean_std([r['high_quality_pct'] for r in results], '.1f')} | "
                     f"{_mean_std([r['reverse_kl'] for r in results], '.2f')} | "
                     f"{_mean_std(own, '.1f') if own else '—'} | "
                     f"{sum(r['cpu_seconds'] for r in results) / len(results):.0f} |")
    published = PUBLISHED.get(dataset, {})
    if published:
        lines += ["", f"Published on {dataset} (modes / % HQ; their mixtures, networks and step counts):",
                  f"- GAN: {published.get('gan', '')}"] + [f"- {label}: {cell}" for label, cell in published["others"]]
    lines += [f"- {label}" for label in ALI_PAPER.get(dataset, [])]
    return "\n".join(lines)


def tables(summary: dict[str, Any]) -> str:
    """Every dataset's table of a run's JSON summary (for benchmarks/reproduce.py)."""
    return "\n\n".join(table(dataset, rows, summary["seeds"], summary["settings"])
                       for dataset, rows in summary["datasets"].items())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--datasets", nargs="+", default=["ring8"], choices=DATASETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--batches", type=int, default=25000, help="training batches per run (the experiments': 25k)")
    parser.add_argument("--columns", type=int, default=6, help="snapshots per strip")
    parser.add_argument("--override", nargs="*", default=[], metavar="KEY=VALUE", help="extra Hydra overrides")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/out/mode_regularizers")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    out = args.out or out_dir("mode_regularizers")
    out.mkdir(parents=True, exist_ok=True)
    note = f"{args.batches} batches" + (f", overrides {' '.join(args.override)}" if args.override else "")
    summary: dict[str, Any] = {"settings": note, "seeds": args.seeds, "datasets": {}}
    for dataset in args.datasets:
        rows: dict[str, list[Result]] = {}
        for name in args.models:
            rows[name] = []
            for seed in args.seeds:
                r = train_one(name, dataset, seed, args.batches, out, args.columns, tuple(args.override))
                print(f"[{dataset} {name} seed {seed}] modes {r.modes} (≥20: {r.modes_pacgan}), HQ {r.high_quality_pct:.1f} %, "
                      f"rKL {r.reverse_kl:.3f}, own-mode reconstructions {r.reconstructed_own_mode_pct}, counts {r.counts}, "
                      f"{r.cpu_seconds:.0f} s cpu", flush=True)
                rows[name].append(r)
            plot_strip(rows[name], args.seeds, rows[name][0].mixture, f"{MODELS[name]} on {dataset}",
                       out / f"{dataset}_{name}.png")
        summary["datasets"][dataset] = {name: [{k: v for k, v in vars(r).items() if k not in ("snapshots", "mixture")}
                                               for r in results] for name, results in rows.items()}
        print("\n" + table(dataset, summary["datasets"][dataset], args.seeds, note) + "\n", flush=True)
    (out / "mode_regularizers.json").write_text(json.dumps(summary, indent=1))
    print(f"plots and JSON in {out}")
    return summary


if __name__ == "__main__":
    run(parse_args())
