"""MNIST Parzen-window log-likelihoods (nats) beside the published ones: real digits (a ceiling) and checkpoints.

Usage::

    python benchmarks/parzen_mnist.py                                   # the real-data ceiling only
    python benchmarks/parzen_mnist.py --ckpt outputs/<run>/checkpoints/last.ckpt [--ckpt ...]

Goodfellow et al. 2014's protocol (their parzen_ll.py, `lit_gans.metrics.parzen`): a Gaussian kernel on each of
10,000 samples, σ the best of logspace(-1, 0, 10) on 1,000 validation images (train[50000:51000]), the mean
log-likelihood of the 10,000 test images ± its standard error, pixels in [0, 1]. "real" uses 10,000 training digits
(train[0:10000], disjoint from the validation images) as the samples: what a generator that reproduced training
digits would score with this estimator. A checkpoint is scored by the `ParzenLikelihood` callback, as
``python evaluate.py ckpt_path=... callbacks=parzen metrics=none`` would. CPU seconds are this process's.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import lightning as L
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_numbers import PARZEN_MNIST  # noqa: E402

from lit_gans.callbacks import ParzenLikelihood  # noqa: E402
from lit_gans.data import TorchvisionDataModule  # noqa: E402
from lit_gans.metrics.parzen import ParzenResult, parzen_window  # noqa: E402
from lit_gans.sampling import load_model  # noqa: E402


def real_ceiling(data: TorchvisionDataModule, num_samples: int, callback: ParzenLikelihood) -> ParzenResult:
    valid, test = callback.reals(data)
    samples = data.reference_images(True, 0, num_samples).flatten(1).float() / 255
    return parzen_window(samples, valid, test, callback.sigmas)


def checkpoint_score(path: Path, data: TorchvisionDataModule, callback: ParzenLikelihood) -> dict[str, float]:
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[callback], limit_val_batches=1)
    trainer.validate(load_model(path), datamodule=data, verbose=False)
    return dict(callback.last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ckpt", type=Path, action="append", default=[], help="a lit_gans MNIST checkpoint")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = TorchvisionDataModule("mnist", download=False)
    data.setup("fit")
    rows = []
    start = time.process_time()
    callback = ParzenLikelihood(num_samples=args.num_samples)
    real = real_ceiling(data, args.num_samples, callback)
    rows.append(("real training digits (ceiling)", real.mean, real.stderr, real.sigma, time.process_time() - start))
    for path in args.ckpt:
        start = time.process_time()
        scores = checkpoint_score(path, data, callback)
        rows.append((str(path), scores["parzen_ll"], scores["parzen_ll_se"], scores["parzen_sigma"],
                     time.process_time() - start))
    print(f"MNIST Parzen-window log-likelihood, {args.num_samples} samples, 10,000 test images (nats, higher is better)")
    print(f"{'model':<60} {'LL':>9} {'± se':>6} {'σ':>7} {'CPU s':>7}")
    for name, mean, se, sigma, cpu in rows:
        print(f"{name:<60} {mean:9.1f} {se:6.1f} {sigma:7.4f} {cpu:7.1f}")
    for name, (mean, se, source) in PARZEN_MNIST.items():
        print(f"{name + ' (published, ' + source + ')':<60} {mean:9.1f} {se:6.1f}")
    print(json.dumps([dict(zip(("model", "ll", "se", "sigma", "cpu_s"), r)) for r in rows]))


if __name__ == "__main__":
    main()
