"""Score the generator at the end of every validation epoch: FID / KID / IS (images) or mode
coverage (toy mixtures), logged as ``val/<name>`` on every process."""

import logging
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from lit_gans.callbacks.evaluation_samples import evaluation_mode, num_batches, seeded_fake_batch
from lit_gans.metrics.extractors import MNISTExtractor, build_extractor, to_uint8
from lit_gans.metrics.modes import MixtureModes
from lit_gans.metrics.scores import ConditionAccuracy, ImageScores

log = logging.getLogger(__name__)
FEATURES = ("mnist", "stacked_mnist", "inception", "mixture")


class GeneratorMetrics(L.Callback):
    """Generator metrics from a fixed, seeded evaluation set, computed in the validation loop.

    Fakes: ``num_samples`` images in batches of ``batch_size``; batch b is drawn from
    ``torch.Generator().manual_seed(seed * 1_000_000 + b)`` and process r scores batches
    b ≡ r (mod world size). The evaluation set is therefore the same on 1 or N processes and at
    every epoch, so the scores move only with the generator, and a resumed run logs exactly what
    the uninterrupted run logged.

    Reals (FID / KID): the first ``num_real`` images (all when null) of ``real_split``, split across
    processes the same way. Their statistics are computed at the first evaluation of each
    process's life and kept in memory; on resume they are recomputed from the same images (a
    deterministic pass) rather than stored, because Inception statistics (a 2048² covariance,
    KID's feature lists) would add tens of MB to every checkpoint.

    With a `GeneratorEMA` callback in the run, the generator's moving average is scored (`ema_weights`).

    The extractor lives here, not in the LightningModule, so it is never in a checkpoint, never
    trained and never under the module's autocast.

    Args:
        features: ``mnist`` (our digit classifier), ``stacked_mnist`` (it, per channel: 1000
            modes), ``inception`` (torch-fidelity's Inception v3),
            or ``mixture`` (mode coverage against a toy datamodule's `GaussianMixture`).
        fid, kid, inception_score, class_histogram: which image metrics to compute.
        inception_weights: path to the Inception weights (offline clusters); antialias: resize
            like torchmetrics' default instead of the TF reference (False = comparable with papers).
        n_std, min_count: the high-quality radius and the samples a mode needs (`mode_coverage`).
        samples_per_condition: for models that generate on demand per class or code
            (``sample_for_class``: cGAN, AC-GAN, InfoGAN's categorical code) and a classifier
            extractor (mnist), images per condition for ``class_accuracy`` / ``code_accuracy``.
    """

    def __init__(
        self,
        features: str = "mnist",
        num_samples: int = 10_000,
        batch_size: int = 500,
        seed: int = 0,
        real_split: str = "test",
        num_real: int | None = None,
        fid: bool = True,
        kid: bool = True,
        inception_score: bool = True,
        class_histogram: bool = False,
        kid_subset_size: int = 1000,
        kid_subsets: int = 100,
        is_splits: int = 10,
        inception_weights: str | None = None,
        antialias: bool = False,
        mnist_weights: str | None = None,
        n_std: float = 3.0,
        min_count: int = 1,
        samples_per_condition: int = 1000,
        prefix: str = "val/",
    ) -> None:
        if features not in FEATURES:
            raise ValueError(f"metrics.features must be one of {FEATURES}, got {features!r}.")
        if real_split not in ("train", "test"):
            raise ValueError(f"metrics.real_split must be 'train' or 'test', got {real_split!r}.")
        if num_samples < 2 or batch_size < 1:
            raise ValueError("metrics.num_samples must be >= 2 and metrics.batch_size >= 1.")
        self.features, self.num_samples, self.batch_size, self.seed = features, num_samples, batch_size, seed
        self.real_split, self.num_real, self.prefix = real_split, num_real, prefix
        self.image_options = dict(fid=fid, kid=kid, inception_score=inception_score, class_histogram=class_histogram,
                                  kid_subset_size=kid_subset_size, kid_subsets=kid_subsets, is_splits=is_splits)
        self.extractor_options = dict(inception_weights=inception_weights, antialias=antialias,
                                      mnist_weights=mnist_weights)
        self.mode_options = dict(n_std=n_std, min_count=min_count)
        self.samples_per_condition = samples_per_condition
        self.scores: nn.Module | None = None
        self._real_done = False
        self.last: dict[str, float] = {}

    # ----- building ---------------------------------------------------------------------------
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.scores is None:  # built here, in each process (ddp_spawn pickles the callback)
            self.scores = self.build(trainer.datamodule)

    def build(self, datamodule: Any) -> nn.Module:
        if self.features == "mixture":
            mixture = getattr(datamodule, "distribution", None)
            if mixture is None or not hasattr(mixture, "centers"):
                raise ValueError("metrics=modes needs toy mixture data (data=ring8, grid25, mog1d); "
                                 "use metrics=mnist or metrics=inception for images.")
            return MixtureModes(mixture.centers, mixture.stds, mixture.weights, **self.mode_options)
        if not hasattr(datamodule, "reference_images"):
            raise ValueError(f"{type(datamodule).__name__} cannot serve reference images for FID/KID/IS; "
                             "use metrics=none.")
        return ImageScores(build_extractor(self.features, **self.extractor_options), **self.image_options)

    # ----- evaluating -------------------------------------------------------------------------
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        values = self.evaluate(trainer, pl_module)
        for name, value in values.items():
            # identical on every process already; sync_dist averages equal numbers (and keeps
            # Lightning from warning about unsynced epoch-level values)
            pl_module.log(self.prefix + name, value, sync_dist=True)

    @torch.no_grad()
    def evaluate(self, trainer: L.Trainer, pl_module: Any) -> dict[str, float]:
        """Score ``pl_module``'s generator; every process must call this (torchmetrics syncs)."""
        assert self.scores is not None, "setup() builds the metrics"
        self.scores.to(pl_module.device)
        rank, world = trainer.global_rank, trainer.world_size
        self._check_every_process_has_a_batch("num_samples", self.num_samples, world)
        if isinstance(self.scores, ImageScores) and self.scores.needs_real and not self._real_done:
            self._update_real(trainer.datamodule, pl_module.device, rank, world)
            self._real_done = True
        with evaluation_mode(trainer, pl_module):  # eval mode, the generator average when the run keeps one
            for b in range(rank, num_batches(self.num_samples, self.batch_size), world):
                self._update_fake(seeded_fake_batch(pl_module, b, self.num_samples, self.batch_size, self.seed).float())
            conditional = self._condition_accuracy(pl_module, rank, world)
        values = self.scores.compute()
        self.scores.reset()
        if conditional is not None:  # codes learned without labels match digits up to a permutation
            key = "code_accuracy" if pl_module.condition_kind == "code" else "class_accuracy"
            values[key] = conditional.compute()[key]
        self.last = dict(values)
        return values

    def _condition_accuracy(self, pl_module: Any, rank: int, world: int) -> ConditionAccuracy | None:
        """Confusion of requested condition vs the classifier's digit (process r takes conditions r, r+N, ...)."""
        extractor = getattr(self.scores, "extractor", None)
        k = getattr(pl_module, "num_conditions", 0)
        if not (k and hasattr(pl_module, "sample_for_class") and isinstance(extractor, MNISTExtractor)):
            return None
        metric = ConditionAccuracy(k, extractor.num_logits).to(pl_module.device)
        metric.update_from_sampler(lambda n, c, gen: pl_module.sample_for_class(n, c, generator=gen), extractor,
                                   range(rank, k, world), self.samples_per_condition, self.batch_size,
                                   seed=self.seed * 1_000_000 + 999_000)
        return metric

    def _check_every_process_has_a_batch(self, name: str, n: int, world: int) -> None:
        """Batches go to the processes round-robin; a process without one would leave torchmetrics' FID uncomputable."""
        if num_batches(n, self.batch_size) < world:
            raise ValueError(f"metrics.{name}={n} in batches of metrics.batch_size={self.batch_size} gives "
                             f"{num_batches(n, self.batch_size)} batch(es) for {world} processes: set "
                             f"metrics.batch_size={max(1, n // world)} or lower (or raise metrics.{name}).")

    def _update_fake(self, fake: Tensor) -> None:
        if isinstance(self.scores, MixtureModes):
            self.scores.update(fake.flatten(1))
        else:
            self.scores.update(to_uint8(fake), real=False)

    def _update_real(self, datamodule: Any, device: torch.device, rank: int, world: int) -> None:
        train = self.real_split == "train"
        available = len(datamodule.dataset(train))
        num_real = self.num_real or available
        if num_real > available:
            raise ValueError(f"metrics.num_real={num_real} but the {self.real_split} split has {available} images; "
                             f"lower metrics.num_real or set metrics.real_split=train.")
        self._check_every_process_has_a_batch("num_real", num_real, world)
        log.info("Computing real %s statistics of %d %s images (once per process lifetime)", self.features, num_real,
                 self.real_split)
        for b in range(rank, num_batches(num_real, self.batch_size), world):
            start = b * self.batch_size
            images = datamodule.reference_images(train, start, min(start + self.batch_size, num_real))
            self.scores.update(images.to(device), real=True)

    def state_dict(self) -> dict[str, Any]:
        return {"last": self.last}  # small on purpose: no extractor, no statistics (see class doc)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.last = dict(state_dict.get("last", {}))
