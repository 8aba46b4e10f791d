"""benchmarks/reproduce.py: the quick suite's smallest member end to end through the command line (JSON and the
markdown table written, with the numbers), and the registry's commands parse in every script."""

import importlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.testing import assert_close

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks")]
reproduce = importlib.import_module("reproduce")


def test_the_smallest_quick_member_writes_its_json_and_table(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "benchmarks/reproduce.py", "--suite", "quick", "--only", "fgan_mixture_fit",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((tmp_path / "results" / "fgan_mixture_fit.json").read_text())
    assert record["suite"] == "quick" and record["command"] == "python benchmarks/fgan_mixture_fit.py --no-fit"
    best = record["result"]["best_fit"]
    # KL's best Gaussian matches the mixture's moments: mean 3·0.67 − 1 = 1.01, std² = Σ w (s² + m²) − mean²
    var = 0.67 * (1.415**2 + 4) + 0.33 * (0.255**2 + 1) - 1.01**2
    assert_close(torch.tensor([best["kl"]["mu"], best["kl"]["sigma"]]), torch.tensor([1.01, math.sqrt(var)]),
                 rtol=0, atol=1e-4)
    assert record["result"]["max_residual"] < 5e-4  # the recovered mixture reproduces the paper's 15 numbers
    text = (tmp_path / "results.md").read_text()
    kl = best["kl"]
    row = f"| KL | {kl['value']:.4f} | 0.2831 | {kl['mu']:.4f} | 1.0100 | {kl['sigma']:.4f} | 1.8308 |"
    assert row in text  # ours beside the paper's
    assert "measured, quick suite" in text and "**Recorded**" in text  # the run said so; the recorded numbers kept
    assert "#### f-GAN Table 3: learned fits: not measured yet" in text  # members not run are listed, not lost


def test_every_member_s_arguments_parse_in_its_script() -> None:
    for entry in reproduce.REGISTRY:
        module = importlib.import_module(entry.script)
        assert callable(getattr(module, entry.function)), entry.name
        for suite in ("quick", "full"):
            argv = entry.argv(suite)
            if argv is not None:
                module.parse_args(list(argv))  # exits on an unknown option


def test_unknown_members_are_refused_with_the_list() -> None:
    with pytest.raises(SystemExit):
        reproduce.parse_args(["--only", "fgan_table3,nope"])


def test_results_are_made_plain_json() -> None:
    value = {"a": np.float32(1.5), "b": torch.tensor(2), "c": [math.inf, -math.inf, math.nan], "d": np.arange(2),
             "e": ROOT}
    assert reproduce.jsonable(value) == {"a": 1.5, "b": 2, "c": ["inf", "-inf", "nan"], "d": [0, 1], "e": str(ROOT)}
    json.dumps(reproduce.jsonable(value), allow_nan=False)


def test_the_mode_table_gives_mean_std_per_seed_and_infinite_kl() -> None:
    tables = importlib.import_module("results_tables")
    runs = [{"seed": s, "modes": m, "modes_pacgan": m, "high_quality_pct": hq, "reverse_kl": kl, "cpu_seconds": 10.0}
            for s, m, hq, kl in ((0, 1, 7.3, 2.079), (1, 0, 0.0, "inf"))]
    result = {"datasets": {"ring8": {"models": [{"label": "GAN", "published": "VEEGAN 1 / 99.3", "runs": runs}],
                                     "published_only": [["ALI", "VEEGAN 2.8 / 0.13"]]}}}
    text = tables.mode_collapse(result)
    assert "| GAN | 0.5 ± 0.7 | 0.5 ± 0.7 | 3.6 ± 5.2 | ∞ | 10 | VEEGAN 1 / 99.3 |" in text
    assert "| … per seed [0, 1] | 1, 0 | 1, 0 | 7.3, 0.0 | 2.079, ∞ |  |  |" in text
    assert "| ALI (published only) |  |  |  |  |  | VEEGAN 2.8 / 0.13 |" in text
