"""InfoGAN on MNIST across seeds: how often does the categorical code become the digit type?

Trains ``experiment=<name> seed=<s>`` through ``lit_gans.training.train`` and, every ``--every``
generator steps, scores the categorical code on ``--per-code`` images per code with our MNIST
classifier: code accuracy (best one-to-one code-digit matching, as ``val/code_accuracy``), the
digits that are no code's majority ("orphans": two codes share them or one code draws two digits),
and the code -> majority digit table. One JSON line per evaluation goes to ``<out>/history.jsonl``.

    python benchmarks/infogan_seeds.py --experiment infogan_mnist_authors_code --seed 0 \\
        --out runs/infogan/authors_s0 -- trainer.max_epochs=2

Anything after ``--`` is a Hydra override. Not a test: nothing here asserts.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import compose_experiment  # noqa: E402

from lit_gans.metrics.extractors import MNISTExtractor, to_uint8  # noqa: E402
from lit_gans.training import train  # noqa: E402


def code_confusion(model: Any, extractor: MNISTExtractor, per_code: int, seed: int = 0) -> np.ndarray:
    """(K codes, 10 digits) counts of the classifier's digit for ``per_code`` images of each code, drawn from a
    fixed generator (the same z at every evaluation) with G in eval mode."""
    was_training = model.training
    model.eval()
    k = model.num_conditions
    confusion = np.zeros((k, 10), dtype=np.int64)
    with torch.no_grad():
        for code in range(k):
            gen = torch.Generator().manual_seed(seed * 1000 + code)
            images = to_uint8(model.sample_for_class(per_code, code, generator=gen).float())
            digits = extractor(images)["logits"].argmax(dim=1)
            confusion[code] += np.bincount(digits.numpy(), minlength=10)
    model.train(was_training)
    return confusion


def summarise(confusion: np.ndarray) -> dict[str, Any]:
    """Code accuracy (Hungarian matching), each code's majority digit and purity, the digits no code claims, and
    each digit's share of all generated images (a dropped digit has ~0: a mode G lost, not a code mix-up)."""
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    majority = confusion.argmax(axis=1)
    return {"code_accuracy": float(confusion[rows, cols].sum() / confusion.sum()),
            "majority": majority.tolist(),
            "orphans": sorted(set(range(confusion.shape[1])) - set(majority.tolist())),
            "purity": (confusion.max(axis=1) / confusion.sum(axis=1)).round(3).tolist(),
            "digit_share": (confusion.sum(axis=0) / confusion.sum()).round(3).tolist()}


def q_on_real(model: Any, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """Q as a classifier of real digits (D and Q in eval mode): its accuracy under the best code-digit matching
    and the entropy of how its argmax spreads over the codes (ln 10 = 2.303 when every code takes a tenth of the data; a code
    holding two digits lowers it). The entropy needs no labels."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        x = images.float() / 127.5 - 1  # uint8 -> the [-1, 1] the networks read
        # in chunks: D's score is computed alongside, and a minibatch-discrimination head costs O(n²) memory
        features = torch.cat([model._features_and_score(chunk)[0] for chunk in x.split(250)])
        logits = model.q_head(features)[0][:, :model.num_conditions]
    model.train(was_training)
    predicted = logits.argmax(dim=1).numpy()
    confusion = np.zeros((model.num_conditions, 10), dtype=np.int64)
    np.add.at(confusion, (predicted, labels.numpy()), 1)
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    marginal = torch.bincount(logits.argmax(dim=1), minlength=model.num_conditions).float() / len(logits)
    return {"q_real_accuracy": round(float(confusion[rows, cols].sum() / confusion.sum()), 4),
            "q_real_marginal_entropy": round(float(-(marginal * marginal.clamp_min(1e-12).log()).sum()), 4)}


class CodeHistory(L.Callback):
    """Every ``every`` training batches (and at the end of each epoch), one JSON line of `summarise`."""

    def __init__(self, path: str, every: int, per_code: int, num_real: int = 2000) -> None:
        self.path, self.every, self.per_code, self.num_real = Path(path), every, per_code, num_real
        self.extractor = MNISTExtractor()
        self.start = time.process_time()

    def _log(self, trainer: L.Trainer, pl_module: Any, epoch_end: bool = False) -> None:
        confusion = code_confusion(pl_module, self.extractor, self.per_code)
        test = trainer.datamodule.dataset(train=False)
        real = q_on_real(pl_module, test.images(slice(0, self.num_real)), test.labels[: self.num_real])
        row = {"batch": trainer.fit_loop.total_batch_idx + (0 if epoch_end else 1), "epoch": trainer.current_epoch,
               "epoch_end": epoch_end,
               "cpu_min": round((time.process_time() - self.start) / 60, 2), **summarise(confusion), **real}
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if (trainer.fit_loop.total_batch_idx + 1) % self.every == 0:
            self._log(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._log(trainer, pl_module, epoch_end=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiment", default="infogan_mnist_authors_code")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="run folder (outside git)")
    parser.add_argument("--every", type=int, default=100, help="generator steps between evaluations")
    parser.add_argument("--per-code", type=int, default=500)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    history = args.out / "history.jsonl"
    history.unlink(missing_ok=True)
    history_cb = [f"+callbacks.code_history._target_={__name__ if __name__ != '__main__' else 'infogan_seeds'}.CodeHistory",
                  f"+callbacks.code_history.path={history}", f"+callbacks.code_history.every={args.every}",
                  f"+callbacks.code_history.per_code={args.per_code}"]
    cfg = compose_experiment(args.experiment, [f"seed={args.seed}", "metrics=none", "~callbacks.samples",
                                               "trainer.limit_val_batches=0", *history_cb, *args.overrides], args.out)
    (args.out / "command.txt").write_text(" ".join(sys.argv) + "\n")
    train(cfg)


if __name__ == "__main__":
    main()
