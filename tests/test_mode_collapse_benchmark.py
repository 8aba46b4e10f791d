"""benchmarks/mode_collapse.py end to end at a few steps: experiment lookup (own config or the ring8 one
with data=grid25), the Figure-1 snapshots at the chosen generator steps (n_critic counted), VEEGAN's
numbers and the table beside the published rows."""

import importlib.util
import math
import sys
from pathlib import Path

import pytest
import torch

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "mode_collapse.py"


@pytest.fixture(scope="module")
def bench():  # noqa: ANN201 - the benchmark module
    spec = importlib.util.spec_from_file_location("mode_collapse_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("name", "dataset", "modes"), [("unrolled1", "ring8", 8), ("wgan_gp", "grid25", 25)])
def test_a_short_run_gives_snapshots_scores_and_a_table(bench, name: str, dataset: str, modes: int, tmp_path: Path,
                                                        one_thread: None, capsys: pytest.CaptureFixture) -> None:
    model = bench.MODELS[name]
    run = bench.train_one(model, dataset, 0, 4, tmp_path, 3, ("batch_size=64", "data.num_samples=2048"))
    assert sorted(run.snapshots) == [0, 2, 4]  # generator steps, also for WGAN-GP's 5 critic steps per G step
    assert all(s.shape == (1000, 2) for s in run.snapshots.values())
    assert not torch.equal(run.snapshots[0], run.snapshots[4])  # G moved
    c = run.coverage
    assert len(c.counts) == modes and 0 <= c.modes_covered <= modes and 0.0 <= c.high_quality_fraction <= 1.0
    assert c.reverse_kl >= 0 or math.isinf(c.reverse_kl)
    bench.plot_strip([run], [0], run.mixture, model.label, tmp_path / "strip.png")
    assert (tmp_path / "strip.png").stat().st_size > 0
    bench.print_table(dataset, [(name, model, [run])], [0], "4 generator steps")
    table = capsys.readouterr().out
    assert model.label in table and "VEEGAN" in table and "PacGAN4" in table
