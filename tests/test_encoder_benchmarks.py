"""benchmarks/encoders.py and benchmarks/mode_regularizers.py: the per-model epoch options and the tables that
benchmarks/reproduce.py renders from their JSON (the training paths run in test_encode.py / the models' tests)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import encoders  # noqa: E402
import mode_regularizers  # noqa: E402


def test_epochs_apply_to_every_model_and_per_model_overrides_win() -> None:
    assert encoders.epochs_per_model(["3", "vaegan=0.15"], ["bigan", "vaegan"], quick=False) == {"bigan": 3, "vaegan": 0.15}
    assert encoders.epochs_per_model([], ["vae"], quick=False) == {"vae": None}  # the experiment's own count
    assert encoders.epochs_per_model([], ["vae"], quick=True) == {"vae": 1}
    with pytest.raises(ValueError, match="unknown model 'vaegn'"):
        encoders.epochs_per_model(["vaegn=2"], ["vae"], quick=False)


def test_a_share_of_an_epoch_limits_the_batches() -> None:
    assert encoders.epoch_overrides(None) == []
    assert encoders.epoch_overrides(3) == ["trainer.max_epochs=3"]
    assert encoders.epoch_overrides(0.15) == ["trainer.max_epochs=1", "trainer.limit_train_batches=0.15"]
    with pytest.raises(ValueError, match="whole number"):
        encoders.epoch_overrides(1.5)


def test_encoder_table_shows_each_model_beside_its_floors_and_the_published_numbers() -> None:
    row = {"model": "bigan", "epochs": "3", "cpu_minutes": 2.0, "knn1_accuracy": 0.95, "knn5_accuracy": 0.96,
           "linear_probe_accuracy": 0.9, "reconstruction_mse": 0.4, "fid": 20.0, "knn1_accuracy_random_encoder": 0.9,
           "knn5_accuracy_random_encoder": 0.91, "linear_probe_accuracy_random_encoder": 0.8,
           "knn1_accuracy_pixels": 0.93, "knn5_accuracy_pixels": 0.935, "linear_probe_accuracy_pixels": 0.89}
    text = encoders.table({"settings": "test", "rows": [row]})
    assert "| bigan E(x) | 3 | 95.00 | 96.00 | 90.00 | 0.400 | 20.0 | 2.0 |" in text
    assert "| bigan random encoder (floor) | | 90.00 | 91.00 | 80.00 |" in text
    assert "| raw pixels (floor) | | 93.00 | 93.50 | 89.00 |" in text
    assert "97.39" in text  # BiGAN Table 1 beside ours


def test_mode_regularizer_tables_render_from_the_json_with_ali_s_published_rows() -> None:
    run = {"modes": 20, "modes_pacgan": 18, "high_quality_pct": 90.0, "reverse_kl": 0.2, "counts": [1] * 25,
           "reconstructed_own_mode_pct": 75.0, "cpu_seconds": 60.0}
    text = mode_regularizers.tables({"settings": "100 batches", "seeds": [0, 1],
                                     "datasets": {"grid25": {"ali": [run, {**run, "modes": 22}]}}})
    assert "| ALI | 21.0 ± 1.4 (20, 22) | 18.0 ± 0.0 |" in text
    assert "13.4 ± 5.8" in text and "24.1 ± 0.4" in text  # ALI Section 4.5 and PacGAN Table 1


def test_ali_trains_on_the_grid_with_its_own_experiment_and_is_scored(tmp_path: Path, one_thread: None) -> None:
    result = mode_regularizers.train_one("ali", "grid25", 0, 4, tmp_path, 2, ("batch_size=64", "data.num_samples=1024"))
    assert len(result.counts) == 25 and sum(result.counts) <= 2500  # high-quality samples per grid mode
    assert result.modes == sum(c > 0 for c in result.counts)
    assert result.reconstructed_own_mode_pct is not None  # ALI has an encoder: G(E(x)) is scored too
