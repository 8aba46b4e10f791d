"""``val/parzen_ll``: the Gaussian Parzen-window log-likelihood of test images under the generator's samples
(`lit_gans.metrics.parzen`), the model-selection measure of LAPGAN (Denton et al. 2015, Section 4) and the number of
Goodfellow et al. 2014's Table 1. Off by default; add it to a run, and select checkpoints by it with parzen_best:

    python train.py experiment=lapgan_mnist 'callbacks=[default,parzen,parzen_best]'
    python evaluate.py ckpt_path=<run>/checkpoints/last.ckpt callbacks=parzen    # any image checkpoint

For a LAPGAN (``per_scale: auto``) it logs Denton et al.'s per-scale estimate instead (`lit_gans.metrics.parzen_pyramid`):
``val/parzen_ll`` is then the sum of the levels' terms ``val/parzen_ll_level<k>``.
"""

import logging
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from torch import Tensor

from lit_gans.callbacks.evaluation_samples import batch_sizes, evaluation_mode, num_batches, seeded_fake_batch
from lit_gans.metrics.parzen import DEFAULT_SIGMAS, ParzenResult, parzen_window
from lit_gans.metrics.parzen_pyramid import PyramidParzenResult, pyramid_parzen_window
from lit_gans.models.lapgan import LAPGAN
from lit_gans.pyramid import laplacian_pyramid

log = logging.getLogger(__name__)
VALIDATION_SPLIT_SIZE = 10_000  # MNIST's conventional validation split, the last 10,000 training images


