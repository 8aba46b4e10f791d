"""Encoder models on MNIST: how much their codes E(x) say about the digit, beside the floors and the papers.

Usage::

    python benchmarks/encoders.py                         # every encoder model, the experiments' 20 epochs each
    python benchmarks/encoders.py --epochs 5 vaegan=1     # the recorded table (docs/sections/encoders.md)
    python benchmarks/encoders.py --epochs 5 --models bigan ali
    python benchmarks/encoders.py --quick                 # 1 epoch of 50 batches: checks the pipeline

Trains ``experiment=<model>_mnist`` for each model (through ``lit_gans.training.train``, as ``python train.py``
would) with the `EncoderMetrics` callback, and prints one table: 1-NN, 5-NN and linear-probe accuracy of E(x) (fit on
the first 5,000 training images, scored on the 10,000 test images), reconstruction MSE (test images, [-1, 1]),
MNIST-FID of G (5,000 samples), and CPU minutes (this process, user + system); then the floors computed by the same
code, raw pixels and each model's freshly initialised encoder, and the published numbers. Our fit set is 5,000 images,
the paper's 60,000: compare our rows with our floors, and the published rows with the published floors.
Run folders go to ``benchmarks/out/encoders/``.
"""

import argparse
import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_numbers import BIGAN_MNIST  # noqa: E402
from wgan_common import ROOT, out_dir, run_experiment, set_threads  # noqa: E402

MODELS = ("bigan", "ali", "mrgan", "mdgan", "vae", "vaegan", "alae")
SCORES = ("knn1_accuracy", "knn5_accuracy", "linear_probe_accuracy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), help=f"any of {MODELS}")
    parser.add_argument("--epochs", nargs="+", default=[], metavar="N|MODEL=N",
                        help="epochs for every model (default: the experiment's, 20; quick: 1), and per model: "
                             "--epochs 5 vaegan=0.15 (below 1: that share of one epoch's batches)")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/out/encoders")
    parser.add_argument("--quick", action="store_true", help="1 epoch of 50 batches, FID on 1,000 samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def epochs_per_model(items: list[str], models: list[str], quick: bool) -> dict[str, float | None]:
    """``["5", "vaegan=0.15"]`` -> {model: epochs}; None keeps the experiment's own count."""
    default: float | None = 1 if quick else None
    own: dict[str, float] = {}
    for item in items:
        name, _, value = item.rpartition("=")
        if name and name not in MODELS:
            raise ValueError(f"--epochs {item}: unknown model {name!r}; models: {' '.join(MODELS)}")
        if name:
            own[name] = float(value)
        else:
            default = float(value)
    return {m: own.get(m, default) for m in models}


def epoch_overrides(epochs: float | None) -> list[str]:
    """Hydra overrides for a whole number of epochs, or for a share of one (VAE-GAN's 28 px nets cost ~7 CPU s per
    batch here: a full epoch is hours)."""
    if epochs is None:
        return []
    if epochs < 1:
        return ["trainer.max_epochs=1", f"trainer.limit_train_batches={epochs}"]
    if epochs != int(epochs):
        raise ValueError(f"--epochs {epochs}: a whole number of epochs, or a share of one below 1")
    return [f"trainer.max_epochs={int(epochs)}"]


def run(args: argparse.Namespace) -> dict:
    set_threads(args.threads)
    out = args.out or out_dir("encoders" + ("_quick" if args.quick else ""))
    out.mkdir(parents=True, exist_ok=True)
    epochs_of = epochs_per_model(args.epochs, args.models, args.quick)
    extra = [f"seed={args.seed}", "callbacks.samples.every_n_batches=0"]
    if args.quick:
        extra += ["trainer.limit_train_batches=50", "metrics.num_samples=1000", "metrics.num_real=1000"]
    rows = []
    for model in args.models:
        experiment = f"{model}_mnist"
        if not (ROOT / "conf" / "experiment" / f"{experiment}.yaml").exists():
            print(f"[{model}] skipped: no conf/experiment/{experiment}.yaml", flush=True)
            continue
        start = cpu_seconds()
        epochs = epochs_of[model]
        one = run_experiment(model, experiment, extra + epoch_overrides(epochs), out)
        m = {k.removeprefix("val/"): float(v) for k, v in one.metrics.items() if k.startswith("val/")}
        rows.append({"model": model, "epochs": f"{epochs:g}" if epochs else "experiment's", "cpu_minutes": (cpu_seconds() - start) / 60,
                     "wall_minutes": one.seconds / 60, **m})
    result = {"settings": "experiment=<model>_mnist" + (", 50 batches per epoch" if args.quick else "")
                          + f", seed {args.seed}", "rows": rows}
    (out / "encoders.json").write_text(json.dumps(result, indent=1))
    print(table(result))
    return result


def pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def table(result: dict) -> str:
    lines = [f"MNIST encoders ({result['settings']}); accuracies in %, k-NN / probe fit on 5,000 training images",
             "", "| codes | epochs | 1-NN | 5-NN | linear probe | recon. MSE | MNIST-FID | CPU min |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['model']} E(x) | {r.get('epochs', '')} | {pct(r.get('knn1_accuracy'))} | {pct(r.get('knn5_accuracy'))} | "
                     f"{pct(r.get('linear_probe_accuracy'))} | {r.get('reconstruction_mse', float('nan')):.3f} | "
                     f"{r.get('fid', float('nan')):.1f} | {r['cpu_minutes']:.1f} |")
    for r in result["rows"]:  # each model's own random-encoder floor (its architecture, seeded)
        lines.append(f"| {r['model']} random encoder (floor) | | {pct(r.get('knn1_accuracy_random_encoder'))} | "
                     f"{pct(r.get('knn5_accuracy_random_encoder'))} | {pct(r.get('linear_probe_accuracy_random_encoder'))} | | | | |")
    if result["rows"]:
        r = result["rows"][0]
        lines.append(f"| raw pixels (floor) | | {pct(r.get('knn1_accuracy_pixels'))} | {pct(r.get('knn5_accuracy_pixels'))} | "
                     f"{pct(r.get('linear_probe_accuracy_pixels'))} | | | | |")
    lines += ["", "Published (BiGAN, permutation-invariant MNIST, 60,000-image fit set):"]
    lines += [f"- {name}: {value} % ({source})" for name, (value, source) in BIGAN_MNIST.items()]
    lines += ["", "ALAE's MNIST representation table: not found in a readable copy (the published tables say so); "
              "VAE, VAE-GAN, MRGAN and MDGAN publish no MNIST representation numbers."]
    return "\n".join(lines)


def main() -> None:
    run(parse_args())


if __name__ == "__main__":
    main()
