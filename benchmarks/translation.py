"""Image-to-image translation reproductions (issue 18), one table per part.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/translation.py                  # every part, the default budget
    OMP_NUM_THREADS=1 python benchmarks/translation.py --part ablation --batches 600
    OMP_NUM_THREADS=1 python benchmarks/translation.py --part unpaired --batches 300 --val-every 150 --val-pairs 1024
    OMP_NUM_THREADS=1 python benchmarks/translation.py --part toy       # DiscoGAN's toy figure (seconds-scale runs)
    python benchmarks/translation.py --quick                            # 20 batches per run: checks the pipeline

Part 1, ``pix2pix_ablation`` (pix2pix's Table 1 idea, Isola et al. 2017): ``experiment=pix2pix_mnist_edges`` (Canny
edges -> MNIST digits, 32 px, batch 64) trained for ``--batches`` batches with each objective — L1 only
(``model.lambda_gan=0``), cGAN only (``model.lambda_l1=0``), L1 + cGAN (λ = 100, the paper's) — plus the untrained
generator as the floor and the targets themselves as the ceiling. Each run is scored on ``--val-pairs`` MNIST test
pairs (``data.num_val_samples``: a subset drawn with ``data.seed + 1``, the same for every run), G in the paper's
test mode (dropout on, batch statistics of the 64 pairs at hand):
  * the model's validation metrics: ``val/l1`` (mean |G(x) − y|, [-1, 1] units), ``val/psnr`` (dB, per image,
    averaged), ``val/ssim``, ``val/digit_accuracy`` (our MNIST classifier on G(edges) against the kept labels);
  * MNIST-FID of the translations against the same pairs' targets (the features of our MNIST classifier, the
    ``metrics=mnist`` FID of the other benchmarks: only comparable with runs scored by the same weights);
  * CPU minutes (this process, user + system, for training and validation).
Every run goes through ``lit_gans.training.train`` exactly as ``python train.py experiment=... <overrides>`` would
(the printed command line). Run folders, the JSON of the results and the sample grids go to
``benchmarks/out/translation/``.

Part 2, ``unpaired`` (the seeds' point: without a cycle the content is lost): ``experiment=cyclegan_mnist_mnistm``
(MNIST <-> MNIST-M, 32 px, batch 16) with ``model=translation_gan | discogan | dualgan | cyclegan``, every row on the
same networks (the experiment's small ResNet generators and 2-layer PatchGANs, instance norm), so the rows differ by
their objective, optimiser and schedule (each model's yaml); plus the untrained pair as the floor. Scored by the
models' own validation metrics in both directions: ``val/digit_preservation_ab|ba`` and FID in the target domain
(``val/fid_ab_mnist_grey``, ``val/fid_ba_mnist``: `lit_gans.metrics.domain_fid`).

Part 3, ``toy`` (DiscoGAN's Figure 3, Kim et al. 2017): `translation_toy.py`.

The parts are a registry (`PARTS`, ``--part``); the image tables are data (`TABLES`): a table names its rows (a
label, an experiment, overrides), its directions and how its runs are scored; rows whose experiment does not exist
are skipped with a note.
"""

import argparse
import json
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import ROOT, compose_experiment, out_dir, run_experiment, set_threads

from lit_gans.metrics import MNISTExtractor, to_uint8
from lit_gans.metrics.scores import ImageScores
from lit_gans.models.pix2pix import center_crop
from lit_gans.translation import translate_batches


@dataclass(frozen=True)
class Row:
    """One training run of a table: ``python train.py experiment=<experiment> <overrides>``; ``kind`` "untrained"
    scores the freshly initialised model instead (the floor), "truth" the targets themselves (the ceiling)."""

    label: str
    experiment: str
    overrides: tuple[str, ...] = ()
    kind: str = "trained"  # | "untrained" (the floor) | "truth" (the targets scored as if translations: the ceiling)


@dataclass(frozen=True)
class Table:
    """A table of the benchmark: its rows, the directions its models are scored in, and its columns (metric key,
    header, format; keys of the scores dict that `score_run` returns)."""

    title: str
    rows: tuple[Row, ...]
    columns: tuple[tuple[str, str, str], ...]
    directions: tuple[str, ...] = ("AtoB",)
    note: str = ""
    extra: tuple[str, ...] = field(default_factory=tuple)  # overrides every row of the table gets
    batch_size: int = 64  # the experiment's batch (validation batches = val pairs / batch size)
    scorer: str = "score_run"  # the function scoring a trained or untrained row (`score_truth` for "truth" rows)


