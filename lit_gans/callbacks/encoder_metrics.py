"""Score the encoder of models that have one (BiGAN, ALI, ...) at the end of every validation epoch.

Logged as ``val/<name>``: ``reconstruction_mse`` (G(E(x)) vs x on the test split), ``knn<k>_accuracy`` and
``linear_probe_accuracy`` of E(x) (fit on the first ``num_train`` training samples, scored on the test split, as
fractions), and the same representation scores of the floors once per run: ``<name>_pixels`` (raw pixels) and
``<name>_random_encoder`` (a freshly initialised model of the same class, seeded). Only the ``has_encoder`` /
``encode`` / ``reconstruct`` hooks are used.
"""

from typing import Any

import lightning as L
import torch

from lit_gans.encoding import encode_dataset, random_encoder_twin, reconstruction_mse, split_batches, split_dataset
from lit_gans.metrics.representation import representation_scores


class EncoderMetrics(L.Callback):
    """Representation quality and reconstruction error of E, from fixed subsets: the same numbers on 1 or N
    processes (every process encodes the same images in eval mode and computes the same scores; ``sync_dist``
    then averages equal values), and a resumed run logs what the uninterrupted one did.

    Args:
        num_train: training samples the k-NN and the probe are fit on (the first ones, fixed); 5,000 by default.
        num_test: test samples scored (None: the whole test split); also the reconstruction set.
        ks: the k of the k-NN accuracies; linear_probe: also fit the logistic-regression probe.
        floors: also score raw pixels and a random encoder (once; kept in ``floors``).
        seed: the random encoder's initialisation seed.
    """

    def __init__(self, num_train: int = 5000, num_test: int | None = None, ks: tuple[int, ...] | list[int] = (1, 5),
                 linear_probe: bool = True, floors: bool = True, batch_size: int = 500, seed: int = 0,
                 prefix: str = "val/") -> None:
        if num_train < max(ks):
            raise ValueError(f"metrics num_train={num_train} must be at least the largest k ({max(ks)}).")
        self.num_train, self.num_test, self.ks, self.linear_probe = num_train, num_test, tuple(ks), linear_probe
        self.with_floors, self.batch_size, self.seed, self.prefix = floors, batch_size, seed, prefix
        self.floors: dict[str, float] | None = None
        self.last: dict[str, float] = {}

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not getattr(pl_module, "has_encoder", False):
            return
        for name, value in self.evaluate(trainer.datamodule, pl_module).items():
            pl_module.log(self.prefix + name, value, sync_dist=True)

    @torch.no_grad()
    def evaluate(self, datamodule: Any, model: Any) -> dict[str, float]:
        train, test = split_dataset(datamodule, "train"), split_dataset(datamodule, "test")
        values = {"reconstruction_mse": reconstruction_mse(model, test, self.batch_size, self.num_test)}
        values.update(self._scores(model, train, test))
        if self.with_floors:
            if self.floors is None:
                self.floors = self._floors(model, train, test)
            values.update(self.floors)
        self.last = dict(values)
        return values

    def _scores(self, model: Any, train: Any, test: Any, suffix: str = "") -> dict[str, float]:
        fit = encode_dataset(model, train, self.batch_size, self.num_train)
        scored = encode_dataset(model, test, self.batch_size, self.num_test)
        scores = representation_scores(fit["codes"], fit["labels"], scored["codes"], scored["labels"], self.ks,
                                       self.linear_probe)
        return {name + suffix: value for name, value in scores.items()}

    def _floors(self, model: Any, train: Any, test: Any) -> dict[str, float]:
        def pixels(dataset: Any, limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
            xs, ys = zip(*split_batches(dataset, self.batch_size, limit))
            return torch.cat(xs).flatten(1).float(), torch.cat(ys)

        (xtr, ytr), (xte, yte) = pixels(train, self.num_train), pixels(test, self.num_test)
        floors = {f"{name}_pixels": value
                  for name, value in representation_scores(xtr, ytr, xte, yte, self.ks, self.linear_probe).items()}
        floors.update(self._scores(random_encoder_twin(model, self.seed), train, test, "_random_encoder"))
        return floors

    def state_dict(self) -> dict[str, Any]:
        return {"last": self.last, "floors": self.floors}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.last, self.floors = dict(state_dict.get("last", {})), state_dict.get("floors")
