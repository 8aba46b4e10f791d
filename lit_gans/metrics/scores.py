"""FID, KID, IS (torchmetrics) and a class histogram over one feature pass per image.

The torchmetrics objects get an identity "extractor" (`Precomputed`) and are fed the features
our extractor computed once, so FID, KID and IS share one Inception pass. Their states are
torchmetrics states: FID's are sums (all-reduced across DDP processes), KID's and IS's are
feature lists (all-gathered); every process must call `compute()`.
"""

import warnings
from collections.abc import Callable, Iterable, Iterator

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.image import FrechetInceptionDistance, InceptionScore, KernelInceptionDistance

from lit_gans.metrics.extractors import to_uint8
from lit_gans.metrics.modes import coverage_from_counts


class Precomputed(nn.Module):
    """The identity, dressed as a torchmetrics feature extractor for features computed elsewhere."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


class ClassHistogram(Metric):
    """Counts of predicted classes (argmax of the logits) of generated images, summed across
    processes: how many classes (modes) a generator covers and KL(histogram ‖ uniform), the
    mode-collapse measures of Metz et al. 2017 (Unrolled GAN) and Srivastava et al. 2017 (VEEGAN)."""

    full_state_update = False

    def __init__(self, num_classes: int, min_count: int = 1) -> None:
        super().__init__()
        self.num_classes, self.min_count = num_classes, min_count
        self.add_state("counts", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, labels: Tensor) -> None:
        self.counts += torch.bincount(labels.flatten().long(), minlength=self.num_classes)

    def compute(self) -> dict[str, float]:
        n = int(self.counts.sum())
        coverage = coverage_from_counts(self.counts, n, n, min_count=self.min_count)
        return {"classes_covered": float(coverage.modes_covered), "class_kl": coverage.reverse_kl}


class ConditionAccuracy(Metric):
    """How often generated images show what they were asked for: confusion counts (K conditions x
    C classes) of a classifier's predictions, summed across processes.

    ``code_accuracy``: the best one-to-one assignment of conditions to classes
    (`scipy.optimize.linear_sum_assignment`), for codes learned without labels (InfoGAN's
    categorical code; the paper reports 5% error on MNIST). ``class_accuracy``: condition k must
    be class k (conditional GANs trained with labels).

    Example:
        >>> m = ConditionAccuracy(2, 2)
        >>> m.update(0, torch.tensor([1, 1, 1, 0])); m.update(1, torch.tensor([0, 0, 0, 0]))
        >>> {k: round(v, 3) for k, v in m.compute().items()}
        {'code_accuracy': 0.875, 'class_accuracy': 0.125}
    """

    full_state_update = False

    def __init__(self, num_conditions: int, num_classes: int) -> None:
        super().__init__()
        self.add_state("confusion", torch.zeros(num_conditions, num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, condition: int, predicted: Tensor) -> None:
        self.confusion[condition] += torch.bincount(predicted.flatten(), minlength=self.confusion.shape[1])

    @torch.no_grad()
    def update_from_sampler(self, sample_for_class: Callable[[int, int, torch.Generator], Tensor], extractor: nn.Module,
                            conditions: Iterable[int], per_condition: int, batch_size: int, seed: int) -> None:
        """Count ``per_condition`` images of each of ``conditions``: ``sample_for_class(n, k, generator)`` draws them
        (in [-1, 1], noise seeded ``seed + k``), ``extractor``'s logits classify them."""
        for condition in conditions:
            gen = torch.Generator().manual_seed(seed + condition)
            for start in range(0, per_condition, batch_size):
                images = to_uint8(sample_for_class(min(batch_size, per_condition - start), condition, gen).float())
                self.update(condition, extractor(images)["logits"].argmax(dim=1))

    def compute(self) -> dict[str, float]:
        from scipy.optimize import linear_sum_assignment

        confusion = self.confusion.cpu()
        total = max(int(confusion.sum()), 1)
        rows, cols = linear_sum_assignment(confusion.numpy(), maximize=True)
        k = min(confusion.shape)
        return {"code_accuracy": float(confusion[rows, cols].sum()) / total,
                "class_accuracy": float(confusion[:k, :k].trace()) / total}


