"""The Parzen-window log-likelihood: hand-computed values, chunking, σ chosen by validation on a toy whose best σ is
known, and the callback scoring a generator against the datamodule's validation and test images."""

import math

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor
from torch.testing import assert_close

from lit_gans.callbacks import ParzenLikelihood
from lit_gans.data.batched import BatchedTensorDataset
from lit_gans.data.splits import PreloadedSplits
from lit_gans.metrics.parzen import DEFAULT_SIGMAS, parzen_log_likelihood, parzen_window, select_sigma


def log_normal(x: float, mu: float, sigma: float) -> float:
    return -((x - mu) ** 2) / (2 * sigma**2) - math.log(sigma * math.sqrt(2 * math.pi))


def test_two_samples_in_one_dimension_by_hand() -> None:
    samples, x = torch.tensor([[0.0], [2.0]]), torch.tensor([[1.0], [3.0]])
    for sigma in (0.5, 1.0, 2.0):
        expected = [math.log(0.5 * math.exp(log_normal(p, 0, sigma)) + 0.5 * math.exp(log_normal(p, 2, sigma)))
                    for p in (1.0, 3.0)]
        assert_close(parzen_log_likelihood(x, samples, sigma), torch.tensor(expected, dtype=torch.float64))
    grid = parzen_log_likelihood(x, samples, [0.5, 1.0])  # a grid of σ: (S, N)
    assert grid.shape == (2, 2)
    assert_close(grid[1], parzen_log_likelihood(x, samples, 1.0))
    # D dimensions: the kernel is a product of D 1-D Gaussians
    x2, s2 = torch.tensor([[1.0, -1.0]]), torch.tensor([[0.0, 0.0]])
    assert_close(parzen_log_likelihood(x2, s2, 1.0), torch.tensor([2 * log_normal(1.0, 0.0, 1.0)], dtype=torch.float64))


def test_chunks_and_the_distance_expansion_give_the_direct_sum() -> None:
    g = torch.Generator().manual_seed(0)
    samples, x = torch.rand(50, 1, 4, 4, generator=g), torch.rand(23, 1, 4, 4, generator=g)  # images: flattened
    direct = torch.logsumexp(-((x.flatten(1)[:, None].double() - samples.flatten(1)[None].double()) ** 2).sum(2)
                             / (2 * 0.3**2), dim=1) - math.log(50) - 16 * math.log(0.3 * math.sqrt(2 * math.pi))
    for chunk in (1, 7, 1000):
        assert_close(parzen_log_likelihood(x, samples, 0.3, chunk_size=chunk), direct)


def test_sigma_selection_picks_the_sigma_that_maximises_validation_likelihood() -> None:
    # one sample at 0 and validation points at ±r: LL(σ) = −r²/(2σ²) − log(σ√(2π)), maximal at σ = r
    samples, valid = torch.zeros(1, 1), torch.tensor([[0.5], [-0.5]])
    sigma, means = select_sigma(samples, valid, [0.1, 0.25, 0.5, 1.0, 2.0])
    assert sigma == 0.5
    assert_close(means, torch.tensor([log_normal(0.5, 0, s) for s in (0.1, 0.25, 0.5, 1.0, 2.0)], dtype=torch.float64))
    result = parzen_window(samples, valid, torch.tensor([[0.0], [1.0]]), [0.1, 0.25, 0.5, 1.0, 2.0])
    test_ll = [log_normal(0.0, 0, 0.5), log_normal(1.0, 0, 0.5)]
    assert result.sigma == 0.5 and result.mean == pytest.approx(sum(test_ll) / 2)
    assert result.stderr == pytest.approx(abs(test_ll[0] - test_ll[1]) / 2 / math.sqrt(2))  # numpy's std / √N
    assert len(DEFAULT_SIGMAS) == 10 and DEFAULT_SIGMAS[0] == pytest.approx(0.1) and DEFAULT_SIGMAS[-1] == 1.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        parzen_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 4), 1.0)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        parzen_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 3), [1.0, 0.0])


class Splits(PreloadedSplits):
    """uint8 (N, 1, side, side) train and test splits of random pixels."""

    def __init__(self, side: int = 4) -> None:
        super().__init__(batch_size=10, num_workers=0, drop_last=False, pin_memory=False)
        g = torch.Generator().manual_seed(1)
        self.images = {True: torch.randint(256, (40, 1, side, side), generator=g, dtype=torch.uint8),
                       False: torch.randint(256, (20, 1, side, side), generator=g, dtype=torch.uint8)}

    def _build(self, train: bool) -> BatchedTensorDataset:
        return BatchedTensorDataset(self.images[train], torch.zeros(len(self.images[train]), dtype=torch.long),
                                    transform=lambda x: x.float() / 127.5 - 1)


class Generator(L.LightningModule):
    """Images in [−1, 1] from a seeded generator; validation does nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.9))

    def sample_images(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return (torch.rand(n, 1, 4, 4, generator=generator) * 2 - 1) * self.scale

    def validation_step(self, batch: object, batch_idx: int) -> None:
        pass


def test_the_callback_logs_the_parzen_ll_of_its_samples_on_the_test_images() -> None:
    data, model = Splits(), Generator()
    callback = ParzenLikelihood(num_samples=30, num_valid=5, num_test=None, valid_start=None, batch_size=8,
                                sigmas=[0.05, 0.1, 0.2, 0.4, 0.8])
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[callback])
    (logged,) = trainer.validate(model, datamodule=data, verbose=False)
    samples = torch.cat([(model.sample_images(n, torch.Generator().manual_seed(b)).detach().flatten(1) + 1) / 2
                         for b, n in enumerate((8, 8, 8, 6))])
    valid = data.images[True][0:5].flatten(1) / 255  # a split smaller than 10,000: validation starts at 0
    expected = parzen_window(samples, valid, data.images[False].flatten(1) / 255, [0.05, 0.1, 0.2, 0.4, 0.8])
    assert callback.last == pytest.approx({"parzen_ll": expected.mean, "parzen_ll_se": expected.stderr,
                                           "parzen_sigma": expected.sigma})
    assert logged["val/parzen_ll"] == pytest.approx(expected.mean, rel=1e-6)
    with pytest.raises(ValueError, match="lower num_valid"):
        ParzenLikelihood(num_valid=50).reals(data)


@pytest.mark.usefixtures("one_thread")
def test_a_lapgan_run_keeps_its_best_checkpoint_by_val_parzen_ll(tmp_path: Path) -> None:
    from models.test_lapgan import tiny  # 5 -> 10 -> 20, one channel

    torch.manual_seed(0)
    parzen = ParzenLikelihood(num_samples=40, num_valid=10, num_test=None, batch_size=20)
    scores: list[float] = []

    class Record(L.Callback):
        def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
            scores.append(float(trainer.callback_metrics["val/parzen_ll"]))

    best = ModelCheckpoint(dirpath=tmp_path, filename="best-parzen", monitor="val/parzen_ll", mode="max")
    trainer = L.Trainer(accelerator="cpu", max_epochs=3, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[parzen, Record(), best], num_sanity_val_steps=0)
    trainer.fit(tiny(), datamodule=Splits(side=20))
    assert len(scores) == 3 and len(set(scores)) == 3  # one score per epoch, moving with the generators
    assert float(best.best_model_score) == pytest.approx(max(scores), rel=1e-6)
    assert Path(best.best_model_path).name == "best-parzen.ckpt"
