"""PPGN on MNIST: how often our classifier sees the requested class, how diverse the samples are, and FID per class,
beside a cGAN's samples and real digits.

Usage::

    python benchmarks/guided_ppgn.py --ppgn-ckpt <model=ppgn_dae run>/checkpoints/last.ckpt \\
                                     --cgan-ckpt <model=cgan run>/checkpoints/last.ckpt
    python benchmarks/guided_ppgn.py --quick ...          # 10 samples per class, 50 steps: checks the pipeline

Rows: PPGN with the "noiseless joint PPGN-h" sampler preset (`lit_gans.ppgn`, ε1 = 1e-5, ε2 = 1, ε3 = 1e-17, the
authors' normalised step scaled to our code box, 200 steps); the same chain with ε1 = 0 (no learned prior: DGN-AM's
sampler, Nguyen et al. 2016, the paper's baseline); G(z) unguided, each image counted under the class our classifier
gives it (what G draws on its own); the cGAN's G(z, c); real test digits (the floor/ceiling). Columns, per method over
n samples of each class 0-9:
  * accuracy: the fraction our classifier assigns to the requested class;
  * diversity: the mean pairwise Euclidean distance of classifier features (128-d penultimate layer) over all
    samples, classes mixed (the issue's measure), and within a class (averaged over the classes): a sampler that
    hits the class with one prototype per class scores high accuracy and low within-class diversity;
  * FID per class: Fréchet distance between the class's samples and the real test digits of that class in the same
    features (mean over classes; n samples against ~1,000 real per class, so compare rows with each other and with
    the real row computed the same way, not with 10k-sample FIDs).
The paper measured none of these on MNIST (ImageNet: Inception score and human studies); see docs/sections/ppgn.md.
Results go to ``benchmarks/out/guided_ppgn[_<tag>]/result.json`` with sample grids beside it.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import linalg
from torchvision.utils import save_image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wgan_common import out_dir, set_threads  # noqa: E402

from lit_gans.metrics.mnist_classifier import load_mnist_classifier  # noqa: E402
from lit_gans.ppgn import ppgn_samples, preset  # noqa: E402
from lit_gans.sampling import load_model  # noqa: E402

CLASSES = list(range(10))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ppgn-ckpt", required=True, help="a model=ppgn_dae (or ppgn_joint) checkpoint")
    parser.add_argument("--cgan-ckpt", default=None, help="a model=cgan checkpoint (its row is skipped without one)")
    parser.add_argument("--n-per-class", type=int, default=100)
    parser.add_argument("--steps", type=int, default=200, help="PPGN chain length (the preset's 200)")
    parser.add_argument("--preset", default="noiseless_joint_ppgn_h")
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $LIT_GANS_DATA_DIR or ./data)")
    parser.add_argument("--quick", action="store_true", help="10 per class, 50 steps")
    parser.add_argument("--tag", default="", help="output folder benchmarks/out/guided_ppgn[_quick][_<tag>]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)


def real_test_digits(root: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST test images in [-1, 1] (N, 1, 28, 28) and their labels."""
    import os

    from torchvision.datasets import MNIST

    ds = MNIST(root or os.environ.get("LIT_GANS_DATA_DIR", "data"), train=False, download=False)
    x = ds.data[:, None].float() / 255 * 2 - 1
    return x, ds.targets.clone()


