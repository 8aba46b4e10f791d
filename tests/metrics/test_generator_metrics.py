"""The GeneratorMetrics callback in Lightning: logging, exact resume, checkpoints, DDP."""

import math
from pathlib import Path
from typing import Callable

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from helpers import needs_mnist
from lit_gans.callbacks import GeneratorMetrics
from lit_gans.training import instantiate_datamodule, train

Compose = Callable[..., DictConfig]
MNIST_METRICS = ["data=mnist", "metrics=mnist", "metrics.num_samples=600", "metrics.num_real=1000",
                 "metrics.batch_size=200", "trainer.limit_val_batches=2"]
IMAGE_KEYS = ["val/fid", "val/kid", "val/kid_std", "val/is", "val/is_std", "val/classes_covered", "val/class_kl"]


@needs_mnist
def test_mnist_scores_are_logged_resume_exactly_and_stay_out_of_checkpoints(compose_cfg: Compose) -> None:
    def run(*overrides: str) -> tuple[dict[str, float], dict]:
        return train(compose_cfg(*MNIST_METRICS, "trainer.limit_train_batches=4", "callbacks=model_checkpoint",
                                 "seed=3", *overrides))

    full_metrics, _ = run("trainer.max_epochs=2")
    first_metrics, first = run("trainer.max_epochs=1")
    ckpt_path = Path(first["trainer"].checkpoint_callback.best_model_path)
    resumed_metrics, _ = run("trainer.max_epochs=2", f"ckpt_path={ckpt_path}")

    assert set(IMAGE_KEYS) | {"val/d_real"} <= set(full_metrics)
    assert all(math.isfinite(full_metrics[k]) for k in IMAGE_KEYS)
    assert first_metrics["val/fid"] != full_metrics["val/fid"]  # the scores move with G ...
    for key in IMAGE_KEYS:  # ... and only with G: real statistics recomputed on resume are the same
        assert resumed_metrics[key] == full_metrics[key], key

    ckpt = torch.load(ckpt_path, weights_only=True)
    assert all(k.startswith(("generator.", "discriminator.")) for k in ckpt["state_dict"])  # no classifier
    (state,) = [v for k, v in ckpt["callbacks"].items() if "GeneratorMetrics" in k]
    assert set(state) == {"last"} and set(state["last"]) >= {"fid", "is"}


def _validate(model: L.LightningModule, datamodule: L.LightningDataModule, devices: int) -> dict[str, float]:
    metrics = GeneratorMetrics("mnist", num_samples=500, num_real=700, batch_size=100, class_histogram=True)
    trainer = L.Trainer(accelerator="cpu", devices=devices, strategy="ddp_spawn" if devices > 1 else "auto",
                        callbacks=[metrics], logger=False, enable_progress_bar=False, enable_model_summary=False,
                        limit_val_batches=1)
    (results,) = trainer.validate(model, datamodule=datamodule, verbose=False)
    return results


@needs_mnist
@pytest.mark.xdist_group("ddp")
def test_two_ddp_processes_give_the_same_fid_as_one(compose_cfg: Compose) -> None:
    """The evaluation set is split across processes and FID's sums are all-reduced: same number."""
    cfg = compose_cfg("data=mnist", "data.num_workers=0")
    torch.manual_seed(0)
    model, datamodule = instantiate(cfg.model, _recursive_=False), instantiate_datamodule(cfg.data)
    one, two = _validate(model, datamodule, 1), _validate(model, datamodule, 2)
    torch.testing.assert_close(two["val/fid"], one["val/fid"], rtol=1e-6, atol=0)
    assert two["val/classes_covered"] == one["val/classes_covered"]  # histogram counts are summed
    torch.testing.assert_close(two["val/class_kl"], one["val/class_kl"], rtol=1e-6, atol=0)
    # KID and IS gather features in process order, so their random subsets differ: close, not equal
    assert math.isfinite(two["val/kid"]) and math.isfinite(two["val/is"])


@needs_mnist
@pytest.mark.xdist_group("ddp")
def test_training_with_metrics_under_ddp_spawn_completes(compose_cfg: Compose) -> None:
    metrics, objects = train(compose_cfg(*MNIST_METRICS, "trainer.limit_train_batches=2", "trainer.accelerator=cpu",
                                         "trainer.devices=2", "trainer.strategy=ddp_spawn_find_unused_parameters_true"))
    assert math.isfinite(metrics["val/fid"]) and metrics["val/fid"] > 0


def test_toy_runs_log_mode_coverage(compose_cfg: Compose) -> None:
    metrics, _ = train(compose_cfg("model=gan", "data=ring8", "metrics=modes", "data.num_samples=2048",
                                   "batch_size=256", "trainer.max_epochs=1"))
    assert 0 <= metrics["val/modes_covered"] <= 8
    assert 0 <= metrics["val/high_quality_pct"] <= 100
    assert "val/reverse_kl" in metrics and "val/d_real" in metrics


def test_image_metrics_on_toy_data_explain_the_fix(compose_cfg: Compose) -> None:
    with pytest.raises(ValueError, match="metrics=none"):
        train(compose_cfg("model=gan", "data=ring8", "metrics=mnist", "data.num_samples=512", "batch_size=256"))
    with pytest.raises(ValueError, match="toy mixture data"):
        GeneratorMetrics("mixture").build(object())


def test_more_processes_than_evaluation_batches_is_refused_with_the_batch_size_that_fits() -> None:
    """Batches go to the processes round-robin: with 2 batches of 500 and 4 processes two would hold no FID state
    (torchmetrics then fails at compute with an AttributeError); the check names a batch size that fits."""
    metrics = GeneratorMetrics(num_samples=1000, batch_size=500)
    metrics._check_every_process_has_a_batch("num_samples", 1000, 2)  # 2 batches, 2 processes: fine
    with pytest.raises(ValueError, match=r"metrics.num_real=1000 .* 2 batch\(es\) for 4 processes: set metrics.batch_size=250"):
        metrics._check_every_process_has_a_batch("num_real", 1000, 4)