class ParzenLikelihood(L.Callback):
    """After each (``every_n_epochs``-th) validation epoch, log ``val/parzen_ll`` (nats, higher is better),
    ``val/parzen_ll_se`` (its standard error) and ``val/parzen_sigma`` (the σ chosen).

    Samples: ``num_samples`` generated images (seeded batches, as `GeneratorMetrics`; the generator average when
    the run keeps one), mapped from [−1, 1] to [0, 1]. σ: the best of ``sigmas`` on ``num_valid`` training images
    from ``valid_start`` (null: the start of the last 10,000, i.e. MNIST's train[50000:], as Goodfellow et al.'s
    script). Test: the first ``num_test`` images of the test split (null: all). Real images are the datamodule's
    ``reference_images`` (uint8) divided by 255.

    Cost (one thread, MNIST, float64 distances): about 20 s for 10,000 samples × 10,000 test images after the
    samples are drawn (docs/sections/lapgan.md). Every process computes the same value (no collective calls).

    Per scale (``per_scale``: ``auto`` for a LAPGAN, ``true`` to insist, ``false`` for the whole-image estimate of
    any model): level 0 is scored on ``num_samples`` unconditional G_0 samples, every finer level k on
    ``samples_per_image`` draws of G_k(z, l_k) conditioned on each image's own l_k (seeded by ``seed``); σ per level
    on the first ``per_scale_num_valid`` validation images, the terms on the first ``per_scale_num_test`` test images
    (null: all of num_valid / num_test). Logged: ``val/parzen_ll`` (the per-image sum), ``val/parzen_ll_se``,
    ``val/parzen_ll_level<k>`` and ``val/parzen_sigma_level<k>``. Cost: (valid + test images) × samples_per_image
    forwards of each G_k; MNIST 7 → 14 → 28 with conf/model/lapgan.yaml's G_k: about 3 ms per draw (both levels),
    so the defaults (100 + 500 images, 100 draws) take about 3 CPU minutes.
    """

    def __init__(self, num_samples: int = 10_000, num_valid: int = 1000, num_test: int | None = 10_000,
                 valid_start: int | None = None, sigmas: Sequence[float] | None = None, every_n_epochs: int = 1,
                 batch_size: int = 500, seed: int = 0, chunk_size: int = 1000, prefix: str = "val/",
                 per_scale: bool | str = "auto", samples_per_image: int = 100, per_scale_num_valid: int | None = 100,
                 per_scale_num_test: int | None = 500) -> None:
        if num_samples < 1 or num_valid < 1 or (num_test is not None and num_test < 1):
            raise ValueError("callbacks.parzen: num_samples, num_valid and num_test must be >= 1.")
        if per_scale not in (True, False, "auto"):
            raise ValueError(f"callbacks.parzen.per_scale must be auto, true or false, got {per_scale!r}.")
        if samples_per_image < 1 or any(n is not None and n < 1 for n in (per_scale_num_valid, per_scale_num_test)):
            raise ValueError("callbacks.parzen: samples_per_image, per_scale_num_valid and per_scale_num_test must be >= 1.")
        self.per_scale, self.samples_per_image = per_scale, samples_per_image
        self.per_scale_num_valid, self.per_scale_num_test = per_scale_num_valid, per_scale_num_test
        if every_n_epochs < 1:
            raise ValueError(f"callbacks.parzen.every_n_epochs must be >= 1, got {every_n_epochs}.")
        self.num_samples, self.num_valid, self.num_test, self.valid_start = num_samples, num_valid, num_test, valid_start
        self.sigmas = tuple(sigmas) if sigmas else DEFAULT_SIGMAS
        self.every_n_epochs, self.batch_size, self.seed = every_n_epochs, batch_size, seed
        self.chunk_size, self.prefix = chunk_size, prefix
        self._reals: tuple[Tensor, Tensor] | None = None  # (valid, test) (N, C, H, W) in [0, 1], read once per process
        self.last: dict[str, float] = {}

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not hasattr(trainer.datamodule, "reference_images"):
            raise ValueError(f"callbacks.parzen needs an image datamodule with a train and a test split "
                             f"(data=mnist, fashion_mnist, cifar10); {type(trainer.datamodule).__name__} has none.")
        self.uses_pyramid(pl_module)  # refuses per_scale=true for a model without a pyramid of generators

    def uses_pyramid(self, pl_module: Any) -> bool:
        """Whether this model gets the per-scale estimate: an unconditional LAPGAN, unless ``per_scale: false``."""
        if self.per_scale is False:
            return False
        if not isinstance(pl_module, LAPGAN):
            if self.per_scale is True:
                raise ValueError(f"callbacks.parzen.per_scale=true needs a LAPGAN (model=lapgan); {type(pl_module).__name__} "
                                 "has no generator per pyramid level: set callbacks.parzen.per_scale=auto or false.")
            return False
        if pl_module.num_conditions:
            if self.per_scale is True:
                raise ValueError("callbacks.parzen.per_scale=true is not implemented for CC-LAPGAN (p(h | l) would need "
                                 "p(y | l)): set callbacks.parzen.per_scale=false for the whole-image estimate.")
            return False
        return True

    def reals(self, datamodule: Any) -> tuple[Tensor, Tensor]:
        """(validation images, test images), float (N, D) in [0, 1]."""
        valid, test = self.real_images(datamodule)
        return valid.flatten(1), test.flatten(1)

    def real_images(self, datamodule: Any) -> tuple[Tensor, Tensor]:
        """(validation images, test images), float (N, C, H, W) in [0, 1]."""
        if self._reals is None:
            n_train, n_test = len(datamodule.dataset(True)), len(datamodule.dataset(False))
            start = self.valid_start if self.valid_start is not None else max(n_train - VALIDATION_SPLIT_SIZE, 0)
            num_test = self.num_test or n_test
            if start + self.num_valid > n_train or num_test > n_test:
                raise ValueError(f"callbacks.parzen asks for training images [{start}, {start + self.num_valid}) and "
                                 f"{num_test} test images, but the splits hold {n_train} and {n_test}: lower "
                                 "num_valid / valid_start / num_test.")
            valid = datamodule.reference_images(True, start, start + self.num_valid)
            test = datamodule.reference_images(False, 0, num_test)
            self._reals = (valid.float() / 255, test.float() / 255)
        return self._reals

    @torch.no_grad()
    def samples(self, trainer: L.Trainer, pl_module: Any) -> Tensor:
        """``num_samples`` generated images, (M, D) in [0, 1]."""
        out = []
        with evaluation_mode(trainer, pl_module):
            for b in range(num_batches(self.num_samples, self.batch_size)):
                fake = seeded_fake_batch(pl_module, b, self.num_samples, self.batch_size, self.seed)
                out.append(((fake.float().flatten(1) + 1) / 2).clamp_(0, 1).cpu())
        return torch.cat(out)

    @torch.no_grad()
    def pyramid_estimate(self, trainer: L.Trainer | None, pl_module: LAPGAN, valid: Tensor,
                         test: Tensor) -> PyramidParzenResult:
        """The per-scale estimate of a LAPGAN on (N, C, H, W) images in [0, 1]; the generators see [−1, 1] units
        (an image x in [0, 1] is 2x − 1 to G: its pyramid's I_0 is (I_0' + 1)/2, its residuals h'/2)."""
        sizes, device = list(pl_module.hparams.sizes), pl_module.device
        valid, test = valid[:self.per_scale_num_valid], test[:self.per_scale_num_test]
        pyramids = [laplacian_pyramid(x.to(device), sizes) for x in (valid, test)]  # linear: same pyramid in [0, 1]
        noise = torch.Generator().manual_seed(self.seed)

        def residuals(k: int, low: Tensor) -> Tensor:
            return pl_module.level_fake(k, len(low), low * 2 - 1, None, generator=noise) / 2

        with evaluation_mode(trainer, pl_module):
            coarse = torch.cat([(pl_module.level_fake(0, n, None, None, generator=noise) + 1) / 2
                                for n in batch_sizes(self.num_samples, self.batch_size)])
            return pyramid_parzen_window(coarse, residuals, *pyramids, samples_per_image=self.samples_per_image,
                                         sigmas=self.sigmas, batch_size=self.batch_size, chunk_size=self.chunk_size)

    def evaluate(self, trainer: L.Trainer, pl_module: Any) -> ParzenResult | PyramidParzenResult:
        if self.uses_pyramid(pl_module):
            result = self.pyramid_estimate(trainer, pl_module, *self.real_images(trainer.datamodule))
            sigmas = [level.sigma for level in result.levels]
            self.last = result.logs()
        else:
            valid, test = self.reals(trainer.datamodule)
            result = parzen_window(self.samples(trainer, pl_module), valid, test, self.sigmas, self.chunk_size)
            sigmas = [result.sigma]
            self.last = {"parzen_ll": result.mean, "parzen_ll_se": result.stderr, "parzen_sigma": result.sigma}
        if any(sigma in (self.sigmas[0], self.sigmas[-1]) for sigma in sigmas):
            log.warning("callbacks.parzen chose σ=%s at the end of its grid %s: widen callbacks.parzen.sigmas.",
                        sigmas, list(self.sigmas))
        return result

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        self.evaluate(trainer, pl_module)
        for name, value in self.last.items():
            pl_module.log(self.prefix + name, value, sync_dist=True)

    def state_dict(self) -> dict[str, Any]:
        return {"last": self.last}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.last = dict(state_dict.get("last", {}))
