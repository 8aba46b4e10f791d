"""Score a checkpoint: ``python evaluate.py ckpt_path=<run>/checkpoints/last.ckpt`` (see README.md).

    metrics.num_samples=50000           more samples (the run's metrics config otherwise)
    metrics=inception metrics.inception_weights=<path>    other features
    trainer.devices=4                   split the evaluation set across processes
    callbacks=parzen                    also the Parzen-window log-likelihood (val/parzen_ll, nats)
                                        (a LAPGAN: per scale, parzen_ll_level<k>; callbacks.parzen.per_scale=false: whole images)

Prints JSON to stdout and writes it to <run>/eval/.
"""

import json

import hydra
from omegaconf import DictConfig

from lit_gans.evaluation import evaluate


@hydra.main(version_base="1.3", config_path="conf", config_name="evaluate")
def main(cfg: DictConfig) -> dict:
    result = evaluate(cfg)
    if "out" in result:  # rank 0
        print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