PAIRED_COLUMNS = (("l1", "val L1", "{:.4f}"), ("psnr", "PSNR (dB)", "{:.2f}"), ("ssim", "SSIM", "{:.3f}"),
                  ("fid", "MNIST-FID", "{:.2f}"), ("digit_accuracy", "digit acc.", "{:.1%}"),
                  ("cpu_minutes", "CPU min", "{:.1f}"))

UNPAIRED_COLUMNS = (("preservation", "digit pres.", "{:.1%}"), ("fid", "FID", "{:.2f}"),
                    ("cpu_minutes", "CPU min", "{:.1f}"))
UNPAIRED_NETS = ("net/generator@model.generator=resnet_small", "net/discriminator@model.discriminator=patchgan",
                 "model.discriminator.ndf=32", "model.discriminator.n_layers=2", "model.generator.norm=instance",
                 "model.discriminator.norm=instance")
# DiscoGAN and DualGAN have no schedule (their papers: constant rates); the experiment's decay keys would land on null
NO_SCHEDULE = ("model.scheduler_g=null", "model.scheduler_d=null")

TABLES: dict[str, Table] = {
    "pix2pix_ablation": Table(
        title="pix2pix loss ablation on mnist_edges (Table 1's idea, Isola et al. 2017)",
        rows=(Row("untrained G (floor)", "pix2pix_mnist_edges", kind="untrained"),
              Row("the targets (ceiling)", "pix2pix_mnist_edges", kind="truth"),
              Row("L1 only", "pix2pix_mnist_edges", ("model.lambda_gan=0",)),
              Row("cGAN only", "pix2pix_mnist_edges", ("model.lambda_l1=0",)),
              Row("L1 + cGAN (λ = 100)", "pix2pix_mnist_edges")),
        columns=PAIRED_COLUMNS,
        note="The paper's own ablation is on Cityscapes labels -> photos, scored by an FCN (the published tables: "
             "per-pixel accuracy L1 0.42, cGAN 0.57, L1 + cGAN 0.66, ground truth 0.80)."),
    "unpaired": Table(
        title="Unpaired MNIST <-> MNIST-M (mnist_mnistm), both directions: no cycle vs DiscoGAN vs DualGAN vs CycleGAN",
        rows=(Row("untrained G, F (floor)", "cyclegan_mnist_mnistm", kind="untrained"),
              Row("no cycle (translation_gan)", "cyclegan_mnist_mnistm", ("model=translation_gan",)),
              Row("DiscoGAN", "cyclegan_mnist_mnistm", ("model=discogan", *NO_SCHEDULE)),
              Row("DualGAN", "cyclegan_mnist_mnistm", ("model=dualgan", *NO_SCHEDULE)),
              Row("CycleGAN", "cyclegan_mnist_mnistm")),
        columns=UNPAIRED_COLUMNS,
        directions=("AtoB", "BtoA"),
        # one network pair for every row (the experiment's: small ResNet G, PatchGAN ndf 32 / 2 layers, batch 16):
        # the rows differ by their objective only (losses, weights, optimisers, n_critic, pool: each model's yaml)
        extra=UNPAIRED_NETS,
        batch_size=16,
        scorer="score_unpaired",
        note="AtoB = MNIST -> MNIST-M, BtoA = MNIST-M -> MNIST. Digit preservation: our MNIST classifier on the "
             "translations (MNIST-M read as stroke maps, `digit_view`; its ceiling on real MNIST-M is about 83 %) "
             "against the source digits' labels; chance 10 %. FID in the target domain on our MNIST classifier's "
             "features: AtoB of the grey conversion of the MNIST-M images (`val/fid_ab_mnist_grey`), BtoA of the "
             "digits (`val/fid_ba_mnist`); translations vs the real target images of the same validation split."),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", nargs="+", default=list(PARTS), choices=list(PARTS),
                        help="which reproductions (default all): " + "; ".join(f"{k}: {v}" for k, v in PART_HELP.items()))
    parser.add_argument("--batches", type=int, default=600, help="training batches per run (quick: 20)")
    parser.add_argument("--val-every", type=int, default=300, help="validate every this many batches (quick: 10)")
    parser.add_argument("--val-pairs", type=int, default=2560, help="test pairs each run is scored on (quick: 256)")
    parser.add_argument("--quick", action="store_true", help="20 batches per run, 256 test pairs, a short toy run")
    parser.add_argument("--rows", nargs="+", default=None,
                        help="only the table rows whose label contains one of these words (e.g. --rows CycleGAN DualGAN)")
    parser.add_argument("--toy-steps", type=int, default=1500, help="toy part: training batches per model (quick: 200)")
    parser.add_argument("--toy-seeds", type=int, nargs="+", default=[0, 1, 2], help="toy part: seeds (quick: the first)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.val_every, args.val_pairs, args.toy_steps, args.toy_seeds = 20, 10, 256, 200, args.toy_seeds[:1]
    return args


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@torch.no_grad()
def mnist_fid(outputs: torch.Tensor, references: torch.Tensor) -> float:
    """FID on our MNIST classifier's 128-d features between translations and reference digits, both (N, 1, 32, 32)
    (or 28) in [-1, 1]: the central 28x28 (the built-in 32 px digits are 28 px ones padded by 2)."""
    scores = ImageScores(MNISTExtractor(), fid=True, kid=False, inception_score=False)
    for images, real in ((references, True), (outputs, False)):
        for part in center_crop(images, 28).split(500):
            scores.update(to_uint8(part), real=real)
    return scores.compute()["fid"]


def score_run(model: Any, datamodule: Any, logged: dict[str, float], table: Table, args: argparse.Namespace,
              direction: str) -> dict[str, float]:
    """The model's logged validation metrics plus MNIST-FID of its translations of the validation pairs."""
    scores = {k.removeprefix("val/"): float(v) for k, v in logged.items() if k.startswith("val/")}
    model.eval()
    arrays = translate_batches(model, datamodule.val_dataloader(), direction, seed=0, limit=args.val_pairs)
    references = arrays.get("targets")
    if references is not None:
        scores["fid"] = mnist_fid(arrays["outputs"], references)
    return scores


def score_unpaired(model: Any, datamodule: Any, logged: dict[str, float], table: Table, args: argparse.Namespace,
                   direction: str) -> dict[str, float]:
    """An unpaired model's own validation metrics for one direction: ``val/digit_preservation_<ab|ba>`` and FID in the
    target domain, ``val/fid_<ab|ba>_<features>`` (`lit_gans.metrics.domain_fid`; the feature set kept in
    ``fid_features``)."""
    key = "ab" if direction == "AtoB" else "ba"
    fid = [k for k in logged if k.startswith(f"val/fid_{key}_")]
    scores = {"preservation": float(logged[f"val/digit_preservation_{key}"])}
    if fid:
        scores["fid"] = float(logged[fid[0]])
        scores["fid_features"] = fid[0].removeprefix(f"val/fid_{key}_")
    return scores


@torch.no_grad()
def score_truth(model: Any, datamodule: Any, logged: dict[str, float], table: Table, args: argparse.Namespace,
                direction: str) -> dict[str, float]:
    """The ceiling: the targets scored as translations (L1 0, PSNR inf, SSIM 1, FID 0) and our classifier's accuracy
    on the real target digits, the best digit accuracy a translation can be expected to reach."""
    from lit_gans.metrics import load_mnist_classifier

    parts = [model.translation_batch(batch, direction) for batch in datamodule.val_dataloader()]
    targets = torch.cat([p.targets for p in parts])[: args.val_pairs]
    labels = torch.cat([p.labels for p in parts])[: args.val_pairs]
    classifier = load_mnist_classifier()
    correct = sum(int((classifier(center_crop(x, 28)).argmax(1) == y).sum()) for x, y in zip(targets.split(500),
                                                                                             labels.split(500)))
    return {"l1": 0.0, "psnr": float("inf"), "ssim": 1.0, "fid": 0.0,
            "digit_accuracy": correct / len(labels)}


SCORERS = {"score_run": score_run, "score_unpaired": score_unpaired}


def budget(args: argparse.Namespace, batch_size: int = 64) -> list[str]:
    """The overrides of every run: the training budget, validation cadence and size, the seed, no sample grids but
    the last (rendered at the end of training)."""
    val_batches = -(-args.val_pairs // batch_size)  # the experiment's batch
    return [f"seed={args.seed}", "trainer.max_epochs=1", f"trainer.limit_train_batches={args.batches}",
            f"trainer.val_check_interval={min(args.val_every, args.batches)}",
            f"trainer.limit_val_batches={val_batches}", f"data.num_val_samples={val_batches * batch_size}",
            "callbacks.samples.every_n_batches=0"]


def run_row(row: Row, table: Table, args: argparse.Namespace, out: Path) -> dict[str, Any] | None:
    if not (ROOT / "conf" / "experiment" / f"{row.experiment}.yaml").exists():
        print(f"[{row.label}] skipped: no conf/experiment/{row.experiment}.yaml", flush=True)
        return None
    overrides = [*budget(args, table.batch_size), *table.extra, *row.overrides]
    name = row.label.split(" (")[0].replace(" ", "_").replace("+", "plus")
    start = cpu_seconds()
    result: dict[str, Any] = {"label": row.label, "kind": row.kind}
    if row.kind == "trained":
        run = run_experiment(name, row.experiment, overrides, out)
        model, datamodule, logged = run.objects["model"], run.objects["datamodule"], run.metrics
        result["command"] = f"python train.py experiment={row.experiment} " + " ".join(overrides)
        result["history"] = {k: [[int(x), float(y)] for x, y in zip(*run.logs[k])]
                             for k in run.logs if k.startswith("val/")}
    else:  # the experiment's model as initialised under the seed, validated by a bare Trainer
        model, datamodule, logged = untrained(row.experiment, overrides, out / name)
    for direction in table.directions:
        scorer = score_truth if row.kind == "truth" else SCORERS[table.scorer]
        scores = scorer(model, datamodule, logged, table, args, direction)
        suffix = "" if len(table.directions) == 1 else f"_{direction}"
        result.update({f"{k}{suffix}": v for k, v in scores.items()})
    result["cpu_minutes"] = (cpu_seconds() - start) / 60
    print(f"[{row.label}] {json.dumps({k: v for k, v in result.items() if k != 'command'})}", flush=True)
    return result


def untrained(experiment: str, overrides: list[str], run_dir: Path) -> tuple[Any, Any, dict[str, float]]:
    import lightning as L
    from hydra.utils import instantiate

    from lit_gans.training import instantiate_datamodule

    cfg = compose_experiment(experiment, overrides, run_dir)
    L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate_datamodule(cfg.data)
    model = instantiate(cfg.model, _recursive_=False)
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=cfg.trainer.limit_val_batches)
    datamodule.prepare_data()
    [logged] = trainer.validate(model, datamodule=datamodule, verbose=False)
    return model, datamodule, {k: float(v) for k, v in logged.items()}


def markdown(table: Table, rows: list[dict[str, Any]]) -> str:
    keys: list[tuple[str, str, str]] = []
    for key, header, fmt in table.columns:
        if len(table.directions) == 1 or key == "cpu_minutes":
            keys.append((key, header, fmt))
        else:
            keys += [(f"{key}_{d}", f"{header} {d}", fmt) for d in table.directions]
    lines = [f"| objective | {' | '.join(h for _, h, _ in keys)} |", "|---" * (len(keys) + 1) + "|"]
    for row in rows:
        cells = [fmt.format(row[k]) if isinstance(row.get(k), float) else "" for k, _, fmt in keys]
        lines.append(f"| {row['label']} | {' | '.join(cells)} |")
    return "\n".join(lines)


def run_table(name: str, args: argparse.Namespace, out: Path, results: dict[str, Any],
              report: Callable[[str], None]) -> None:
    table = TABLES[name]
    chosen = [row for row in table.rows if not args.rows or any(w.lower() in row.label.lower() for w in args.rows)]
    rows = [r for r in (run_row(row, table, args, out / name) for row in chosen) if r is not None]
    results[name] = rows
    (out / "translation.json").write_text(json.dumps(results, indent=1))
    report(f"\n{table.title}: {args.batches} batches of {table.batch_size}, seed {args.seed}, scored on "
           f"{args.val_pairs} test images (drawn with data.seed + 1)\n\n{markdown(table, rows)}\n\n{table.note}")


def run_toy(args: argparse.Namespace, out: Path, results: dict[str, Any], report: Callable[[str], None]) -> None:
    from translation_toy import run_toy_part

    results["toy"] = run_toy_part(args, out / "toy", report)
    (out / "translation.json").write_text(json.dumps(results, indent=1))


# the reproductions, in the order: name -> (what it does, how it runs)
PART_HELP = {"ablation": "pix2pix's loss ablation on mnist_edges",
             "unpaired": "no cycle vs DiscoGAN vs DualGAN vs CycleGAN on mnist_mnistm, both directions",
             "toy": "DiscoGAN's Figure 3: 2-D mixture modes of A mapped to modes of B"}
PARTS: dict[str, Callable[..., None]] = {
    "ablation": lambda args, out, results, report: run_table("pix2pix_ablation", args, out, results, report),
    "unpaired": lambda args, out, results, report: run_table("unpaired", args, out, results, report),
    "toy": run_toy,
}


def run(args: argparse.Namespace, report: Callable[[str], None] = print) -> dict[str, Any]:
    set_threads(args.threads)
    out = out_dir("translation" + ("_quick" if args.quick else ""))
    results: dict[str, Any] = {"settings": vars(args)}
    for name in args.part:
        PARTS[name](args, out, results, report)
    return results


def main() -> None:
    run(parse_args())


if __name__ == "__main__":
    main()
