"""Per-batch wall time of the training step under each speed option, as ratios to the baseline: DCGAN and WGAN-GP
on MNIST, CPU.

Usage::

    python benchmarks/step_options.py                                   # every option, both models
    python benchmarks/step_options.py --models dcgan --options baseline reuse_fake compile --rounds 6
    python benchmarks/step_options.py --models dcgan --options baseline reuse_fake --rounds 1 --steps 2 \\
        --warmup 1 --warmup-rounds 0 --batch-size 8                    # the smoke test's configuration

What is compared. For each model (``model=dcgan data=mnist``, ``model=wgan_gp data=mnist``: the configs
``python train.py`` runs, minus callbacks and loggers) and each option, one ``AdversarialModule`` built from the
composed config with the option's overrides, all from the same initial weights (the same seed), fitted by a bare
``L.Trainer`` (no logger, checkpointing, progress bar, model summary or validation), exactly as in
``benchmarks/overhead.py``, whose ``Timing``/``BatchTimer`` this script reuses. The options (``OPTIONS``):

- ``baseline``: the config as it is (torch's thread count as given by ``--threads``, else as is);
- ``reuse_fake``: ``model.reuse_fake=true``: one G forward per batch with a G step (WGAN-GP: one batch in n_critic);
  ``fresh_fake``: ``model.reuse_fake=false`` (DCGAN's default reuses, so this is its comparison);
- ``compile``: ``model.compile=true`` (torch.compile of G and D in place; WGAN-GP: G only, its critic's gradient
  penalty is a double backward). Compiling happens in the first (warm-up) batches of the first round: keep
  ``--warmup-rounds 1`` so that no timed batch pays for it;
- ``channels_last``: ``model.channels_last=true``;
- ``fused_adam`` / ``foreach_adam``: ``model.optimizer_{g,d}.fused=true`` / ``.foreach=true`` (the baseline Adam on
  CPU is the single-tensor loop);
- ``threads_1`` / ``threads_2``: the baseline with ``torch.set_num_threads(1)`` / ``(2)``.

How it is timed. Each round runs every option once, the order reversed every other round (ABBA: slow drift such as
another process starting cancels out); each run is one ``fit`` of ``--warmup`` untimed batches then ``--steps``
timed ones (``limit_train_batches``), each timed batch stamped at its start and end by ``BatchTimer``. A batch is one
critic step plus, every n_critic-th batch, one generator step: for WGAN-GP (n_critic = 5) keep ``--warmup`` and
``--steps`` multiples of 5 so that every run times the same mix. The table reports each option's pooled throughput
over the rounds as a ratio to the baseline's (ratio < 1: faster), its median per-batch time, and its CPU utilisation
(process CPU seconds / wall seconds; well below the thread count means other processes took the CPU: "contended").
The load average is printed at the start and the end. Per-round ratios (option vs the baseline of the same round)
are printed too, and their median and range show how much the machine's load moved the numbers.
"""

import argparse
import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from omegaconf import DictConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import CLEAN_UTILISATION, BatchTimer, Timing, load_average, quiet_lightning  # noqa: E402

from lit_gans.models import AdversarialModule  # noqa: E402
from lit_gans.training import instantiate_datamodule  # noqa: E402

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
MODELS = ("dcgan", "wgan_gp")


@dataclass(frozen=True)
class Option:
    """Config overrides (``++``: set whether or not the model yaml lists the key) and a torch thread count."""

    overrides: tuple[str, ...] = ()
    threads: int | None = None  # None: the baseline's


OPTIONS = {
    "baseline": Option(),
    "reuse_fake": Option(("++model.reuse_fake=true",)),
    "fresh_fake": Option(("++model.reuse_fake=false",)),  # DCGAN's default reuses: this is the paper's two G forwards
    "compile": Option(("++model.compile=true",)),
    "channels_last": Option(("++model.channels_last=true",)),
    "fused_adam": Option(("++model.optimizer_g.fused=true", "++model.optimizer_d.fused=true")),
    "foreach_adam": Option(("++model.optimizer_g.foreach=true", "++model.optimizer_d.foreach=true")),
    "threads_1": Option(threads=1),
    "threads_2": Option(threads=2),
}


def compose_config(model: str, overrides: Sequence[str], batch_size: int | None, data_root: str | None) -> DictConfig:
    extra = [f"batch_size={batch_size}"] if batch_size else []
    extra += [f"data.root={data_root}"] if data_root else []
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose("train", overrides=[f"model={model}", "data=mnist", "callbacks=none", "logger=[]",
                                           "metrics=none", *extra, *overrides])


