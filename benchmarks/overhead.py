"""Overhead of our LightningModule over a hand-written PyTorch loop: DCGAN on MNIST, CPU.

Usage::

    python benchmarks/overhead.py                      # ~2 min on 2 idle CPU cores
    python benchmarks/overhead.py --steps 30 --rounds 6 --threads 1
    python benchmarks/overhead.py --batch-size 2 --threads 1  # the fixed per-batch overhead

What is compared. "Ours" is ``lit_gans.models.DCGAN`` built from the real Hydra config
(``conf/train.yaml`` with ``model=dcgan data=mnist callbacks=none logger=[]``) and fitted by a
bare ``L.Trainer`` (no logger, checkpointing, progress bar or model summary). "Plain" is the
same algorithm written directly against PyTorch: the same DCGANGenerator/DCGANDiscriminator
for (1, 28, 28) with the same initial weights, Adam(2e-4, betas (0.5, 0.999)) per network, the
non-saturating loss, and per batch one D step on a fake sampled under ``no_grad`` (G frozen),
then one G step on a fresh fake with D's parameters frozen (what ``toggled_optimizer`` does);
z ~ U[-1, 1]^100. Both sides iterate the same ``TorchvisionDataModule`` train loader
(preloaded MNIST).

Same batches, same computation. Each side seeds torch identically at the start of a round, so
the loader shuffles identically and z is drawn identically. ``trainer.fit`` re-runs
``configure_optimizers``, so Lightning's Adam state restarts every round; the plain side
re-creates its optimizers every round as well. Both sides therefore compute the same updates,
and the script checks at the end that their weights still agree: a mismatch would mean the
two loops do not do the same work, and the timing comparison would be meaningless.

How it is timed. One process runs a warm-up round and then ``--rounds`` rounds; each round runs
both sides, alternating which goes first (ABBA order cancels slow drift such as thermal or
frequency changes). Within a round each side first runs ``--warmup`` untimed batches (for
Lightning these absorb the start of ``fit`` and the first, allocating Adam step), then
``--steps`` timed batches. Each timed batch is stamped at its start and end (Lightning: a
callback's ``on_train_batch_start`` / ``on_train_batch_end``; plain: around the step, after
fetching the batch). Throughput is timed batches / (end of the last - start of the first), so
it includes everything between batches too: data fetching, and for Lightning its loop and
logging bookkeeping. One batch is one generator iteration (n_critic = 1). The median per-batch
time covers the step itself only.

Contention. On a small machine another busy process inflates the numbers of whichever side
runs at that moment (with torch's threads on every core, one preempted thread stalls the others
at each parallel region: a 2-core box slows down 3-6x, not 2x). The header prints torch's
thread count and the load average, and each round prints the CPU utilisation of each side
(process CPU seconds / wall seconds): close to the thread count on an otherwise idle machine,
lower when the threads are starved. Rounds where either side is below 0.9 x threads are
flagged "contended", and the verdict then uses the clean rounds only. This is a heuristic (a
thread spinning at a barrier still burns CPU), so short bursts of other work can slip through.
Short rounds make it likelier that some rounds are clean; check ``top`` before trusting any
number. glibc's malloc returning activation buffers to the OS every step (~15k page faults
per batch) adds noise to both sides; ``GLIBC_TUNABLES`` (see benchmarks/README.md) removes it.
"""

import argparse
import logging
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import Tensor, nn

from lit_gans.data import TorchvisionDataModule
from lit_gans.models import AdversarialModule
from lit_gans.networks import DCGANDiscriminator, DCGANGenerator
from lit_gans.training import instantiate_datamodule

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
GOAL = 0.95  # ours / plain throughput
LATENT_DIM = 100
IMAGE_SHAPE = (1, 28, 28)
LR, BETAS = 2e-4, (0.5, 0.999)
OPTIMIZER_STEPS_PER_BATCH = 2  # trainer.max_steps counts D and G steps
CLEAN_UTILISATION = 0.9  # a round is contended below this fraction of the thread count


@dataclass
class Timing:
    """Start/end stamps (``perf_counter``) of the timed batches of one side in one round."""

    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    cpu_start: float = 0.0
    cpu_end: float = 0.0

    def start(self) -> None:
        if not self.starts:
            self.cpu_start = time.process_time()
        self.starts.append(time.perf_counter())

    def end(self) -> None:
        self.ends.append(time.perf_counter())
        self.cpu_end = time.process_time()

    @property
    def wall(self) -> float:
        return self.ends[-1] - self.starts[0]

    @property
    def steps_per_s(self) -> float:
        return len(self.starts) / self.wall

    @property
    def cpu_utilisation(self) -> float:
        return (self.cpu_end - self.cpu_start) / self.wall

    @property
    def batch_times(self) -> list[float]:
        return [e - s for s, e in zip(self.starts, self.ends, strict=True)]