@torch.no_grad()
def features_and_predictions(classifier: torch.nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    feats, preds = [], []
    for part in images.split(500):
        f = classifier.features(part)
        feats.append(f)
        preds.append(classifier.head(f).argmax(1))
    return torch.cat(feats).double(), torch.cat(preds)


def frechet(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, F)."""
    mu1, mu2 = a.mean(0).numpy(), b.mean(0).numpy()
    s1, s2 = np.cov(a.numpy(), rowvar=False), np.cov(b.numpy(), rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def mean_pairwise_distance(f: torch.Tensor) -> float:
    d = torch.cdist(f, f)
    n = len(f)
    return float(d.sum() / (n * (n - 1))) if n > 1 else float("nan")


def score(name: str, images: torch.Tensor, labels: torch.Tensor, classifier: torch.nn.Module,
          real_feats: dict[int, torch.Tensor], seconds: float, count_predicted: bool = False) -> dict:
    """Accuracy, diversity (mixed and within class) and FID per class of images asked to be ``labels``
    (``count_predicted``: unguided samples, grouped by the class the classifier gives them)."""
    feats, preds = features_and_predictions(classifier, images)
    groups = preds if count_predicted else labels
    within, fids = [], []
    for c in CLASSES:
        fc = feats[groups == c]
        if len(fc) > 1:
            within.append(mean_pairwise_distance(fc))
            fids.append(frechet(fc, real_feats[c]))
    return {"name": name, "n": len(images), "seconds": seconds,
            "accuracy": None if count_predicted else float((preds == labels).float().mean()),
            "diversity_mixed": mean_pairwise_distance(feats), "diversity_within": float(np.mean(within)),
            "fid_per_class": float(np.mean(fids)), "fid_by_class": fids,
            "class_counts": torch.bincount(groups, minlength=10).tolist()}


def run(args: argparse.Namespace) -> dict:
    set_threads(args.threads)
    out = out_dir("guided_ppgn" + ("_quick" if args.quick else "") + (f"_{args.tag}" if args.tag else ""))
    n = 10 if args.quick else args.n_per_class
    steps = 50 if args.quick else args.steps
    classifier = load_mnist_classifier()
    real_x, real_y = real_test_digits(args.data_dir)
    real_f, _ = features_and_predictions(classifier, real_x)
    real_feats = {c: real_f[real_y == c] for c in CLASSES}
    labels = torch.tensor([c for c in CLASSES for _ in range(n)])
    rows = []

    model = load_model(args.ppgn_ckpt)
    for name, settings in (("PPGN (" + args.preset + ")", preset(args.preset, steps=steps)),
                           ("PPGN, ε1 = 0 (no prior; DGN-AM)", preset(args.preset, steps=steps, eps1=0.0))):
        start = time.process_time()
        result = ppgn_samples(model, CLASSES, n, settings, classifier, generator=torch.Generator().manual_seed(args.seed))
        rows.append(score(name, result["images"].detach(), labels, classifier, real_feats, time.process_time() - start))
        save_image(result["images"][labels.argsort(stable=True)].view(10, n, 1, 28, 28)[:, :10].flatten(0, 1),
                   out / f"{name.split(' ')[0]}_{len(rows)}.png", nrow=10, normalize=True, value_range=(-1, 1))
        print(f"[{name}] {time.process_time() - start:.0f} s CPU", flush=True)
    start = time.process_time()
    with torch.no_grad():
        unguided = model.decode(model.start_codes(len(labels), generator=torch.Generator().manual_seed(args.seed)))
    rows.append(score("G(z), unguided (grouped by predicted class)", unguided, labels, classifier, real_feats,
                      time.process_time() - start, count_predicted=True))
    if args.cgan_ckpt:
        cgan = load_model(args.cgan_ckpt)
        start = time.process_time()
        with torch.no_grad():
            g = torch.Generator().manual_seed(args.seed)
            images = cgan.generator(cgan.sample_latent(len(labels), generator=g), labels.to(cgan.device))
        rows.append(score("cGAN G(z, c)", images, labels, classifier, real_feats, time.process_time() - start))
        save_image(images.view(10, n, 1, 28, 28)[:, :10].flatten(0, 1), out / "cgan.png", nrow=10, normalize=True,
                   value_range=(-1, 1))
    idx = torch.cat([torch.nonzero(real_y == c).flatten()[:n] for c in CLASSES])
    # real digits: n per class against all the test digits of the class (they include these n: a floor, not a 0)
    rows.append(score("real test digits", real_x[idx], real_y[idx], classifier, real_feats, 0.0))
    result = {"args": {k: v for k, v in vars(args).items()}, "n_per_class": n, "steps": steps, "rows": rows}
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result


def table(result: dict) -> str:
    lines = [(f"PPGN vs cGAN on MNIST ({result['n_per_class']} samples per class, chains of {result['steps']} steps; "
              "features and classes by our MNIST classifier)"),
             f"{'method':48s} {'accuracy':>9s} {'div. mixed':>10s} {'div. within':>11s} {'FID/class':>9s} {'CPU s':>7s}"]
    for r in result["rows"]:
        acc = f"{100 * r['accuracy']:.1f}%" if r["accuracy"] is not None else "n/a"
        lines.append(f"{r['name']:48s} {acc:>9s} {r['diversity_mixed']:10.2f} {r['diversity_within']:11.2f} "
                     f"{r['fid_per_class']:9.1f} {r['seconds']:7.0f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print(table(run(parser.parse_args())))


if __name__ == "__main__":
    main()
