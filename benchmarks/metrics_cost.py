"""What generator metrics cost on CPU: feature passes per extractor, and our FID/KID/IS vs torch-fidelity.

Usage::

    python benchmarks/metrics_cost.py                       # ~1 h on 2 idle CPU cores, see below
    python benchmarks/metrics_cost.py --images 16 --rounds 1 --skip-fidelity   # a smoke run
    python benchmarks/metrics_cost.py [--images N] [--threads T] [--rounds R]
                                      [--inception-weights PATH] [--skip-fidelity]

1. Feature passes. Seconds per 1,000 images of each extractor of ``lit_gans.metrics.extractors``
   (``mnist`` on 1x28x28, ``stacked_mnist`` on 3x28x28, ``inception`` on CIFAR-sized 3x32x32),
   in batches of ``--batch-size`` under ``torch.inference_mode``: one pass over ``--images``
   images after one untimed warm-up batch (one pass: section 2 times Inception again anyway).

2. Ours vs torch-fidelity. "Ours" builds ``ImageScores(InceptionExtractor(weights))``, feeds the
   real and then the fake images in batches and calls ``compute()`` (FID, KID, IS from one
   Inception pass per image). "Theirs" is one ``torch_fidelity.calculate_metrics`` call on the same
   uint8 images with the same weights file, which also computes all three from one pass per
   image. Both timings include building the network (torch-fidelity cannot avoid it). The sides
   alternate which runs first (ABBA over rounds, cancelling slow drift); the script prints the
   median seconds of each, the ratio ours/theirs (goal <= 1.05) and the three scores side by side.
   With ``kid_subset_size`` = the sample count every KID subset is the whole set, so the two
   KIDs must agree to float precision; FID must too (same network, same TF-style resize); IS may
   differ because the two libraries shuffle the samples into splits with different RNGs.

Images are random uint8 (seeded; "real" uniform over 0..255, "fake" over 64..191, so the two
sets differ): the cost does not depend on what the images show. When ``--inception-weights`` is
not given and the real weights are not in the torch hub cache, the script builds randomly
initialised weights in a temporary file (same network, same cost) and says so: only the timings
are meaningful then, not the score values (their agreement still is). Section 1 also warms up
the Inception network for section 2 (same shapes and batch sizes).

Inception v3 at 299x299 is ~6 GFLOPs per image, a few tenths of a second per image on 2 CPU
cores; the defaults make ~13,000 Inception passes (1,000 + 3 rounds x 2 sides x 2,000), hence
the hour. ``--rounds 1`` or ``--images 200`` (KID subsets of 200 then) cut it down.

Each timed run prints its CPU utilisation (process CPU seconds / wall seconds): close to the
thread count on an idle machine, lower when another process competes. Check ``top`` first.
``--threads`` sets torch's threads only: torch-fidelity computes FID's covariances and
eigenvalues and KID's kernels in numpy, whose BLAS threads follow ``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS``; set those too when comparing with fewer threads than cores. At small
``--images`` both sides are dominated by FID's eigenvalues of a 2048x2048 product (seconds),
not by the Inception passes, so only runs with ~1,000 images say much about the ratio.
"""

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import torch
import torch_fidelity
import torchmetrics
from torch import Tensor, nn
from torch.utils.data import Dataset
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

from lit_gans.metrics import extractors
from lit_gans.metrics.extractors import InceptionExtractor, MNISTExtractor, StackedMNISTExtractor
from lit_gans.metrics.scores import ImageScores

GOAL = 1.05  # ours / theirs seconds
CLEAN_UTILISATION = 0.9  # a run is flagged contended below this fraction of the thread count
KID_SUBSET_SIZE = 1000  # both libraries' default, reduced to the sample count when smaller
SHAPES = {"mnist": (1, 28, 28), "stacked_mnist": (3, 28, 28), "inception": (3, 32, 32)}