class BatchTimer(L.Callback):
    """Stamps every batch from ``warmup`` on (``batch_idx`` restarts at 0 in each fit)."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.timing = Timing()

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if batch_idx >= self.warmup:
            self.timing.start()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if batch_idx >= self.warmup:
            self.timing.end()


def compose_config(batch_size: int, data_root: str | None) -> DictConfig:
    """The config ``python train.py model=dcgan data=mnist`` runs, minus callbacks and loggers."""
    # the paper setting: two G forwards per batch and z ~ U[-1, 1], what PlainDCGAN does (the default reuses one)
    overrides = ["experiment=dcgan_paper", "data=mnist", "callbacks=none", "logger=[]", f"batch_size={batch_size}"]
    if data_root is not None:
        overrides.append(f"data.root={data_root}")
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose("train", overrides=overrides)


def run_lightning(model: AdversarialModule, datamodule: TorchvisionDataModule, warmup: int, steps: int) -> Timing:
    """One ``fit`` of ``warmup + steps`` batches; times the last ``steps``."""
    timer = BatchTimer(warmup)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=OPTIMIZER_STEPS_PER_BATCH * (warmup + steps),
        callbacks=[timer],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=datamodule)
    if len(timer.timing.ends) != steps:
        raise RuntimeError(f"expected {steps} timed Lightning batches, got {len(timer.timing.ends)}")
    return timer.timing


class PlainDCGAN:
    """The hand-written loop: the skeleton's algorithm for DCGAN with the non-saturating loss."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module) -> None:
        self.generator, self.discriminator = generator.train(), discriminator.train()

    def sample_fake(self, n: int) -> Tensor:
        return self.generator(torch.rand(n, LATENT_DIM) * 2 - 1)

    def run(self, datamodule: TorchvisionDataModule, warmup: int, steps: int) -> Timing:
        """``warmup + steps`` batches with fresh optimizers (as each ``fit`` has); times the last ``steps``."""
        g, d = self.generator, self.discriminator
        opt_g = torch.optim.Adam(g.parameters(), lr=LR, betas=BETAS)
        opt_d = torch.optim.Adam(d.parameters(), lr=LR, betas=BETAS)
        timing = Timing()
        batches = iter(datamodule.train_dataloader())
        for i in range(warmup + steps):
            real, _ = next(batches)
            if i >= warmup:
                timing.start()
            with torch.no_grad():
                fake = self.sample_fake(len(real))
            d_loss = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()

            d.requires_grad_(False)
            g_loss = F.softplus(-d(self.sample_fake(len(real)))).mean()
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            d.requires_grad_(True)
            if i >= warmup:
                timing.end()
        return timing


def max_weight_difference(model: AdversarialModule, plain: PlainDCGAN) -> float:
    """Largest |difference| over all parameters and buffers of G and D of the two sides."""
    pairs = ((model.generator, plain.generator), (model.discriminator, plain.discriminator))
    diffs = [
        (a.float() - b.float()).abs().max().item()
        for ours, theirs in pairs
        for a, b in zip(ours.state_dict().values(), theirs.state_dict().values(), strict=True)
    ]
    return max(diffs)


