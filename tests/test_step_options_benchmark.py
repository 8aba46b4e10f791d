"""benchmarks/step_options.py in its smallest configuration: it composes each option's overrides (``++`` keys, so it
works whether or not a model yaml lists them), fits, times and prints ratios to the baseline. No timing assertions."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from helpers import needs_mnist

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "step_options.py"


@needs_mnist
def test_the_smallest_configuration_runs_and_prints_a_ratio_per_option(capsys: pytest.CaptureFixture) -> None:
    spec = importlib.util.spec_from_file_location("step_options_benchmark", BENCHMARK)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    threads = torch.get_num_threads()
    results = bench.main(["--models", "dcgan", "wgan_gp", "--options", "reuse_fake", "threads_1", "--rounds", "1",
                          "--steps", "1", "--warmup", "1", "--warmup-rounds", "0", "--batch-size", "4"])
    assert torch.get_num_threads() == threads  # the thread options restore the count
    assert set(results) == {"dcgan", "wgan_gp"}
    for ratios in results.values():
        assert set(ratios) == {"baseline", "reuse_fake", "threads_1"} and ratios["baseline"] == 1.0
        assert all(r > 0 for r in ratios.values())
    out = capsys.readouterr().out
    assert "load average" in out and "wgan_gp on MNIST: batch 4, n_critic 5" in out
