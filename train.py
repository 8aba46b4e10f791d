"""Train a GAN variant: ``python train.py model=wgan_gp data=ring8`` (see README.md)."""

import hydra
from omegaconf import DictConfig

from lit_gans.training import train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics, _ = train(cfg)
    metric = cfg.get("optimized_metric")
    return metrics.get(metric) if metric else None


if __name__ == "__main__":
    main()
