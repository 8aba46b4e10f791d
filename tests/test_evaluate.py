"""evaluate.py on a checkpoint of a fast training run: JSON out, the run's metrics config, errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, compose_config, needs_mnist
from lit_gans.evaluation import evaluate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("eval") / "run"
    cmd = [sys.executable, "train.py", f"hydra.run.dir={run}", "trainer.limit_train_batches=2",
           "trainer.limit_val_batches=1", "metrics.num_samples=300", "metrics.num_real=500", "callbacks=model_checkpoint"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return run


def _evaluate(*overrides: str) -> dict:
    return evaluate(compose_config("evaluate", *overrides))


@needs_mnist
def test_evaluate_prints_and_saves_json_with_the_runs_metrics_config(run_dir: Path) -> None:
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    cmd = [sys.executable, "evaluate.py", f"ckpt_path={ckpt}", "metrics.num_samples=400"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    printed = json.loads(out.stdout[out.stdout.index("{"):])
    saved = run_dir / "eval" / "last_mnist_400.json"
    assert json.loads(saved.read_text()) == {k: v for k, v in printed.items() if k != "out"}
    assert printed["metrics"]["num_samples"] == 400 and printed["metrics"]["num_real"] == 500  # ours, the run's
    assert printed["global_step"] == 4 and {"fid", "kid", "is", "classes_covered", "d_real"} <= set(printed["scores"])

    again = _evaluate(f"ckpt_path={ckpt}", "metrics.num_samples=400", f"out={run_dir / 'again.json'}")
    assert again["scores"]["fid"] == printed["scores"]["fid"]  # a fixed, seeded evaluation set


@needs_mnist
def test_evaluate_errors_name_the_fix(run_dir: Path, tmp_path: Path) -> None:
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    with pytest.raises(ValueError, match="toy mixture data"):
        _evaluate(f"ckpt_path={ckpt}", "metrics=modes")
    moved = tmp_path / "last.ckpt"
    moved.write_bytes(ckpt.read_bytes())
    with pytest.raises(FileNotFoundError, match="run_dir="):
        _evaluate(f"ckpt_path={moved}")


@needs_mnist
def test_evaluate_adds_the_parzen_window_likelihood(run_dir: Path) -> None:
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    parzen = ["callbacks=parzen", "callbacks.parzen.num_samples=200", "callbacks.parzen.num_valid=100",
              "callbacks.parzen.num_test=300"]
    result = _evaluate(f"ckpt_path={ckpt}", "metrics=none", *parzen)
    assert Path(result["out"]).name == "last_parzen.json" and result["callbacks"]["parzen"]["num_samples"] == 200
    scores = result["scores"]
    assert {"parzen_ll", "parzen_ll_se", "parzen_sigma", "d_real"} <= set(scores) and "fid" not in scores
    assert scores["parzen_sigma"] in [pytest.approx(10 ** (-1 + i / 9)) for i in range(10)]
    assert -2000 < scores["parzen_ll"] < 1000  # nats per 784 pixels in [0, 1], an untrained G
    both = _evaluate(f"ckpt_path={ckpt}", "metrics.num_samples=300", *parzen, f"out={run_dir / 'both.json'}")
    assert both["scores"]["parzen_ll"] == scores["parzen_ll"] and "fid" in both["scores"]  # seeded, same value
    with pytest.raises(ValueError, match="callbacks=parzen"):
        _evaluate(f"ckpt_path={ckpt}", "metrics=none")


@needs_mnist
@pytest.mark.slow
def test_evaluate_scores_a_lapgan_per_scale(tmp_path: Path) -> None:
    run = tmp_path / "lapgan"
    cmd = [sys.executable, "train.py", "model=lapgan", f"hydra.run.dir={run}", "batch_size=16",
           "trainer.limit_train_batches=1", "trainer.limit_val_batches=1", "metrics=none", "callbacks=model_checkpoint"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    ckpt = run / "checkpoints" / "last.ckpt"
    small = ["callbacks=parzen", "callbacks.parzen.num_samples=200", "callbacks.parzen.num_valid=20",
             "callbacks.parzen.num_test=30", "callbacks.parzen.samples_per_image=10"]
    scores = _evaluate(f"ckpt_path={ckpt}", "metrics=none", *small)["scores"]
    levels = [scores[f"parzen_ll_level{k}"] for k in range(3)]  # 7x7, then the 14x14 and 28x28 residuals
    assert scores["parzen_ll"] == pytest.approx(sum(levels)) and "parzen_sigma" not in scores
    whole = _evaluate(f"ckpt_path={ckpt}", "metrics=none", *small, "callbacks.parzen.per_scale=false",
                      f"out={run / 'whole.json'}")["scores"]
    assert "parzen_ll_level0" not in whole and "parzen_sigma" in whole