def fit_timed(model: AdversarialModule, datamodule: L.LightningDataModule, warmup: int, steps: int,
              threads: int) -> Timing:
    """One ``fit`` of ``warmup + steps`` batches at ``threads`` torch threads; times the last ``steps``."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        timer = BatchTimer(warmup)
        trainer = L.Trainer(accelerator="cpu", devices=1, max_epochs=1, limit_train_batches=warmup + steps,
                            limit_val_batches=0, num_sanity_val_steps=0, callbacks=[timer], logger=False,
                            enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(model, datamodule=datamodule)
    finally:
        torch.set_num_threads(previous)
    if len(timer.timing.ends) != steps:
        raise RuntimeError(f"expected {steps} timed batches, got {len(timer.timing.ends)} (a shorter epoch?)")
    return timer.timing


def throughput(timings: list[Timing]) -> float:
    return sum(len(t.starts) for t in timings) / sum(t.wall for t in timings)


def median_ms(timings: list[Timing]) -> float:
    return 1e3 * statistics.median(x for t in timings for x in t.batch_times)


def bench_model(name: str, options: Sequence[str], args: argparse.Namespace, threads: int) -> dict[str, float]:
    """Every option of ``options`` on model ``name``, ABBA-interleaved; prints the table, returns the ratios."""
    base_cfg = compose_config(name, (), args.batch_size, args.data_root)
    datamodule = instantiate_datamodule(base_cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    models: dict[str, AdversarialModule] = {}
    for option in options:
        torch.manual_seed(args.seed)  # the same initial weights for every option
        cfg = compose_config(name, OPTIONS[option].overrides, args.batch_size, args.data_root)
        models[option] = instantiate(cfg.model, _recursive_=False)
    print(f"\n{name} on MNIST: batch {base_cfg.data.batch_size}, n_critic {base_cfg.model.n_critic}; "
          f"load average {load_average()}")
    timings: dict[str, list[Timing]] = {o: [] for o in options}
    per_round: dict[str, list[float]] = {o: [] for o in options}
    for r in range(-args.warmup_rounds, args.rounds):
        order = list(options) if r % 2 == 0 else list(reversed(options))
        this_round = {}
        for option in order:
            torch.manual_seed(args.seed + 1 + r)  # the same batches and z for every option in a round
            option_threads = OPTIONS[option].threads or threads
            this_round[option] = fit_timed(models[option], datamodule, args.warmup, args.steps, option_threads)
        label = "warm-up" if r < 0 else f"round {r}"
        cells = "  ".join(f"{o} {median_ms([t]):.1f} ms" for o, t in this_round.items())
        print(f"  {label} (first: {order[0]}): {cells}", flush=True)
        if r >= 0:
            for option, timing in this_round.items():
                timings[option].append(timing)
                per_round[option].append(this_round["baseline"].steps_per_s / timing.steps_per_s
                                         if "baseline" in this_round else float("nan"))
    print(f"  {'option':<14} {'time ratio':>10} {'per-round median (range)':>26} {'median ms':>10} "
          f"{'batches/s':>10} {'cpu util':>9}")
    ratios = {}
    base = throughput(timings["baseline"]) if "baseline" in timings else float("nan")
    for option in options:
        t = timings[option]
        ratio = base / throughput(t)  # wall time per batch relative to the baseline's
        ratios[option] = ratio
        util = statistics.median(x.cpu_utilisation for x in t)
        option_threads = OPTIONS[option].threads or threads
        flag = "  contended" if util < CLEAN_UTILISATION * option_threads else ""
        pr = per_round[option]
        print(f"  {option:<14} {ratio:>10.3f} {statistics.median(pr):>12.3f} ({min(pr):.3f}-{max(pr):.3f})"
              f" {median_ms(t):>10.1f} {throughput(t):>10.2f} {util:>9.2f}{flag}")
    return ratios


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--steps", type=int, default=20, help="timed batches per option per round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed batches per option per round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--warmup-rounds", type=int, default=1, help="untimed rounds first (compile happens there)")
    parser.add_argument("--threads", type=int, default=None, help="the baseline's torch threads (default: as is)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: each model config's")
    parser.add_argument("--data-root", default=None, help="folder holding MNIST/raw (default: config)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1 or args.warmup < 1 or args.warmup_rounds < 0:
        parser.error("need --steps, --rounds, --warmup >= 1 and --warmup-rounds >= 0")
    if "baseline" not in args.options:
        args.options = ["baseline", *args.options]
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    args = parse_args(argv)
    quiet_lightning()
    threads = args.threads or torch.get_num_threads()
    print(f"Step options, CPU: torch {torch.__version__}, lightning {L.__version__}, baseline torch threads {threads}, "
          f"cpus {os.cpu_count()}, load average {load_average()}")
    print(f"{args.rounds} rounds (+{args.warmup_rounds} warm-up) x {args.steps} timed batches per option "
          f"(+{args.warmup} untimed); time ratio = the option's wall time per batch / the baseline's (< 1: faster)")
    results = {name: bench_model(name, args.options, args, threads) for name in args.models}
    print(f"\nload average at the end: {load_average()}")
    return results


if __name__ == "__main__":
    main()
