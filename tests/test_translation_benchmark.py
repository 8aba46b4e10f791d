"""benchmarks/translation.py: its table layout (one direction or both), its MNIST-FID, and the pix2pix ablation end
to end at two batches per run."""

import pytest
import torch
from helpers import load_benchmark, needs_mnist


@pytest.fixture(scope="module")
def bench():  # noqa: ANN201 - the benchmark module
    return load_benchmark("translation", "translation_benchmark")


def test_a_table_of_both_directions_gets_a_column_per_direction(bench) -> None:
    table = bench.Table("t", rows=(), columns=(("fid", "FID", "{:.1f}"), ("cpu_minutes", "CPU min", "{:.1f}")),
                        directions=("AtoB", "BtoA"))
    text = bench.markdown(table, [{"label": "m", "fid_AtoB": 1.0, "fid_BtoA": 2.25, "cpu_minutes": 0.5}])
    assert text.splitlines()[0] == "| objective | FID AtoB | FID BtoA | CPU min |"
    assert text.splitlines()[2] == "| m | 1.0 | 2.2 | 0.5 |"


@needs_mnist
def test_mnist_fid_is_zero_for_one_set_and_grows_with_noise(bench) -> None:
    from lit_gans.data import MNISTEdgesDataModule

    digits = next(iter(MNISTEdgesDataModule(num_val_samples=256, batch_size=256).val_dataloader())).b
    assert abs(bench.mnist_fid(digits, digits)) < 1e-6
    noisy = (digits + 0.5 * torch.randn(digits.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    assert bench.mnist_fid(noisy, digits) > 1.0


@pytest.mark.slow
@needs_mnist
def test_the_ablation_runs_end_to_end(bench, one_thread: None) -> None:
    args = bench.parse_args(["--quick", "--part", "ablation"])
    args.batches, args.val_every, args.val_pairs = 2, 2, 64
    results = bench.run(args, report=lambda text: None)
    rows = {r["label"]: r for r in results["pix2pix_ablation"]}
    assert list(rows) == [row.label for row in bench.TABLES["pix2pix_ablation"].rows]
    for row in rows.values():
        assert {"l1", "psnr", "ssim", "fid", "digit_accuracy", "cpu_minutes"} <= set(row)
    assert rows["the targets (ceiling)"]["l1"] == 0.0 and rows["the targets (ceiling)"]["digit_accuracy"] > 0.9
    assert "model.lambda_gan=0" in rows["L1 only"]["command"]