class ImageScores(nn.Module):
    """Generator metrics over features from ``extractor`` (see `lit_gans.metrics.extractors`).

    ``update(images, real)`` takes uint8 (N, C, H, W). Real statistics are kept by `reset()`
    (``reset_real_features=False``): they are computed once, fakes are scored again each time.
    FID runs in float64 (in float32 it depends on the batch size, torchmetrics #1620).
    """

    def __init__(
        self,
        extractor: nn.Module,
        fid: bool = True,
        kid: bool = True,
        inception_score: bool = True,
        class_histogram: bool = False,
        kid_subset_size: int = 1000,
        kid_subsets: int = 100,
        is_splits: int = 10,
    ) -> None:
        super().__init__()
        self.extractor = extractor.eval().requires_grad_(False)
        d = extractor.num_features
        self.fid = FrechetInceptionDistance(Precomputed(d), reset_real_features=False) if fid else None
        if self.fid is not None:
            self.fid.set_dtype(torch.float64)
        logits = getattr(extractor, "num_logits", None)
        with warnings.catch_warnings():  # "will save all extracted features": we know, that is KID and IS
            warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
            self.kid = (
                KernelInceptionDistance(Precomputed(d), subsets=kid_subsets, subset_size=kid_subset_size,
                                        reset_real_features=False)
                if kid else None
            )
            self.inception_score = (
                InceptionScore(Precomputed(logits), splits=is_splits) if inception_score and logits else None
            )
        self.kid_subset_size = kid_subset_size
        self.class_histogram = ClassHistogram(logits) if class_histogram and logits else None

    def train(self, mode: bool = True) -> "ImageScores":
        return super().train(False)  # the extractor stays in eval mode (BatchNorm, dropout)

    @property
    def needs_real(self) -> bool:
        return self.fid is not None or self.kid is not None

    def _metrics(self) -> Iterator[Metric]:
        return (m for m in (self.fid, self.kid, self.inception_score, self.class_histogram) if m is not None)

    @torch.no_grad()
    def update(self, images: Tensor, real: bool) -> None:
        if images.dtype != torch.uint8:
            raise TypeError(f"ImageScores.update takes uint8 images, got {images.dtype}; see extractors.to_uint8.")
        with torch.autocast(images.device.type, enabled=False):  # metrics stay in full precision
            out = self.extractor(images)
        if self.fid is not None:
            self.fid.update(out["features"].double(), real=real)  # float64 in, float64 FID out
        if self.kid is not None:
            self.kid.update(out["features"].float(), real=real)
        if not real:
            if self.inception_score is not None:
                self.inception_score.update(out["logits"].float())
            if self.class_histogram is not None:
                self.class_histogram.update(out["logits"].argmax(dim=1))

    def compute(self) -> dict[str, float]:
        """Synced across processes (call on every rank). Keys: fid, kid, kid_std, is, is_std,
        classes_covered, class_kl (those enabled)."""
        self._one_tensor_per_list_state()
        # KID and IS draw subsets with the global RNG: fork it so evaluation leaves training's
        # random stream (and so exact resume) untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # the same subsets every evaluation
            out: dict[str, float] = {}
            if self.fid is not None:
                out["fid"] = float(self.fid.compute())
            if self.kid is not None:
                # KID needs subset_size <= samples: with few samples use them all in each subset
                n_real, n_fake = _global_counts(self.kid)
                self.kid.subset_size = min(self.kid_subset_size, n_real, n_fake)
                mean, std = self.kid.compute()
                out["kid"], out["kid_std"] = float(mean), float(std)
            if self.inception_score is not None:
                mean, std = self.inception_score.compute()
                out["is"], out["is_std"] = float(mean), float(std)
            if self.class_histogram is not None:
                out.update(self.class_histogram.compute())
        return out

    def _one_tensor_per_list_state(self) -> None:
        """KID's and IS's feature lists (``dist_reduce_fx=None``) are all-gathered element by
        element: processes with different numbers of ``update`` calls would pair up different
        collectives and hang or mix features. One (possibly empty) tensor per list makes it one
        gather everywhere; `gather_all_tensors` handles the uneven lengths."""
        lists = []
        if self.kid is not None:
            lists += [(self.kid, "real_features", self.extractor.num_features),
                      (self.kid, "fake_features", self.extractor.num_features)]
        if self.inception_score is not None:
            lists.append((self.inception_score, "features", self.extractor.num_logits))
        for metric, name, dim in lists:
            parts = getattr(metric, name)
            empty = torch.zeros(0, dim, device=metric.device)
            setattr(metric, name, [torch.cat([empty, *parts]) if parts else empty])

    def reset(self) -> None:
        """Forget the generated images (real statistics stay)."""
        for metric in self._metrics():
            metric.reset()

    def reset_real(self) -> None:
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.reset_real_features = True
                metric.reset()
                metric.reset_real_features = False


def _global_counts(kid: KernelInceptionDistance) -> tuple[int, int]:
    """Real and fake feature counts summed over processes (KID gathers them before computing)."""
    counts = torch.tensor([sum(len(t) for t in kid.real_features), sum(len(t) for t in kid.fake_features)],
                          device=kid.device)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.all_reduce(counts)  # every process calls compute(), so every process gets here
    return int(counts[0]), int(counts[1])