def quiet_lightning() -> None:
    """Every round fits anew: keep the Trainer's banner and its known, harmless warnings out."""
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    for message in (".*does not have many workers.*", ".*no `validation_step`.*", ".*LeafSpec.*"):
        warnings.filterwarnings("ignore", message)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=15, help="timed batches per side per round")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds (after one warm-up round)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed batches per side per round")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: as is)")
    parser.add_argument("--data-root", default=None, help="folder holding MNIST/raw (default: config)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.steps < 2 or args.rounds < 1 or args.warmup < 1:
        parser.error("need --steps >= 2, --rounds >= 1 and --warmup >= 1")
    return args


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass(frozen=True)
class Round:
    """Both sides' timings of one round."""

    ours: Timing
    plain: Timing

    @property
    def ratio(self) -> float:
        return self.ours.steps_per_s / self.plain.steps_per_s

    def clean(self, threads: int) -> bool:
        """Neither side was starved of CPU (see the module docstring)."""
        return min(self.ours.cpu_utilisation, self.plain.cpu_utilisation) >= CLEAN_UTILISATION * threads


COLUMNS = (
    f"{'round':>7} {'first':>6} {'ours it/s':>10} {'plain it/s':>11} {'ratio':>6} "
    f"{'ours med ms':>12} {'plain med ms':>13} {'cpu util ours/plain':>20}"
)


def round_row(label: str, first: str, rnd: Round, threads: int) -> str:
    o, p = rnd.ours, rnd.plain
    flag = "" if rnd.clean(threads) else "  contended"
    return (
        f"{label:>7} {first:>6} {o.steps_per_s:>10.3f} {p.steps_per_s:>11.3f} {rnd.ratio:>6.3f} "
        f"{1e3 * statistics.median(o.batch_times):>12.1f} {1e3 * statistics.median(p.batch_times):>13.1f} "
        f"{o.cpu_utilisation:>15.2f}/{p.cpu_utilisation:.2f}{flag}"
    )


def summary(label: str, rounds: list[Round]) -> float:
    """Print pooled throughput, ratio and median per-batch times over ``rounds``; return the ratio."""

    def throughput(timings: list[Timing]) -> float:
        return sum(len(t.starts) for t in timings) / sum(t.wall for t in timings)

    def median_ms(timings: list[Timing]) -> float:
        return 1e3 * statistics.median(x for t in timings for x in t.batch_times)

    ours, plain = [r.ours for r in rounds], [r.plain for r in rounds]
    ratio = throughput(ours) / throughput(plain)
    ratios = [r.ratio for r in rounds]
    print(
        f"{label}: ours {throughput(ours):.3f} it/s, plain {throughput(plain):.3f} it/s, ratio {ratio:.3f} "
        f"(per round: median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-{max(ratios):.3f}); "
        f"median batch ours {median_ms(ours):.1f} ms, plain {median_ms(plain):.1f} ms"
    )
    return ratio


def main() -> None:
    args = parse_args()
    quiet_lightning()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()

    cfg = compose_config(args.batch_size, args.data_root)
    datamodule = instantiate_datamodule(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    torch.manual_seed(args.seed)
    model: AdversarialModule = instantiate(cfg.model, _recursive_=False)
    torch.manual_seed(args.seed)  # the same initial weights: G is built first, then D, as in the module
    plain = PlainDCGAN(DCGANGenerator(LATENT_DIM, IMAGE_SHAPE), DCGANDiscriminator(IMAGE_SHAPE))
    if max_weight_difference(model, plain) != 0:
        raise RuntimeError("the plain networks do not start from the module's weights")

    print(f"DCGAN on MNIST, CPU: {type(model).__name__} + L.Trainer vs a plain PyTorch loop")
    print(
        f"torch {torch.__version__}, lightning {L.__version__}, torch threads {threads}, "
        f"cpus {os.cpu_count()}, load average {load_average()}"
        + (f", GLIBC_TUNABLES={os.environ['GLIBC_TUNABLES']}" if os.environ.get("GLIBC_TUNABLES") else "")
    )
    print(
        f"batch {cfg.data.batch_size}, {len(datamodule.dataset(train=True))} training images, "
        f"{args.rounds} rounds x {args.steps} timed batches per side (+{args.warmup} untimed each, "
        "+1 warm-up round)\n"
    )
    print(COLUMNS)
    sides: dict[str, Callable[[], Timing]] = {
        "ours": lambda: run_lightning(model, datamodule, args.warmup, args.steps),
        "plain": lambda: plain.run(datamodule, args.warmup, args.steps),
    }
    rounds: list[Round] = []
    for r in range(-1, args.rounds):  # round -1 is the warm-up
        order = ("ours", "plain") if r % 2 == 0 else ("plain", "ours")
        timings: dict[str, Timing] = {}
        for name in order:
            torch.manual_seed(args.seed + 1 + r)  # both sides shuffle and draw z identically
            timings[name] = sides[name]()
        rnd = Round(ours=timings["ours"], plain=timings["plain"])
        print(round_row("warm-up" if r < 0 else str(r), order[0], rnd, threads), flush=True)
        if r >= 0:
            rounds.append(rnd)

    print()
    ratio = summary("all rounds", rounds)
    clean = [r for r in rounds if r.clean(threads)]
    basis = "all rounds"
    if len(clean) < len(rounds):
        print(
            f"{len(rounds) - len(clean)} of {len(rounds)} rounds were contended (cpu util < "
            f"{CLEAN_UTILISATION} x {threads} threads): another process competed for the CPU."
        )
        if clean:
            ratio, basis = summary(f"clean rounds ({len(clean)})", clean), "clean rounds"
        else:
            print("WARNING: every round was contended; these numbers are not trustworthy.")
    print(f"max |weight difference| ours vs plain after all rounds: {max_weight_difference(model, plain):.2e}")
    print(f"load average at the end: {load_average()}")
    verdict = "meets" if ratio >= GOAL else "is BELOW"
    print(f"ours/plain throughput ({basis}) {ratio:.3f} {verdict} the goal of {GOAL}")


if __name__ == "__main__":
    main()
