"""benchmarks/guided_gpgan.py: its score (RMSE in 8-bit levels, whole image or inside the mask), its held-out
composites (validation photographs, deterministic) and its table."""

import torch
from helpers import load_benchmark

bench = load_benchmark("guided_gpgan", "guided_gpgan")


def test_rmse_in_8_bit_levels_over_the_image_or_the_region() -> None:
    target = torch.zeros(2, 3, 4, 4)
    x = target.clone()
    x[..., :2, :] = 1 / 255  # half the pixels off by one level
    mask = torch.zeros(2, 1, 4, 4)
    mask[..., :2, :] = 1
    assert abs(bench.rmse(x, target) - 0.5**0.5) < 1e-5
    assert abs(bench.rmse(x, target, mask) - 1.0) < 1e-5


def test_held_out_composites_are_deterministic_and_in_the_unit_range() -> None:
    (s, d, m), (s2, _, _) = bench.held_out(2, 32, 0), bench.held_out(2, 32, 0)
    assert torch.equal(s, s2) and s.shape == d.shape == (2, 3, 32, 32) and m.shape == (2, 1, 32, 32)
    assert 0 <= float(s.min()) and float(d.max()) <= 1


def test_table_lists_every_row() -> None:
    rows = [{"method": name, "rmse": 1.0, "rmse_region": 2.0} for name in bench.ROWS]
    text = bench.table({"rows": rows, "n": 3, "size": 64, "batches": 10, "width": 16, "bottleneck": 32,
                        "train_seconds": {"gpgan": 60.0}, "figure": "f.png"})
    assert all(f"| {name} | 1.00 | 2.00 |" in text for name in bench.ROWS) and "gpgan: 1.0 min" in text
