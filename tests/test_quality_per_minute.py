"""benchmarks/quality_per_minute.py: its smallest configuration end to end (our train.py and a plain script side by
side, snapshots, scores, table), the time-to-target arithmetic and the scorer on real digits vs noise."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import torch
from helpers import needs_mnist

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "quality_per_minute.py"


@pytest.fixture(scope="module")
def bench():  # noqa: ANN201 - the benchmark module
    spec = importlib.util.spec_from_file_location("quality_per_minute_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_time_to_reach_interpolates_between_snapshots(bench) -> None:
    snaps = [dict(elapsed=10.0, fid=100.0), dict(elapsed=20.0, fid=50.0), dict(elapsed=30.0, fid=20.0)]
    assert bench.time_to_reach(snaps, 35.0) == pytest.approx(25.0)  # 20 + (50 - 35) / (50 - 20) * 10
    assert bench.time_to_reach(snaps, 100.0) == 10.0  # reached at the first snapshot
    assert bench.time_to_reach(snaps, 19.9) is None
    assert bench.snapshot_times([150, 300, 600], 3) == [150, 300, 450, 600]


def test_candidates_are_parsed_and_interleaved(bench) -> None:
    args = type("Args", (), dict(seeds=[0], families=["dcgan", "wgan"], sides=["ours", "plain"],
                                 candidate=["dcgan:bs64=batch_size=64 model.latent_distribution=normal"]))
    specs = bench.plan(args)
    assert [(s.family, s.label) for s in specs] == [("dcgan", "ours"), ("dcgan", "plain"), ("dcgan", "bs64"),
                                                   ("wgan", "ours"), ("wgan", "plain")]
    assert specs[2].overrides == ["batch_size=64", "model.latent_distribution=normal"] and specs[2].side == "ours"
    with pytest.raises(SystemExit, match="family:label=override"):
        bench.parse_candidate("nogan:x=a=b")


@needs_mnist
def test_scorer_tells_real_digits_from_noise(bench, one_thread: None) -> None:
    from torchvision.datasets import MNIST

    from lit_gans.data.paths import resolve_data_root

    digits = MNIST(str(resolve_data_root(None)), train=False, download=False).data[:1000].unsqueeze(1).float()
    scorer = bench.Scorer(num_samples=1000)
    real = scorer(lambda n, gen: digits[torch.randperm(1000, generator=gen)[:n]] / 127.5 - 1)
    noise = scorer(lambda n, gen: torch.rand(n, 1, 28, 28, generator=gen) * 2 - 1)
    assert real["fid"] < 5 < 100 < noise["fid"]
    assert real["classes_covered"] == 10 and real["class_kl"] < 0.05


@needs_mnist
def test_smallest_configuration_runs_ours_and_plain_side_by_side(bench, tmp_path: Path, capsys) -> None:
    summary = bench.main(["--families", "dcgan", "--budgets", "1", "--curve-points", "0", "--num-samples", "200",
                          "--parallel", "2", "--threads", "1", "--out", str(tmp_path)])
    results = {r["spec"]["side"]: r for r in summary["results"]}
    assert set(results) == {"ours", "plain"} and all(r["returncode"] == 0 for r in results.values())
    for r in results.values():
        (snap,) = r["snapshots"]
        assert snap["time"] == 1.0 and snap["elapsed"] >= 1.0 and snap["d_steps"] >= 1
        assert snap["g_steps"] == snap["d_steps"]  # DCGAN: one G step per batch on both sides
        assert math.isfinite(snap["fid"]) and 0 <= snap["classes_covered"] <= 10
        assert r["cpu_utilisation"] > 0
    # ours is `python train.py` with its whole default run: its snapshot is a lit_gans checkpoint of the DCGAN
    from lit_gans.sampling import load_model

    assert type(load_model(results["ours"]["snapshots"][0]["path"])).__name__ == "DCGAN"
    assert json.loads((tmp_path / "summary.json").read_text())["budgets"] == [1.0]
    out = capsys.readouterr().out
    assert "| dcgan | ours s0 |" in out and "| dcgan | plain s0 |" in out and "target FID" in out


@pytest.mark.parametrize("family", ["dcgan", "wgan_gp", "wgan", "lsgan", "infogan"])
def test_every_family_races_a_composable_command_against_a_registered_script(bench, family: str) -> None:
    from helpers import compose_config

    overrides, script = bench.FAMILIES[family]
    cfg = compose_config("train", *overrides)
    assert cfg.model._target_.rsplit(".", 1)[-1] == {"wgan": "WGAN", "wgan_gp": "WGANGP", "infogan": "InfoGAN"}.get(
        family, "DCGAN")
    assert script in bench.LOOPS and script in bench.GENERATORS


@needs_mnist
@pytest.mark.parametrize("script", ["tutorial_lsgan", "pytorch_gan_infogan"])
def test_a_plain_script_learns_and_its_snapshot_samples_from_its_own_noise(bench, script: str, one_thread: None) -> None:
    from lit_gans.data.paths import resolve_data_root

    torch.manual_seed(0)
    build, noise = bench.GENERATORS[script]
    start = build().state_dict()
    g = bench.LOOPS[script](resolve_data_root(None), lambda g, d_steps, g_steps: d_steps < 3)
    moved = [k for k, v in g.state_dict().items() if v.is_floating_point() and not torch.equal(v, start[k])]
    assert moved, "three batches moved none of G's weights"
    snapshot = build()
    snapshot.load_state_dict(g.state_dict())
    snapshot.eval()
    x = snapshot(noise(8, torch.Generator().manual_seed(0)))
    assert x.shape == (8, 1, 28, 28) and x.abs().max() <= 1
    torch.testing.assert_close(x, snapshot(noise(8, torch.Generator().manual_seed(0))))  # seeded noise: same samples


def test_infogan_script_noise_carries_one_hot_classes_and_codes_in_range(bench) -> None:
    from plain_loops import INFOGAN_CLASSES, INFOGAN_NOISE, infogan_noise  # on sys.path once `bench` is loaded

    x, labels, codes = infogan_noise(500, torch.Generator().manual_seed(1))
    one_hot = x[:, INFOGAN_NOISE:INFOGAN_NOISE + INFOGAN_CLASSES]
    torch.testing.assert_close(one_hot.argmax(1), labels)
    assert torch.all(one_hot.sum(1) == 1) and set(labels.tolist()) == set(range(INFOGAN_CLASSES))
    torch.testing.assert_close(x[:, -2:], codes)
    assert codes.abs().max() <= 1 and codes.min() < -0.9 and codes.max() > 0.9


def test_infogan_script_noise_for_a_class_fixes_only_the_one_hot(bench) -> None:
    from plain_loops import INFOGAN_CLASSES, INFOGAN_NOISE, infogan_noise, infogan_noise_for_class

    x = infogan_noise_for_class(50, 7, torch.Generator().manual_seed(3))
    assert torch.all(x[:, INFOGAN_NOISE:INFOGAN_NOISE + INFOGAN_CLASSES].argmax(1) == 7)
    free = infogan_noise(50, torch.Generator().manual_seed(3))[0]  # z and the continuous codes as drawn
    torch.testing.assert_close(x[:, :INFOGAN_NOISE], free[:, :INFOGAN_NOISE])
    torch.testing.assert_close(x[:, -2:], free[:, -2:])


@needs_mnist
def test_code_accuracy_sees_whether_the_code_picks_the_digit(bench, one_thread: None) -> None:
    from torchvision.datasets import MNIST

    from lit_gans.data.paths import resolve_data_root

    test = MNIST(str(resolve_data_root(None)), train=False, download=False)
    by_digit = {d: test.data[test.targets == d][:100].unsqueeze(1).float() / 127.5 - 1 for d in range(10)}
    scorer = bench.Scorer(num_samples=500)
    permuted = scorer.code_accuracy(lambda n, k, gen: by_digit[(k + 3) % 10][:n], per_code=100)  # code k -> digit k+3
    ignored = scorer.code_accuracy(lambda n, k, gen: by_digit[k % 2][:n], per_code=100)  # two digits for ten codes
    assert permuted > 0.97  # up to a permutation, as InfoGAN's code is learned without labels
    assert 0.19 < ignored < 0.21


def test_the_table_prints_code_accuracy_at_each_budget_where_a_run_has_it(bench) -> None:
    def run(side: str, accs: list[float] | None) -> dict:
        snaps = [dict(time=b, elapsed=b, fid=50.0 - i, d_steps=10 * b, g_steps=10 * b, class_kl=0.1, classes_covered=10,
                      **({"code_accuracy": accs[i]} if accs else {})) for i, b in enumerate([1.0, 2.0])]
        return dict(spec=dict(family="infogan" if accs else "dcgan", side=side, label=side, seed=0), snapshots=snaps,
                    cpu_utilisation=1.0, load_start=0.0, load_end=0.0, process_wall=3.0)

    summary = dict(budgets=[1.0, 2.0], threads=1, parallel=1, num_samples=10,
                   results=[run("ours", [0.1, 0.625]), run("plain", None)])
    out = bench.table(summary)
    assert "| 10.0 / 62.5 % |" in out and "| code accuracy @budgets |" in out
    dcgan_row = next(line for line in out.splitlines() if line.startswith("| dcgan |"))
    assert dcgan_row.count("|") == out.splitlines()[2].count("|") and "| - |" in dcgan_row


def test_a_plain_infogan_snapshot_samples_each_code_value_and_dcgan_has_none(bench, tmp_path: Path) -> None:
    build, _ = bench.GENERATORS["pytorch_gan_infogan"]
    torch.manual_seed(0)
    torch.save(build().state_dict(), tmp_path / "g.pt")
    info = dict(spec=dict(side="plain", family="infogan"))
    _, sampler = bench.samplers_for(info, str(tmp_path / "g.pt"))
    x = sampler(4, 3, torch.Generator().manual_seed(0))
    assert x.shape == (4, 1, 28, 28)
    torch.testing.assert_close(x, sampler(4, 3, torch.Generator().manual_seed(0)))
    assert not torch.equal(x, sampler(4, 4, torch.Generator().manual_seed(0)))  # the code value reaches G
    torch.save(bench.GENERATORS["tutorial_dcgan"][0]().state_dict(), tmp_path / "dcgan.pt")
    assert bench.samplers_for(dict(spec=dict(side="plain", family="dcgan")), str(tmp_path / "dcgan.pt"))[1] is None
