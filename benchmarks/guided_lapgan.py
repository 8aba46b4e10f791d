"""LAPGAN vs a DCGAN of about the same parameter count on MNIST: MNIST-FID/KID, classes covered, CPU minutes.

Usage::

    python benchmarks/guided_lapgan.py                          # 250 batches of 64 each, FID on 2,000 samples
    python benchmarks/guided_lapgan.py --lapgan-batches 938 --lapgan-samples 10000   # 1 epoch each, full FID
    python benchmarks/guided_lapgan.py --lapgan-quick           # 20 batches, 500 samples: checks the pipeline

Trains ``experiment=lapgan_mnist`` (7 -> 14 -> 28, conf/model/lapgan.yaml) and the same experiment with
``model=dcgan`` whose ``base_channels`` (G and D) is chosen so that its parameter count (G + D) is the closest to
LAPGAN's (all levels' G and D), both through ``lit_gans.training.train`` as ``python train.py`` would, with the same
seed, batch size, number of batches and Adam settings. The `GeneratorMetrics` callback scores each G once at the end
(our MNIST classifier's features: val/fid, val/kid, val/classes_covered of 10, val/class_kl to uniform). CPU minutes
are this process's user + system time during the run (training + scoring). Run folders go to
``benchmarks/out/guided_lapgan/``.

The paper has no MNIST numbers: its CIFAR-10 evaluation is a human study (LAPGAN's samples taken for real about 40 %
of the time vs about 10 % for a GAN's) and Parzen-window log-likelihoods. This benchmark says what the
same budget buys each model on MNIST; it reproduces no published number.
"""

import argparse
import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_numbers import LAPGAN_CIFAR10_HUMAN  # noqa: E402
from wgan_common import out_dir, run_experiment, set_threads  # noqa: E402

PUBLISHED = ("Denton et al. 2015 (CIFAR-10 human study, not MNIST): samples taken for real "
             + ", ".join(f"{name} ~{value:.0f} %" for name, (value, _) in LAPGAN_CIFAR10_HUMAN.items()))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's options (prefixed: benchmarks/guided.py gathers several methods' options in one parser)."""
    group = parser.add_argument_group("LAPGAN")
    group.add_argument("--lapgan-batches", type=int, default=250, help="training batches per model (938 = 1 epoch of 64)")
    group.add_argument("--lapgan-batch-size", type=int, default=64)
    group.add_argument("--lapgan-samples", type=int, default=2000, help="generated images per FID/KID/histogram")
    group.add_argument("--lapgan-models", nargs="+", default=["lapgan", "dcgan"], choices=["lapgan", "dcgan"])
    group.add_argument("--lapgan-seed", type=int, default=0)
    group.add_argument("--lapgan-threads", type=int, default=1)
    group.add_argument("--lapgan-quick", action="store_true", help="20 batches, 500 samples: checks the pipeline")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def parameter_counts(model) -> tuple[int, int]:  # noqa: ANN001 - any AdversarialModule
    """(G's, every other network's) parameters: LAPGAN's G is the whole chain, its D side every level's D."""
    g = sum(p.numel() for p in model.generator.parameters())
    return g, sum(p.numel() for p in model.parameters()) - g


def dcgan_channels_matching(target: int, data_overrides: list[str]) -> int:
    """The DCGAN ``base_channels`` (G and D alike) whose G + D parameter count is the closest to ``target``."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.utils import instantiate

    from wgan_common import ROOT

    best = None
    for channels in range(16, 257, 8):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            cfg = compose("train", overrides=["model=dcgan", *data_overrides, f"model.generator.base_channels={channels}",
                                              f"model.discriminator.base_channels={channels}"])
        total = sum(parameter_counts(instantiate(cfg.model, _recursive_=False)))
        if best is None or abs(total - target) < abs(best[1] - target):
            best = (channels, total)
        if total > target:
            break
    GlobalHydra.instance().clear()
    return best[0]


def lapgan_parameters() -> int:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.utils import instantiate

    from wgan_common import ROOT

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=lapgan_mnist"])
    total = sum(parameter_counts(instantiate(cfg.model, _recursive_=False)))
    GlobalHydra.instance().clear()
    return total


def run(args: argparse.Namespace) -> dict:
    set_threads(args.lapgan_threads)
    quick = args.lapgan_quick
    batches, samples = (20, 500) if quick else (args.lapgan_batches, args.lapgan_samples)
    out = out_dir("guided_lapgan" + ("_quick" if quick else ""))
    common = [f"seed={args.lapgan_seed}", f"batch_size={args.lapgan_batch_size}", "trainer.max_epochs=1",
              f"trainer.limit_train_batches={batches}", "trainer.limit_val_batches=1", f"metrics.num_samples={samples}",
              f"callbacks.samples.every_n_batches={batches}"]
    channels = dcgan_channels_matching(lapgan_parameters(), ["data=mnist"])
    # the DCGAN of the recorded table: the paper's setting (z ~ U[-1, 1], two G forwards per batch), not the tuned default
    variants = {"lapgan": [], "dcgan": ["experiment=dcgan_paper", f"model.generator.base_channels={channels}",
                                        f"model.discriminator.base_channels={channels}"]}
    rows = []
    for name in args.lapgan_models:
        start = cpu_seconds()
        one = run_experiment(name, "lapgan_mnist", variants[name] + common, out)
        g, d = parameter_counts(one.objects["model"])
        m = {k.removeprefix("val/"): float(v) for k, v in one.metrics.items() if k.startswith("val/")}
        rows.append({"model": name if name == "lapgan" else f"dcgan (base_channels={channels})", "params_g": g,
                     "params_d": d, "cpu_minutes": (cpu_seconds() - start) / 60, "wall_minutes": one.seconds / 60,
                     "run_dir": str(one.dir), **m})
    result = {"settings": f"MNIST, {batches} batches of {args.lapgan_batch_size} each, Adam 2e-4 (β1 0.5), seed "
                          f"{args.lapgan_seed}, scores on {samples} samples, {args.lapgan_threads} thread(s)",
              "rows": rows, "published": PUBLISHED}
    (out / "guided_lapgan.json").write_text(json.dumps(result, indent=1))
    return result


def table(result: dict) -> str:
    lines = [f"LAPGAN vs a DCGAN of about the same size ({result['settings']})", "",
             "| model | params G | params D | MNIST-FID | MNIST-KID | classes covered | class KL | CPU min |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['model']} | {r['params_g'] / 1e6:.2f} M | {r['params_d'] / 1e6:.2f} M | {r.get('fid', float('nan')):.1f} | "
                     f"{r.get('kid', float('nan')):.4f} | {r.get('classes_covered', float('nan')):.0f} | "
                     f"{r.get('class_kl', float('nan')):.3f} | {r['cpu_minutes']:.1f} |")
    lines += ["", f"Published: {result['published']}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print(table(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
