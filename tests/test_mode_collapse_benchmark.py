"""benchmarks/mode_collapse.py end to end at a few steps: experiment lookup (own config or the ring8 one
with data=grid25), the Figure-1 snapshots at the chosen generator steps (n_critic counted), VEEGAN's
numbers and the table beside the published rows; the Stacked MNIST path (train, 1000-mode score, table)."""

import json
import math
from pathlib import Path

import pytest
import torch
from helpers import load_benchmark, needs_mnist


@pytest.fixture(scope="module")
def bench():  # noqa: ANN201 - the benchmark module
    return load_benchmark("mode_collapse", "mode_collapse_benchmark")


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


@needs_mnist
def test_stacked_mnist_path_trains_scores_and_prints_beside_the_published_numbers(
        bench, tmp_path: Path, one_thread: None, capsys: pytest.CaptureFixture) -> None:
    stacked = bench.stacked_mnist
    run = stacked.train_stacked("pacgan2", stacked.MODELS["pacgan2"], 0, 2, tmp_path, "half", 300,
                                ("data.num_samples=512", "batch_size=32"), bench.compose_experiment, bench.train)
    assert run.g_steps == 2 and run.grid.stat().st_size > 0
    assert int(run.counts.sum()) == 300 and run.modes == int((run.counts > 0).sum())
    q = run.counts[run.counts > 0].double() / 300  # KL(histogram ‖ uniform over 1000 modes), by hand
    assert run.kl == pytest.approx(float((q * (q * 1000).log()).sum()))
    assert run.d_to_g == pytest.approx(0.5, abs=0.02)  # PacGAN Table 3's D = ½ G, for the unpacked D
    stacked.print_table([("pacgan2", stacked.MODELS["pacgan2"], [run])], [0], "half", 300, "2 generator steps")
    numbers = json.loads(json.dumps(stacked.summary([("pacgan2", stacked.MODELS["pacgan2"], [run])], [0], "half", 300)))
    assert numbers["models"][0]["runs"][0]["modes"] == run.modes  # what reproduce.py can write as JSON
    table = capsys.readouterr().out
    assert "PacDCGAN2" in table and "1000 / 0.06 (PacDCGAN2 (D 1/2), PacGAN Table 3)" in table and "817.4 / 1.43" in table


def test_stacked_mnist_models_compose_their_experiments(bench, tmp_path: Path) -> None:
    stacked = bench.stacked_mnist
    for name, model in stacked.MODELS.items():
        cfg = stacked.compose_stacked(model, 0, 5, tmp_path, "full", (), bench.compose_experiment)
        per_g_step = stacked.optimizer_steps_per_g_step(cfg)
        assert per_g_step == (4 if name == "mdgan" else 2)  # MDGAN: manifold D, G∘E, diffusion D, G per batch
        assert cfg.data._target_.endswith("StackedMNISTDataModule") and cfg.trainer.max_steps == 5 * per_g_step
        assert cfg.batch_size == 64 * cfg.model.pack  # 64 packs per step, as in PacGAN's code
        assert cfg.model.latent_dim == 100 and cfg.model.optimizer_d.lr == 2e-4 and cfg.model.optimizer_d.betas[0] == 0.5
    assert stacked.default_num_samples() == 26000


@needs_mnist
def test_stacked_mnist_counts_mdgan_s_four_steps_per_batch_as_one_generator_step(
        bench, tmp_path: Path, one_thread: None) -> None:
    stacked = bench.stacked_mnist
    run = stacked.train_stacked("mdgan", stacked.MODELS["mdgan"], 0, 2, tmp_path, "full", 100,
                                ("data.num_samples=256", "batch_size=16"), bench.compose_experiment, bench.train)
    assert run.g_steps == 2 and int(run.counts.sum()) == 100


@needs_mnist
def test_stacked_mnist_eval_every_scores_along_the_run_without_changing_it(
        bench, tmp_path: Path, one_thread: None) -> None:
    stacked = bench.stacked_mnist
    small = ("data.num_samples=256", "batch_size=16")

    def run(name: str, eval_every: int):  # noqa: ANN202 - a StackedRun
        return stacked.train_stacked(name, stacked.MODELS[name], 0, 4, tmp_path / f"{name}{eval_every}", "full", 200,
                                     small, bench.compose_experiment, bench.train, eval_every)

    plain, curved = run("dcgan", 0), run("dcgan", 2)
    assert plain.curve == {} and sorted(curved.curve) == [2, 4]
    assert curved.curve[4] == (curved.modes, curved.kl)  # the last point is the final score (same noise)
    assert torch.equal(curved.counts, plain.counts) and curved.kl == plain.kl  # scoring did not perturb training
    mdgan = run("mdgan", 1)  # four optimizer steps per generator step: one point per batch
    assert sorted(mdgan.curve) == [1, 2, 3, 4] and mdgan.curve[4] == (mdgan.modes, mdgan.kl)
    numbers = stacked.summary([("mdgan", stacked.MODELS["mdgan"], [mdgan])], [0], "full", 200)
    assert [point[0] for point in numbers["models"][0]["runs"][0]["curve"]] == [1, 2, 3, 4]


def test_eval_every_must_not_be_negative(bench) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--datasets", "stacked_mnist", "--eval-every", "-1"])
    assert bench.parse_args(["--datasets", "stacked_mnist", "--eval-every", "500"]).eval_every == 500