def random_inception_weights(path: Path, seed: int) -> Path:
    """Save a randomly initialised torch-fidelity Inception state dict to ``path`` without network
    (the approach of the ``random_weights`` fixture in tests/metrics/test_inception.py)."""
    module = "torch_fidelity.feature_extractor_inceptionv3"
    torch.manual_seed(seed)
    # The constructor insists on loading a state dict: hand it an empty one and ignore it.
    with (
        mock.patch(f"{module}.load_state_dict_from_url", lambda *a, **k: {}),
        mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None),
    ):
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    for conv in (m for m in net.modules() if isinstance(m, nn.Conv2d)):  # keep the signal alive in depth,
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")  # so features depend on the image
    torch.save(net.state_dict(), path)
    return path


def random_images(n: int, shape: tuple[int, ...], low: int, high: int, seed: int) -> Tensor:
    """(n, *shape) uint8 in [low, high)."""
    return torch.randint(low, high, (n, *shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


class UInt8Images(Dataset):
    """In-memory uint8 (C, H, W) images, the input torch-fidelity takes (a Dataset of tensors)."""

    def __init__(self, images: Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> Tensor:
        return self.images[i]


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(wall seconds, CPU utilisation, result) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu / wall, result


def flag(utilisation: float, threads: int) -> str:
    return "" if utilisation >= CLEAN_UTILISATION * threads else "  contended"


def feature_pass(extractor: nn.Module, images: Tensor, batch_size: int) -> None:
    with torch.inference_mode():
        for batch in images.split(batch_size):
            extractor(batch)


def extractor_costs(weights: Path, args: argparse.Namespace, threads: int) -> None:
    """Section 1: seconds per 1,000 images of each extractor's forward pass."""
    builders: dict[str, Callable[[], nn.Module]] = {
        "mnist": MNISTExtractor,
        "stacked_mnist": StackedMNISTExtractor,
        "inception": lambda: InceptionExtractor(weights),
    }
    print(f"{'extractor':>14} {'input':>9} {'s / 1000 images':>16} {'images/s':>9} {'cpu util':>9}")
    for name, build in builders.items():
        extractor = build().eval()
        images = random_images(args.images, SHAPES[name], 0, 256, args.seed)
        feature_pass(extractor, images[: args.batch_size], args.batch_size)  # warm-up: allocations, oneDNN setup
        seconds, utilisation, _ = timed(lambda: feature_pass(extractor, images, args.batch_size))
        print(
            f"{name:>14} {'x'.join(map(str, SHAPES[name])):>9} {1000 * seconds / args.images:>16.3f} "
            f"{args.images / seconds:>9.1f} {utilisation:>9.2f}{flag(utilisation, threads)}",
            flush=True,
        )


def ours(weights: Path, real: Tensor, fake: Tensor, batch_size: int, kid_subset_size: int) -> dict[str, float]:
    scores = ImageScores(InceptionExtractor(weights), kid_subset_size=kid_subset_size)
    for batch in real.split(batch_size):
        scores.update(batch, real=True)
    for batch in fake.split(batch_size):
        scores.update(batch, real=False)
    return scores.compute()


def theirs(weights: Path, real: Tensor, fake: Tensor, batch_size: int, kid_subset_size: int) -> dict[str, float]:
    out = torch_fidelity.calculate_metrics(
        input1=UInt8Images(fake),  # IS is computed on input1
        input2=UInt8Images(real),
        isc=True,
        fid=True,
        kid=True,
        kid_subset_size=kid_subset_size,
        batch_size=batch_size,
        feature_extractor_weights_path=str(weights),
        cuda=False,
        cache=False,  # unnamed Dataset inputs are not cached anyway; this makes sure every round recomputes
        verbose=False,
        # Without this its DataLoader forks min(4, 2 x cpus) workers per input just to index an
        # in-memory tensor: pure start-up cost, and CPU time outside this process.
        save_cpu_ram=True,
    )
    return {
        "fid": out[torch_fidelity.KEY_METRIC_FID],
        "kid": out[torch_fidelity.KEY_METRIC_KID_MEAN],
        "is": out[torch_fidelity.KEY_METRIC_ISC_MEAN],
    }


def compare_with_fidelity(weights: Path, args: argparse.Namespace, threads: int) -> None:
    """Section 2: ours vs torch-fidelity on the same images, ABBA over rounds."""
    real = random_images(args.images, SHAPES["inception"], 0, 256, args.seed)
    fake = random_images(args.images, SHAPES["inception"], 64, 192, args.seed + 1)
    kid_subset_size = min(KID_SUBSET_SIZE, args.images)
    sides = {
        "ours": lambda: ours(weights, real, fake, args.batch_size, kid_subset_size),
        "theirs": lambda: theirs(weights, real, fake, args.batch_size, kid_subset_size),
    }
    print(f"{args.images} real + {args.images} fake images 3x32x32, kid_subset_size {kid_subset_size}\n")
    print(f"{'round':>5} {'first':>6} {'ours s':>8} {'theirs s':>9} {'ratio':>6} {'cpu util ours/theirs':>21}")
    seconds: dict[str, list[float]] = {"ours": [], "theirs": []}
    values: dict[str, dict[str, float]] = {}
    for r in range(args.rounds):
        order = ("ours", "theirs") if r % 2 == 0 else ("theirs", "ours")
        utilisation: dict[str, float] = {}
        for name in order:
            wall, utilisation[name], values[name] = timed(sides[name])
            seconds[name].append(wall)
        o, t = seconds["ours"][-1], seconds["theirs"][-1]
        print(
            f"{r:>5} {order[0]:>6} {o:>8.2f} {t:>9.2f} {o / t:>6.3f} "
            f"{utilisation['ours']:>16.2f}/{utilisation['theirs']:.2f}"
            f"{flag(min(utilisation.values()), threads)}",
            flush=True,
        )

    med_ours, med_theirs = statistics.median(seconds["ours"]), statistics.median(seconds["theirs"])
    ratio = med_ours / med_theirs
    print(f"\nmedian: ours {med_ours:.2f} s, theirs {med_theirs:.2f} s, ratio ours/theirs {ratio:.3f}")
    print(f"\n{'score':>5} {'ours':>14} {'theirs':>14} {'rel diff':>9}")
    for key in ("fid", "kid", "is"):
        a, b = values["ours"][key], values["theirs"][key]
        print(f"{key:>5} {a:>14.6g} {b:>14.6g} {abs(a - b) / max(abs(b), 1e-12):>9.2e}")
    print(f"\nload average at the end: {load_average()}")
    verdict = "meets" if ratio <= GOAL else "MISSES"
    print(f"ours/theirs seconds {ratio:.3f} {verdict} the goal of <= {GOAL}")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--images", type=int, default=1000, help="images per set (real and fake; per extractor)")
    parser.add_argument("--batch-size", type=int, default=64, help="default: torch-fidelity's")
    parser.add_argument("--rounds", type=int, default=3, help="ABBA rounds of ours vs torch-fidelity")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="default: all cores")
    parser.add_argument("--inception-weights", type=Path, default=None, help="the .pth (default: torch hub cache)")
    parser.add_argument("--skip-fidelity", action="store_true", help="only the feature passes (section 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.images < 2 or args.rounds < 1 or args.batch_size < 1:
        parser.error("need --images >= 2 (KID needs two samples), --rounds >= 1 and --batch-size >= 1")
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    print(
        f"torch {torch.__version__}, torchmetrics {torchmetrics.__version__}, torch-fidelity "
        f"{torch_fidelity.__version__}, torch threads {threads}, cpus {os.cpu_count()}, "
        f"load average {load_average()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        weights = args.inception_weights
        if weights is None and extractors.inception_cache_path().is_file():
            weights = extractors.inception_cache_path()
        if weights is None:  # resolve_inception_weights would try to download: don't
            weights = random_inception_weights(Path(tmp) / "random-inception.pth", args.seed)
            print(
                "Inception weights: RANDOM (the real file is not in the torch hub cache and no "
                "--inception-weights was given). Timings are valid; score values are not."
            )
        else:
            weights = extractors.resolve_inception_weights(weights)  # checks the file exists
            print(f"Inception weights: {weights}")

        print(f"\n1. Feature pass, batch {args.batch_size}, {args.images} images\n")
        extractor_costs(weights, args, threads)
        if not args.skip_fidelity:
            print("\n2. FID + KID + IS: ours (ImageScores + InceptionExtractor) vs torch_fidelity.calculate_metrics\n")
            compare_with_fidelity(weights, args, threads)


if __name__ == "__main__":
    main()
