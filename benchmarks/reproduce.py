"""One command for the paper reproductions: run them, then write ``docs/results.md`` and a JSON per benchmark.

Usage::

    python benchmarks/reproduce.py                          # the quick suite: minutes on a CPU, every run shortened
    python benchmarks/reproduce.py --suite full             # the settings docs/results.md reports (hours on a CPU)
    python benchmarks/reproduce.py --only fgan_table3,mode_collapse_ring8 --out /tmp/docs
    python benchmarks/reproduce.py --list                   # the registry: names and the command each runs
    python benchmarks/reproduce.py --render-only            # rewrite results.md from the JSON files already there

Each member of the registry (`REGISTRY`) is one call of a benchmark script: its ``parse_args(argv)`` with the
suite's arguments, then its ``run(args)``, which returns a dict of numbers (the scripts stay runnable on their
own: ``python benchmarks/<script>.py <the same arguments>``). The dict goes to ``<out>/results/<name>.json``
with the command, suite, date and machine; its figures are copied to ``<out>/results/<name>/``. Then
``<out>/results.md`` is written: per section, the hand-written text of ``docs/sections/<section>.md`` (settings,
commands, discussion, and numbers recorded from earlier full runs) followed by the tables of every member
whose JSON exists, ours beside the paper's (``results_tables.py``). A quick-suite table says it is shortened.

Adding a benchmark: give its script ``parse_args(argv)`` and ``run(args) -> dict``, write a table function in
``results_tables.py``, and add an `Entry` here (and a section file if it starts a new section).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import math
import os
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
SECTIONS = ROOT / "docs" / "sections"
sys.path[:0] = [str(ROOT), str(BENCHMARKS)]  # lit_gans, and the benchmark scripts (not a package)
import results_tables as tables  # noqa: E402


@dataclass(frozen=True)
class Entry:
    """One benchmark call. ``quick`` is None for members too long for the quick suite (full suite only)."""

    name: str  # the JSON's name, also for --only
    script: str  # benchmarks/<script>.py
    section: str  # docs/sections/<section>.md, the text the tables follow
    title: str
    quick: tuple[str, ...] | None
    full: tuple[str, ...]
    table: Callable[[dict], str]  # the numbers as markdown, ours beside the paper's
    function: str = "run"  # the script's run(args) -> dict
    quick_note: str = "**shortened**: a check of the pipeline, not the paper's numbers"

    def argv(self, suite: str) -> tuple[str, ...] | None:
        return self.quick if suite == "quick" else self.full

    def command(self, suite: str) -> str:
        return " ".join(["python", f"benchmarks/{self.script}.py", *self.argv(suite)])


_RING = ("--models", "gan", "gan_minibatch", "unrolled1", "unrolled5", "unrolled10", "wgan_gp")
REGISTRY: tuple[Entry, ...] = (
    Entry("fgan_mixture_fit", "fgan_mixture_fit", "fgan", "f-GAN Table 3: the mixture, exact best fits",
          ("--no-fit",), (), tables.fgan_mixture_fit, quick_note="without the derivation; the tables are exact"),
    Entry("fgan_table3", "fgan_table3", "fgan", "f-GAN Table 3: learned fits", ("--epochs", "3"), (), tables.fgan_table3),
    Entry("wgan_meaningful_loss", "wgan_meaningful_loss", "wgan_mnist", "WGAN Figs. 3–4: a meaningful loss",
          ("--quick",), (), tables.wgan_meaningful_loss),
    Entry("wgan_optimizer", "wgan_optimizer", "wgan_mnist", "WGAN Sec. 4.2: Adam vs RMSProp on the critic",
          ("--quick",), (), tables.wgan_optimizer),
    Entry("wgan_clipping", "wgan_clipping", "wgan_mnist", "WGAN-GP Fig. 1b: clipping vs gradient penalty",
          ("--quick",), (), tables.wgan_clipping),
    Entry("wgan_architectures", "wgan_architectures", "wgan_mnist", "WGAN Figs. 5–7: generator architectures",
          ("--quick",), (), tables.wgan_architectures),
    Entry("wgan_architectures_long", "wgan_architectures", "wgan_mnist",
          "WGAN Figs. 5–7: the weak generators 4× longer", None, ("--g-iters", "2000", "--generators", "nobn", "mlp"),
          tables.wgan_architectures),
    Entry("wgan_toy_figures", "wgan_toy_figures", "wgan_toy", "WGAN Example 1 and Figure 2", ("--quick",), (),
          tables.wgan_toy_figures, function="run_all"),
    Entry("mode_collapse_ring8", "mode_collapse", "mode_collapse", "ring8",
          ("--steps", "500", "--models", "gan", "unrolled5"), ("--steps", "10000", *_RING), tables.mode_collapse),
    Entry("mode_collapse_ring8_25k", "mode_collapse", "mode_collapse", "ring8, Unrolled GAN K=5 at the config's 25k steps",
          None, ("--models", "unrolled5"), tables.mode_collapse),
    Entry("mode_collapse_seeds", "mode_collapse", "mode_collapse", "ring8, seeds 0–2", None,
          ("--steps", "10000", "--seeds", "0", "1", "2", "--models", "gan", "unrolled5"), tables.mode_collapse),
    Entry("mode_collapse_grid25", "mode_collapse", "mode_collapse", "grid25",
          ("--steps", "500", "--datasets", "grid25", "--models", "gan", "unrolled5"),
          ("--steps", "10000", "--datasets", "grid25", "--models", "gan", "unrolled5"), tables.mode_collapse),
    Entry("mode_collapse_stacked_mnist", "mode_collapse", "mode_collapse", "Stacked MNIST (1000 modes)",
          ("--datasets", "stacked_mnist", "--models", "dcgan", "pacgan2", "--steps", "100", "--num-test-samples", "2000"),
          ("--datasets", "stacked_mnist"), tables.mode_collapse),
    Entry("encoders_mnist", "encoders", "encoders", "Encoder models on MNIST: E(x) beside the floors",
          ("--quick", "--models", "bigan", "vae"), ("--epochs", "3", "vaegan=0.15"), tables.encoders),
    Entry("mode_regularizers", "mode_regularizers", "mrgan", "GAN vs MRGAN vs MDGAN vs ALI on the 2-D mixtures",
          ("--batches", "300", "--models", "gan", "mrgan"),
          ("--batches", "10000", "--seeds", "0", "1", "--datasets", "ring8", "grid25", "--models", "gan", "mrgan", "mdgan",
           "ali"), tables.mode_regularizers),
    Entry("mode_collapse_stacked_mnist_encoders", "mode_collapse", "mrgan", "Stacked MNIST: the encoder models", None,
          ("--datasets", "stacked_mnist", "--models", "dcgan", "mrgan", "mdgan", "bigan", "ali", "--steps", "2000"),
          tables.mode_collapse),
    Entry("infogan_mnist", "infogan_mnist", "infogan", "InfoGAN: the categorical code as a classifier",
          ("--quick", "--experiment", "infogan_mnist_mbd"),
          ("--experiment", "infogan_mnist_mbd", "--seeds", "0", "1", "2", "3", "4"), tables.infogan_mnist),
)
SECTION_TITLES = {
    "fgan": "f-GAN, Table 3: one Gaussian fitted to a mixture under five divergences",
    "wgan_mnist": "WGAN paper (Arjovsky et al. 2017): the MNIST experiments",
    "wgan_toy": "WGAN paper: toy figures (Example 1 and Figure 2)",
    "mode_collapse": "Mode collapse on 2-D mixtures (Unrolled GAN Figure 1, VEEGAN / PacGAN Table 1)",
    "infogan": "InfoGAN on MNIST (Chen et al. 2016)",
    "encoders": "Encoder-incorporated GANs on MNIST (BiGAN, ALI, MRGAN, MDGAN, VAE, VAE-GAN, ALAE)",
    "mrgan": "Mode coverage of the encoder models (MRGAN / MDGAN, Che et al. 2017; ALI, Dumoulin et al. 2017)",
}


def jsonable(value: Any) -> Any:
    """Plain JSON: numpy / torch scalars to numbers, non-finite floats to "inf" / "-inf" / "nan", paths to str."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, Path):
        return str(value)
    return value


