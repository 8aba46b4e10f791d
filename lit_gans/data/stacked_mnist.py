"""Stacked MNIST: three MNIST digits as the R, G and B channels of one image, hence 1000 modes.

The mode-collapse benchmark of Metz et al. 2016 ("Unrolled Generative Adversarial Networks"),
Srivastava et al. 2017 ("VEEGAN", Table 2) and Lin et al. 2018 ("PacGAN", Tables 2 and 3).
Only the (N, 3) digit indices are stored; images are gathered from the uint8 MNIST digits one
batch at a time, so 128,000 samples cost 3 MB instead of 300 MB of composed images.
"""

import torch
from torch import Tensor

from lit_gans.data.batched import Batch, BatchedTensorDataset
from lit_gans.data.images import TorchvisionDataModule, to_unit_range
from lit_gans.data.splits import PreloadedSplits

# label = 100 * d_R + 10 * d_G + d_B: the digits read as a three-digit number
_PLACE = torch.tensor([100, 10, 1])


class StackedDigits(BatchedTensorDataset):
    """`(images (3, H, W), label)` composed on the fly from `digits` (M, H, W) uint8.

    `.data` holds the (N, 3) int64 digit indices of each sample (R, G, B), not images: `images`
    gives the uint8 images. `__getitems__` (inherited) gathers a whole batch in one call.
    """

    def __init__(self, digits: Tensor, digit_labels: Tensor, triples: Tensor) -> None:
        if digits.dim() != 3 or triples.dim() != 2 or triples.shape[1] != 3:
            raise ValueError(f"need digits (M, H, W) and triples (N, 3), got {digits.shape}, {triples.shape}")
        super().__init__(triples, (digit_labels[triples] * _PLACE).sum(dim=1))
        self.digits = digits

    def images(self, index: int | slice | Tensor) -> Tensor:
        """uint8 images (B, 3, H, W) (or (3, H, W) for an int) of the samples at `index`."""
        return self.digits[self.data[index]]  # (B, 3) indices -> (B, 3, H, W)

    def _take(self, index: int | Tensor) -> Batch:
        return to_unit_range(self.images(index)), self.labels[index]


class StackedMNISTDataModule(PreloadedSplits):
    """Stacked MNIST as `(images (B, 3, H, W) float32 in [-1, 1], labels (B,) int64)`, where the
    label `100 * d_R + 10 * d_G + d_B` names one of the 1000 modes.

    The `num_samples` training images stack three MNIST training digits drawn uniformly with
    replacement from `torch.Generator().manual_seed(seed)`, so a seed fixes the data set. The
    default 128,000 is the fixed training set of the VEEGAN protocol in PacGAN's released code
    (PacGAN Table 2; 26,000 generated samples are then classified; that code draws from the
    70,000 train + test digits). Metz et al. (PacGAN Table 3) draw fresh triples of training
    digits for every batch instead. Validation and test loaders serve `num_val_samples` triples
    of MNIST *test* digits drawn with `seed + 1`. Files, downloads and errors are those of
    `TorchvisionDataModule("mnist")`; `image_size=32` resizes the digits before stacking.
    """

    def __init__(
        self,
        root: str | None = None,
        num_samples: int = 128_000,
        num_val_samples: int = 10_000,
        image_size: int | None = None,
        batch_size: int = 64,
        seed: int = 0,
        num_workers: int = 0,
        download: bool = True,
        drop_last: bool = True,
        pin_memory: bool = False,
    ) -> None:
        super().__init__(batch_size, num_workers, drop_last, pin_memory)
        self.mnist = TorchvisionDataModule("mnist", root=root, image_size=image_size, download=download)
        self.num_samples, self.num_val_samples, self.seed = num_samples, num_val_samples, seed
        size = self.mnist.image_size
        self.shape: tuple[int, int, int] = (3, size, size)
        self.num_classes: int = 1000

    def prepare_data(self) -> None:
        """Download MNIST if missing and allowed; otherwise fail with `DatasetNotFoundError`."""
        self.mnist.prepare_data()

    def _build(self, train: bool) -> StackedDigits:
        """The training set (train digits, `seed`) or the evaluation set (test digits, `seed + 1`)."""
        mnist = self.mnist.dataset(train)
        digits = mnist.data[:, 0]  # (M, 1, H, W) -> (M, H, W), a view
        # seed + 1: from the same seed, randint(10_000) would return the training indices
        # modulo 10,000 (same random bits), tying the evaluation triples to the training ones.
        n, seed = (self.num_samples, self.seed) if train else (self.num_val_samples, self.seed + 1)
        triples = torch.randint(len(digits), (n, 3), generator=torch.Generator().manual_seed(seed))
        return StackedDigits(digits, mnist.labels, triples)
