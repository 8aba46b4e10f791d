"""Quality per CPU-minute: our default runs against plain PyTorch scripts, given the same wall-clock budgets.

Usage::

    python benchmarks/quality_per_minute.py                     # dcgan, wgan_gp, wgan, lsgan, infogan; 150/300/600 s
    python benchmarks/quality_per_minute.py --families dcgan --budgets 150 300 --parallel 2 --threads 1
    python benchmarks/quality_per_minute.py --families dcgan --sides ours \\
        --candidate "dcgan:bs64=batch_size=64 model.reuse_fake=true"           # try a default before changing it
    python benchmarks/quality_per_minute.py --table benchmarks/out/quality_per_minute/summary.json

What races. "Ours" is the command a user runs, ``python train.py <family overrides>`` (DCGAN: no overrides;
``model=<family> data=mnist`` for the others) with everything the default run does (its validation
metrics, sample grids, checkpoints, logger, progress bar) plus ``trainer.max_epochs=-1`` and one callback,
`WallClockSnapshots`, that writes the weights when each budget is spent and stops the run after the last.
"Plain" is a reference script of `plain_loops` (the tutorial DCGAN, PyTorch-GAN's WGAN-GP, the WGAN paper's MLP
setting, the tutorial DCGAN with the least-squares loss, PyTorch-GAN's InfoGAN), run in its own process the same way. ``--candidate family:label=overrides`` adds a run of ours with
extra overrides: how a change of default is measured before it is made.

The clock. Both sides start it when training starts (Lightning's ``on_train_start``; the plain loop's first
batch fetch) and snapshot at the first batch end past each budget, so imports and dataset loading are left out
of both (the table prints each process's total wall time too). Everything between batches counts: data loading,
our validation epochs, checkpoints, logging.

Scoring, after all runs (so it never competes with training): every snapshot generates ``--num-samples`` images
(10,000) from a fixed seeded noise, in eval mode (BatchNorm running statistics, as our validation scores G),
scored on the features of our MNIST classifier (which no run trains with) against the MNIST test set: MNIST-FID,
the KL of the class histogram from uniform, and the classes covered. For a run with a categorical code (InfoGAN,
and the PyTorch-GAN script's class code) also the code accuracy (1,000 images per code value, best one-to-one
code-to-digit matching, as `val/code_accuracy`): InfoGAN's headline, which FID alone does not see. Besides the budgets, ``--curve-points``
intermediate snapshots trace FID over time for the "time to reach the target FID" ratio (target: the plain
script's FID at the largest budget, or ``--target``).

Load. Each run records the load average and its process's CPU utilisation (CPU seconds / wall seconds, from
``wait4``): close to ``--threads`` on a quiet machine. With ``--parallel 2 --threads 1`` ours and plain of a
family run side by side, one core each, so both see the same machine; runs are interleaved ours, plain, ours, ...
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from plain_loops import CLASS_NOISE, GENERATORS, LOOPS  # noqa: E402
from wgan_common import out_dir  # noqa: E402

# family -> (overrides of our command, the plain script it races)
FAMILIES: dict[str, tuple[list[str], str]] = {
    "dcgan": ([], "tutorial_dcgan"),
    "wgan_gp": (["model=wgan_gp", "data=mnist"], "pytorch_gan_wgan_gp"),
    "wgan": (["model=wgan", "data=mnist"], "wgan_paper_mlp"),
    "lsgan": (["model=lsgan", "data=mnist"], "tutorial_lsgan"),
    "infogan": (["model=infogan", "data=mnist"], "pytorch_gan_infogan"),
}
SIDES = ("ours", "plain")


class WallClockSnapshots(L.Callback):
    """Writes a weights-only checkpoint at the first batch end past each of ``times`` (seconds since
    ``on_train_start``, validation included) and stops training after the last; ``snapshots.json`` lists them."""

    def __init__(self, dirpath: str, times: list[float]) -> None:
        self.dir, self.times = Path(dirpath), sorted(float(t) for t in times)
        self.records: list[dict[str, Any]] = []
        self.batches = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.start = time.monotonic()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self.batches += 1
        elapsed = time.monotonic() - self.start
        while len(self.records) < len(self.times) and elapsed >= self.times[len(self.records)]:
            path = self.dir / f"snap_{len(self.records)}.ckpt"
            trainer.save_checkpoint(path)  # full: with callbacks.ema the average is in state_dict
            # one D step per batch; global_step counts every optimizer step
            self.records.append(dict(time=self.times[len(self.records)], elapsed=elapsed, path=str(path),
                                     d_steps=self.batches, g_steps=trainer.global_step - self.batches))
            (self.dir / "snapshots.json").write_text(json.dumps(self.records, indent=1))
        if len(self.records) == len(self.times):
            trainer.should_stop = True


@dataclass
class RunSpec:
    family: str
    side: str  # "ours" or "plain"
    label: str  # "ours", "plain" or a candidate's label
    overrides: list[str] = field(default_factory=list)
    seed: int = 0

    @property
    def name(self) -> str:
        return f"{self.family}/{self.label}/seed{self.seed}"


def snapshot_times(budgets: list[float], curve_points: int) -> list[float]:
    top = max(budgets)
    return sorted(set(budgets) | {round(top * k / (curve_points + 1), 1) for k in range(1, curve_points + 1)})


def command(spec: RunSpec, times: list[float], run_dir: Path) -> list[str]:
    snap = run_dir / "snapshots"
    if spec.side == "plain":
        return [sys.executable, str(Path(__file__).resolve()), "--worker", FAMILIES[spec.family][1], "--seed",
                str(spec.seed), "--times", *map(str, times), "--dir", str(snap)]
    ours = FAMILIES[spec.family][0]
    times_list = "[" + ",".join(map(str, times)) + "]"
    return [sys.executable, str(ROOT / "train.py"), *ours, *spec.overrides, f"seed={spec.seed}",
            "trainer.max_epochs=-1", f"hydra.run.dir={run_dir}",
            "+callbacks.wall_snapshots._target_=benchmarks.quality_per_minute.WallClockSnapshots",
            f"+callbacks.wall_snapshots.dirpath={snap}", f"+callbacks.wall_snapshots.times={times_list}"]


def worker(name: str, times: list[float], snap_dir: Path, seed: int) -> None:
    """Run one plain script until the last snapshot time; the same snapshot record as `WallClockSnapshots`."""
    from lit_gans.data.paths import resolve_data_root

    torch.manual_seed(seed)
    snap_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    start: list[float] = []

    def tick(g: torch.nn.Module, d_steps: int, g_steps: int) -> bool:
        elapsed = time.monotonic() - start[0]
        while len(records) < len(times) and elapsed >= times[len(records)]:
            path = snap_dir / f"snap_{len(records)}.pt"
            torch.save(g.state_dict(), path)
            records.append(dict(time=times[len(records)], elapsed=elapsed, path=str(path), d_steps=d_steps,
                                g_steps=g_steps))
            (snap_dir / "snapshots.json").write_text(json.dumps(records, indent=1))
        return len(records) < len(times)

    start.append(time.monotonic())
    LOOPS[name](resolve_data_root(None), tick)


def launch(spec: RunSpec, times: list[float], out: Path, threads: int) -> tuple[subprocess.Popen, dict[str, Any]]:
    run_dir = out / "runs" / spec.family / spec.label / f"seed{spec.seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    log = open(run_dir / "log.txt", "w")  # noqa: SIM115 (closed when the process ends)
    cmd = command(spec, times, run_dir)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    info = dict(spec=asdict(spec), name=spec.name, dir=str(run_dir), command=" ".join(cmd[1:]),
                load_start=os.getloadavg()[0], started=time.monotonic(), log=log)
    return proc, info


def finish(proc: subprocess.Popen, info: dict[str, Any]) -> dict[str, Any]:
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    info.pop("log").close()
    wall = time.monotonic() - info.pop("started")
    info.update(returncode=proc.returncode, process_wall=wall, load_end=os.getloadavg()[0],
                cpu_utilisation=(usage.ru_utime + usage.ru_stime) / wall)
    snaps = Path(info["dir"]) / "snapshots" / "snapshots.json"
    info["snapshots"] = json.loads(snaps.read_text()) if snaps.exists() else []
    if proc.returncode != 0:
        tail = (Path(info["dir"]) / "log.txt").read_text().splitlines()[-15:]
        print(f"[{info['name']}] FAILED (exit {proc.returncode}):\n  " + "\n  ".join(tail), flush=True)
    return info


def run_all(specs: list[RunSpec], times: list[float], out: Path, threads: int, parallel: int) -> list[dict[str, Any]]:
    """Run the specs, ``parallel`` at a time, in the order given (interleaved by the caller)."""
    pending, running, done = list(specs), [], []
    while pending or running:
        while pending and len(running) < parallel:
            spec = pending.pop(0)
            print(f"start {spec.name} (load {os.getloadavg()[0]:.2f})", flush=True)
            running.append(launch(spec, times, out, threads))
        pid = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT).si_pid  # the next to end, left for wait4
        for item in list(running):
            if item[0].pid == pid:
                running.remove(item)
                info = finish(*item)
                print(f"done  {info['name']}: {len(info['snapshots'])} snapshots, CPU {info['cpu_utilisation']:.2f}, "
                      f"wall {info['process_wall']:.0f} s", flush=True)
                done.append(info)
    return done


# ----- scoring ------------------------------------------------------------------------------------------------
def samplers_for(info: dict[str, Any], path: str) -> tuple[Any, Any]:
    """From one load of the snapshot: (n, torch.Generator) -> images in [-1, 1], G in eval mode; and
    (n, k, torch.Generator) -> n images of categorical code value k, or None for a run without such a code."""
    if info["spec"]["side"] == "ours":
        from lit_gans.sampling import load_model

        model = load_model(path).eval()
        coded = getattr(model, "condition_kind", None) == "code" and model.num_conditions
        return ((lambda n, gen: model.sample_images(n, generator=gen)),
                (lambda n, k, gen: model.sample_for_class(n, k, generator=gen)) if coded else None)
    script = FAMILIES[info["spec"]["family"]][1]
    build, noise = GENERATORS[script]
    g = build()
    g.load_state_dict(torch.load(path, weights_only=True))
    g.eval()
    class_noise = CLASS_NOISE.get(script)
    return ((lambda n, gen: g(noise(n, gen))),
            (lambda n, k, gen: g(class_noise(n, k, gen))) if class_noise else None)


class Scorer:
    """MNIST-FID, class KL and classes covered of a sampler against the MNIST test set (real statistics once)."""

    def __init__(self, num_samples: int, batch_size: int = 500) -> None:
        from lit_gans.data.paths import resolve_data_root
        from lit_gans.metrics.extractors import MNISTExtractor
        from lit_gans.metrics.scores import ImageScores
        from torchvision.datasets import MNIST

        self.num_samples, self.batch_size = num_samples, batch_size
        self.scores = ImageScores(MNISTExtractor(), fid=True, kid=False, inception_score=False, class_histogram=True)
        real = MNIST(str(resolve_data_root(None)), train=False, download=False).data.unsqueeze(1)  # uint8
        for chunk in real.split(batch_size):
            self.scores.update(chunk, real=True)

    @torch.no_grad()
    def __call__(self, sampler: Any) -> dict[str, float]:
        from lit_gans.metrics.extractors import to_uint8

        for b in range(0, self.num_samples, self.batch_size):
            n = min(self.batch_size, self.num_samples - b)
            self.scores.update(to_uint8(sampler(n, torch.Generator().manual_seed(1_000_000 + b)).float()), real=False)
        values = self.scores.compute()
        self.scores.reset()
        return values

    def code_accuracy(self, class_sampler: Any, codes: int = 10, per_code: int = 1000) -> float:
        """InfoGAN's headline, as `val/code_accuracy`: ``per_code`` images for each code value, classified, best
        one-to-one code-to-digit matching. FID alone would rank a fast script whose code ignores the digit first."""
        from lit_gans.metrics.scores import ConditionAccuracy

        accuracy = ConditionAccuracy(codes, self.scores.extractor.num_logits)
        accuracy.update_from_sampler(class_sampler, self.scores.extractor, range(codes), per_code, self.batch_size,
                                     seed=2_000_000)
        return accuracy.compute()["code_accuracy"]


def score_all(results: list[dict[str, Any]], num_samples: int) -> None:
    scorer = Scorer(num_samples)
    for info in results:
        for snap in info["snapshots"]:
            torch.manual_seed(0)
            sampler, class_sampler = samplers_for(info, snap["path"])
            snap.update(scorer(sampler))
            if class_sampler is not None:
                snap["code_accuracy"] = scorer.code_accuracy(class_sampler)
        print(f"scored {info['name']}: " + ", ".join(f"{s['time']:.0f}s {s['fid']:.2f}" for s in info["snapshots"]),
              flush=True)


# ----- tables -------------------------------------------------------------------------------------------------
def time_to_reach(snaps: list[dict[str, Any]], target: float) -> float | None:
    """Seconds until FID first falls to ``target``, linear between snapshots (from (0, ∞): None if never)."""
    previous = None
    for s in snaps:
        if s["fid"] <= target:
            if previous is None or previous["fid"] == s["fid"]:
                return s["elapsed"]
            w = (previous["fid"] - target) / (previous["fid"] - s["fid"])
            return previous["elapsed"] + w * (s["elapsed"] - previous["elapsed"])
        previous = s
    return None


def at_budget(snaps: list[dict[str, Any]], budget: float) -> dict[str, Any] | None:
    return next((s for s in snaps if s["time"] == budget), None)


def table(summary: dict[str, Any]) -> str:
    budgets, results = summary["budgets"], summary["results"]
    lines = [f"threads per run {summary['threads']}, {summary['parallel']} run(s) at a time, {summary['num_samples']} "
             "samples per score; MNIST-FID (our classifier's features, MNIST test set), lower is better", ""]
    head = "| family | run | " + " | ".join(f"FID @{b:g} s (D/G steps)" for b in budgets)
    lines += [head + " | code accuracy @budgets | class KL, classes @max | time to target | CPU util | load | wall s |",
              "|" + "---|" * (len(budgets) + 8)]
    notes = []
    for family in dict.fromkeys(r["spec"]["family"] for r in results):
        rows = [r for r in results if r["spec"]["family"] == family and r["snapshots"]]
        plain = [r for r in rows if r["spec"]["side"] == "plain"]
        target = summary.get("target") or (min(at_budget(r["snapshots"], max(budgets))["fid"] for r in plain)
                                           if plain and all(at_budget(r["snapshots"], max(budgets)) for r in plain)
                                           else None)
        plain_t = [time_to_reach(r["snapshots"], target) for r in plain] if target else []
        plain_t = [t for t in plain_t if t is not None]
        for r in rows:
            cells = []
            for b in budgets:
                s = at_budget(r["snapshots"], b)
                cells.append(f"{s['fid']:.2f} ({s['d_steps']}/{s['g_steps']})" if s else "-")
            last = at_budget(r["snapshots"], max(budgets)) or r["snapshots"][-1]
            t = time_to_reach(r["snapshots"], target) if target else None
            reach = "-" if t is None else f"{t:.0f} s" + (f" ({t / min(plain_t):.2f}x plain)" if plain_t else "")
            codes = [at_budget(r["snapshots"], b) for b in budgets]
            code_cell = (" / ".join(f"{100 * s['code_accuracy']:.1f}" if s and "code_accuracy" in s else "-"
                                    for s in codes) + " %" if any(s and "code_accuracy" in s for s in codes) else "-")
            lines.append(f"| {family} | {r['spec']['label']} s{r['spec']['seed']} | " + " | ".join(cells)
                         + f" | {code_cell} | {last['class_kl']:.3f}, {last['classes_covered']:.0f} | {reach} "
                         f"| {r['cpu_utilisation']:.2f} | {r['load_start']:.1f}-{r['load_end']:.1f} "
                         f"| {r['process_wall']:.0f} |")
        if target:
            notes.append(f"{family}: target FID {target:.2f}" + ("" if summary.get("target") else
                         f" (the plain script's at {max(budgets):g} s)"))
    return "\n".join(lines + [""] + notes)


def parse_candidate(text: str) -> tuple[str, str, list[str]]:
    family, _, rest = text.partition(":")
    label, _, overrides = rest.partition("=")
    if family not in FAMILIES or not label:
        raise SystemExit(f"--candidate takes 'family:label=override override ...' with family in {list(FAMILIES)}, "
                         f"got {text!r}")
    return family, label, overrides.split()


def plan(args: argparse.Namespace) -> list[RunSpec]:
    """ours, plain, candidates... per family and seed, interleaved so that paired runs sit side by side."""
    specs = []
    for seed in args.seeds:
        for family in args.families:
            for side in args.sides:
                specs.append(RunSpec(family, side, side, seed=seed))
            for cf, label, overrides in map(parse_candidate, args.candidate):
                if cf == family:
                    specs.append(RunSpec(family, "ours", label, overrides, seed))
    return specs


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--sides", nargs="*", default=list(SIDES), choices=SIDES)
    parser.add_argument("--candidate", action="append", default=[], help="'family:label=overrides' (repeatable)")
    parser.add_argument("--budgets", nargs="+", type=float, default=[150, 300, 600])
    parser.add_argument("--curve-points", type=int, default=3, help="extra snapshots between 0 and the largest budget")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run (default: cores / parallel)")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--target", type=float, default=None, help="FID for the time-to-reach column")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--table", type=Path, default=None, help="print the table of a summary.json and exit")
    parser.add_argument("--worker", choices=list(LOOPS), help=argparse.SUPPRESS)
    parser.add_argument("--times", nargs="+", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.times, args.dir, args.seed)
        return None
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return None
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.parallel)
    out = args.out or out_dir("quality_per_minute")
    times = snapshot_times(args.budgets, args.curve_points)
    print(f"torch threads per run {threads}, {args.parallel} at a time, load {os.getloadavg()}, snapshots at {times}",
          flush=True)
    results = run_all(plan(args), times, out, threads, args.parallel)
    score_all(results, args.num_samples)
    summary = dict(budgets=args.budgets, times=times, threads=threads, parallel=args.parallel,
                   num_samples=args.num_samples, target=args.target, results=results)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(table(summary))
    return summary


if __name__ == "__main__":
    main()
