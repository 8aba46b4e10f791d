"""InfoGAN on MNIST (Chen et al. 2016, Section 7.2): the categorical code as a digit classifier (paper: 5 % error).

Usage::

    python benchmarks/infogan_mnist.py                       # experiment=infogan_mnist_authors_code, seed 2, 7 epochs
    python benchmarks/infogan_mnist.py --experiment infogan_mnist_mbd --seeds 0 1 2 3 4   # >= 95 % on 4 of 5 seeds
    python benchmarks/infogan_mnist.py --seeds 0 1 2         # the spread over seeds (≈ 7 CPU minutes per epoch each)
    python benchmarks/infogan_mnist.py --experiment infogan_mnist --epochs 5   # the paper's Table 1 setting
    python benchmarks/infogan_mnist.py --quick               # 1 epoch of 40 batches: checks the pipeline

Trains the experiment through ``lit_gans.training.train`` (as ``python train.py experiment=...`` would) and
reads ``val/code_accuracy`` (images made with each categorical value, classified by our MNIST classifier,
best one-to-one code-to-digit matching), ``val/fid`` (MNIST-FID) and ``train/mutual_info`` (L_I, whose limit
is H(c) = ln 10 ≈ 2.303) after every epoch. Writes run folders under ``benchmarks/out/infogan_mnist/`` and
copies the last traversal grid (rows: categorical code, columns: a continuous code from −2 to 2) as
``traversal_seed<seed>.png``.
"""

import argparse
import math
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_numbers import INFOGAN_MNIST_CODE_ACCURACY  # noqa: E402
from wgan_common import out_dir, run_experiment, set_threads  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="infogan_mnist_authors_code")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2], help="default: the experiment's seed 2")
    parser.add_argument("--epochs", type=int, default=None, help="default: the experiment's (7); quick 1")
    parser.add_argument("--quick", action="store_true", help="1 epoch of 40 batches, 1,000 samples per metric")
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


def per_epoch(values: tuple) -> list[float]:
    """The values logged at each validation (one per epoch)."""
    return [float(v) for v in values[1]]


def run(args: argparse.Namespace) -> dict:
    """Train each seed; return the per-epoch code accuracy, FID and L_I (JSON-able)."""
    set_threads(args.threads)
    out = out_dir("infogan_mnist" + ("_quick" if args.quick else ""))
    epochs = args.epochs or (1 if args.quick else None)
    extra = [f"trainer.max_epochs={epochs}"] if epochs else []
    if args.quick:
        extra += ["trainer.limit_train_batches=40", "trainer.log_every_n_steps=10", "metrics.num_samples=1000",
                  "metrics.samples_per_condition=100", "metrics.num_real=1000"]
    seeds, figures = [], []
    for seed in args.seeds:
        name = f"seed{seed}"
        one = run_experiment(name, args.experiment, [f"seed={seed}", "callbacks.samples.every_n_batches=0", *extra], out)
        accuracy = [100 * a for a in per_epoch(one.logs["val/code_accuracy"])]
        grids = sorted((one.dir / "samples").glob("step_*.png"))  # zero-padded step numbers: the last is the end
        if grids:
            figures.append(str(shutil.copyfile(grids[-1], out / f"traversal_{name}.png")))
        mutual_info = one.logs.get("train/mutual_info")
        seeds.append({"seed": seed, "code_accuracy": accuracy, "fid": per_epoch(one.logs["val/fid"]),
                      "mutual_info_last": float(mutual_info[1][-1]) if mutual_info else math.nan,
                      "seconds": one.seconds})
        print(f"[{name}] val/code_accuracy per epoch (%): {[round(a, 1) for a in accuracy]}", flush=True)
    paper, source = INFOGAN_MNIST_CODE_ACCURACY
    length = f"{epochs} epoch(s)" if epochs else "the experiment's epochs"
    return {"settings": f"experiment={args.experiment}, {length}" + (", 40 batches per epoch" if args.quick else ""),
            "paper": {"code_accuracy": paper, "source": source}, "seeds": seeds, "figures": figures}


def main() -> None:
    run(parse_args())


if __name__ == "__main__":
    main()