def machine() -> str:
    """What the timings depend on (no host name): OS, CPU count, torch version (read without importing torch)."""
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"torch {metadata.version('torch')}")


def run_entry(entry: Entry, suite: str, out: Path) -> dict:
    """Run one member; write its JSON and copy its figures under ``out/results``; return the record."""
    argv = entry.argv(suite)
    note = f": {entry.quick_note}" if suite == "quick" else ""
    print(f"\n=== {entry.name} ({suite} suite{note}): {entry.command(suite)}", flush=True)
    module = importlib.import_module(entry.script)
    start = time.perf_counter()
    result = jsonable(getattr(module, entry.function)(module.parse_args(list(argv))))
    seconds = time.perf_counter() - start
    results = out / "results"
    figures = []
    for path in map(Path, result.pop("figures", [])):
        if path.is_file():
            target = results / entry.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            figures.append(str(target.relative_to(out)))
    record = {"name": entry.name, "title": entry.title, "suite": suite, "command": entry.command(suite),
              "date": datetime.date.today().isoformat(), "machine": machine(), "seconds": round(seconds, 1),
              "figures": figures, "result": result}
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{entry.name}.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"=== {entry.name}: {seconds:.0f} s, wrote {results / (entry.name + '.json')}", flush=True)
    return record


def measured(entry: Entry, record: dict) -> str:
    """An entry's generated part: what ran, on what, and its table and figures."""
    quick = record["suite"] == "quick"
    head = (f"#### {entry.title}: measured, {record['suite']} suite"
            + (f" ({entry.quick_note})" if quick else ""))
    settings = record["result"].get("settings", "")
    lines = [head, "", f"`{record['command']}` — {settings}; {record['date']}, {record['machine']}, "
             f"{record['seconds']:.0f} s wall.", "", entry.table(record["result"])]
    lines += ["", *(f"![{entry.title}: {Path(path).stem}]({path})" for path in record["figures"])] if record["figures"] else []
    return "\n".join(lines)


