"""MNIST Parzen-window log-likelihoods (nats) beside the published ones: real digits (a ceiling) and checkpoints.

Usage::

    python benchmarks/parzen_mnist.py                                   # the real-data ceiling only
    python benchmarks/parzen_mnist.py --ckpt outputs/<run>/checkpoints/last.ckpt [--ckpt ...]
    python benchmarks/parzen_mnist.py --lapgan-batches 100             # + a short LAPGAN run, per scale and whole

Goodfellow et al. 2014's protocol (their parzen_ll.py, `lit_gans.metrics.parzen`): a Gaussian kernel on each of
10,000 samples, σ the best of logspace(-1, 0, 10) on 1,000 validation images (train[50000:51000]), the mean
log-likelihood of the 10,000 test images ± its standard error, pixels in [0, 1]. "real" uses 10,000 training digits
(train[0:10000], disjoint from the validation images) as the samples: what a generator that reproduced training
digits would score with this estimator. A checkpoint is scored by the `ParzenLikelihood` callback, as
``python evaluate.py ckpt_path=... callbacks=parzen metrics=none`` would. CPU seconds are this process's.

``--lapgan-batches N`` trains ``experiment=lapgan_mnist`` (7 -> 14 -> 28) for N batches of 64 (seed 0, one epoch cut
short; run folder benchmarks/out/parzen_mnist/lapgan) and scores the one model twice: Denton et al.'s per-scale
estimate (`lit_gans.metrics.parzen_pyramid`: level 0 on the same number of G_0 samples, each finer level on
``--samples-per-image`` draws of G_k conditioned on each image's own l_k, σ per level on ``--per-scale-valid``
validation images, the first ``--per-scale-test`` test images) and the whole-image estimate of its chained samples
(as every other row). ``--lapgan-ckpt`` scores a LAPGAN checkpoint instead of training one. The per-scale nats are
over the pyramid's 49 + 196 + 784 coefficients: compare them model with model, not with the whole-image rows.
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


def model_score(model: L.LightningModule, data: TorchvisionDataModule, callback: ParzenLikelihood) -> dict[str, float]:
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[callback], limit_val_batches=1)
    trainer.validate(model, datamodule=data, verbose=False)
    return dict(callback.last)


def short_lapgan(batches: int, threads: int) -> L.LightningModule:
    """``experiment=lapgan_mnist`` trained for ``batches`` batches of 64 (seed 0), as python train.py would."""
    from wgan_common import out_dir, run_experiment

    overrides = ["seed=0", "batch_size=64", "trainer.max_epochs=1", f"trainer.limit_train_batches={batches}",
                 "trainer.limit_val_batches=1", "metrics=none", "~callbacks.samples"]
    model = run_experiment("lapgan", "lapgan_mnist", overrides, out_dir("parzen_mnist")).objects["model"]
    torch.set_num_threads(threads)  # training may have changed it
    return model


def lapgan_rows(model: L.LightningModule, data: TorchvisionDataModule, args: argparse.Namespace,
                name: str) -> list[tuple]:
    """The per-scale estimate (its levels in the name) and the whole-image estimate of one LAPGAN."""
    rows = []
    per_scale = ParzenLikelihood(num_samples=args.num_samples, per_scale=True, samples_per_image=args.samples_per_image,
                                 per_scale_num_valid=args.per_scale_valid, per_scale_num_test=args.per_scale_test)
    start = time.process_time()
    s = model_score(model, data, per_scale)
    levels = range(len(model.hparams.sizes))
    terms = ", ".join(f"{s[f'parzen_ll_level{k}']:.1f} (σ {s[f'parzen_sigma_level{k}']:.3f})" for k in levels)
    rows.append((f"{name}, per scale: {terms}", s["parzen_ll"], s["parzen_ll_se"], s["parzen_sigma_level0"],
                 time.process_time() - start))
    start = time.process_time()
    s = model_score(model, data, ParzenLikelihood(num_samples=args.num_samples, per_scale=False))
    rows.append((f"{name}, whole image", s["parzen_ll"], s["parzen_ll_se"], s["parzen_sigma"], time.process_time() - start))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ckpt", type=Path, action="append", default=[], help="a lit_gans MNIST checkpoint")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lapgan-batches", type=int, default=0, help="train experiment=lapgan_mnist this many batches of 64")
    parser.add_argument("--lapgan-ckpt", type=Path, help="score this LAPGAN checkpoint per scale and whole")
    parser.add_argument("--samples-per-image", type=int, default=100, help="per scale: G_k draws per image and level")
    parser.add_argument("--per-scale-valid", type=int, default=100, help="per scale: validation images choosing σ_k")
    parser.add_argument("--per-scale-test", type=int, default=500, help="per scale: test images scored")
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
        scores = model_score(load_model(path), data, callback)
        rows.append((str(path), scores["parzen_ll"], scores["parzen_ll_se"], scores["parzen_sigma"],
                     time.process_time() - start))
    if args.lapgan_ckpt:
        rows += lapgan_rows(load_model(args.lapgan_ckpt), data, args, str(args.lapgan_ckpt))
    if args.lapgan_batches:
        start = time.process_time()
        model = short_lapgan(args.lapgan_batches, args.threads)
        print(f"LAPGAN: {args.lapgan_batches} batches of 64 in {time.process_time() - start:.0f} CPU s")
        rows += lapgan_rows(model, data, args, f"LAPGAN ({args.lapgan_batches} batches)")
    print(f"MNIST Parzen-window log-likelihood, {args.num_samples} samples, 10,000 test images (nats, higher is better)")
    if args.lapgan_batches or args.lapgan_ckpt:
        print(f"per scale: level 0 on {args.num_samples} samples, levels k >= 1 on {args.samples_per_image} draws per "
              f"image; σ_k on {args.per_scale_valid} validation images, {args.per_scale_test} test images; "
              "the levels' terms with their σ; the σ column is level 0's")
    print(f"{'model':<92} {'LL':>9} {'± se':>6} {'σ':>7} {'CPU s':>7}")
    for name, mean, se, sigma, cpu in rows:
        print(f"{name:<92} {mean:9.1f} {se:6.1f} {sigma:7.4f} {cpu:7.1f}")
    for name, (mean, se, source) in PARZEN_MNIST.items():
        print(f"{name + ' (published, ' + source + ')':<92} {mean:9.1f} {se:6.1f}")
    print(json.dumps([dict(zip(("model", "ll", "se", "sigma", "cpu_s"), r)) for r in rows]))


if __name__ == "__main__":
    main()
