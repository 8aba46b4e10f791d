"""benchmarks/guided_lapgan.py: the parameter-matched DCGAN, the table, and (slow) both runs end to end."""

import argparse
from pathlib import Path

import pytest

from helpers import load_benchmark, needs_mnist


@pytest.fixture(scope="module")
def bench():  # noqa: ANN201 - the benchmark module
    return load_benchmark("guided_lapgan", "guided_lapgan_benchmark")


def parse(bench, *argv: str) -> argparse.Namespace:  # noqa: ANN001
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_dcgan_is_the_one_closest_to_the_target_parameter_count(bench) -> None:  # noqa: ANN001
    assert 2.0e6 < bench.lapgan_parameters() < 2.4e6  # conf/model/lapgan.yaml: all levels' G and D (2.18 M)
    assert bench.dcgan_channels_matching(0, ["data=mnist"]) == 16  # the search starts at 16 channels
    assert bench.dcgan_channels_matching(383_650, ["data=mnist"]) == 32  # DCGAN's G + D at base_channels=32
    assert parse(bench).lapgan_models == ["lapgan", "dcgan"] and parse(bench, "--lapgan-quick").lapgan_quick


def test_the_table_has_a_row_per_model_and_the_published_line(bench) -> None:  # noqa: ANN001
    row = {"params_g": 1.7e6, "params_d": 4.5e5, "fid": 79.61, "kid": 1.0234, "classes_covered": 9.0, "class_kl": 1.654,
           "cpu_minutes": 12.34}
    text = bench.table({"settings": "s", "rows": [{"model": "lapgan", **row}], "published": bench.PUBLISHED})
    assert "| lapgan | 1.70 M | 0.45 M | 79.6 | 1.0234 | 9 | 1.654 | 12.3 |" in text.splitlines()
    assert "lapgan ~40 %" in text and "gan ~10 %" in text


@pytest.mark.slow
@needs_mnist
def test_both_runs_end_to_end(bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(bench, "out_dir", lambda name: tmp_path)
    args = parse(bench, "--lapgan-quick")
    result = bench.run(args)
    assert [r["model"].split()[0] for r in result["rows"]] == ["lapgan", "dcgan"]
    assert all({"fid", "kid", "classes_covered", "cpu_minutes"} <= set(r) for r in result["rows"])