def render(out: Path) -> Path:
    """``out/results.md`` from the section texts and every member's JSON under ``out/results``."""
    parts = [
        "# Reproductions",
        "",
        "Generated by `python benchmarks/reproduce.py` (see `benchmarks/README.md`); do not edit by hand: edit "
        "`docs/sections/*.md` (the text) or the benchmark scripts (the numbers) and regenerate. Each section gives "
        "the paper's setting and commands, the numbers **recorded** from full runs (hand-measured, with their date "
        "and machine), then the tables the last `reproduce.py` run measured, ours beside the paper's. "
        "`--suite quick` shortens every run (minutes on a CPU) and says so above its tables; `--suite full` runs "
        "the recorded settings and replaces them with fresh numbers. Published numbers and their sources: "
        "`benchmarks/reference_numbers.py`.",
    ]
    for section, title in SECTION_TITLES.items():
        parts += ["", f"## {title}", ""]
        text = SECTIONS / f"{section}.md"
        if text.is_file():
            parts.append(text.read_text().strip())
        for entry in (e for e in REGISTRY if e.section == section):
            path = out / "results" / f"{entry.name}.json"
            if path.is_file():
                parts += ["", measured(entry, json.loads(path.read_text()))]
            else:
                state = "full suite only, its numbers recorded above" if entry.quick is None else "not measured yet"
                parts += ["", f"#### {entry.title}: {state}", "", f"`{entry.command('full')}` "
                          f"(`python benchmarks/reproduce.py --suite full --only {entry.name}`)."]
    path = out / "results.md"
    path.write_text("\n".join(parts) + "\n")
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=("quick", "full"), default="quick")
    parser.add_argument("--only", default="", help="comma-separated member names (see --list)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where results.md and results/ go (default docs/)")
    parser.add_argument("--list", action="store_true", help="print the registry and exit")
    parser.add_argument("--render-only", action="store_true", help="rewrite results.md from the JSON files, run nothing")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    unknown = sorted(set(names) - {e.name for e in REGISTRY})
    if unknown:
        parser.error(f"unknown member(s) {unknown}; choose from {[e.name for e in REGISTRY]}")
    args.entries = [e for e in REGISTRY if not names or e.name in names]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.list:
        for e in REGISTRY:
            quick = e.command("quick") if e.quick is not None else "(full suite only)"
            print(f"{e.name:<26} quick: {quick}\n{'':<26} full:  {e.command('full')}")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for entry in [] if args.render_only else args.entries:
        if entry.argv(args.suite) is None:
            print(f"=== {entry.name}: full suite only, skipped (its recorded numbers stay in results.md)")
            continue
        try:
            run_entry(entry, args.suite, args.out)
        except Exception:  # one broken benchmark must not cost the others' results: report it at the end
            traceback.print_exc()
            failed.append(entry.name)
    print(f"\nwrote {render(args.out)}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (tracebacks above; their old JSON, if any, is kept)")


if __name__ == "__main__":
    main()
