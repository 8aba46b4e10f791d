"""Codes of a data split: ``python encode.py ckpt_path=<run>/checkpoints/last.ckpt split=test out=codes.npz``.

For models with an encoder E: x -> z (bigan, ali, mrgan, mdgan, vae, vaegan, alae). Writes a .npz with
    codes   (N, latent_dim) float32   E(x) (a stochastic encoder's mean), the model in eval mode
    labels  (N,) int64                the split's labels (MNIST digits; a toy mixture's components)
one row per sample in the split's fixed order. The data config is the training run's (<run>/.hydra/config.yaml);
``limit=5000`` keeps the first 5,000 samples. A model without an encoder is refused with the list of those that have one.
"""

from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig

from lit_gans.checkpoints import read_checkpoint
from lit_gans.encoding import check_encoder, encode_dataset, run_datamodule, split_dataset
from lit_gans.sampling import model_from_checkpoint


@hydra.main(version_base="1.3", config_path="conf", config_name="encode")
def main(cfg: DictConfig) -> Path:
    ckpt = read_checkpoint(Path(cfg.ckpt_path))  # refused before anything is built if it names foreign code
    model = model_from_checkpoint(ckpt, Path(cfg.ckpt_path)).to(cfg.device)
    check_encoder(model)  # before any data is read
    arrays = encode_dataset(model, split_dataset(run_datamodule(cfg), cfg.split), cfg.batch_size, cfg.limit)
    out = Path(cfg.out) if cfg.out else (Path(cfg.ckpt_path).resolve().parent.parent / "codes"
                                         / f"{Path(cfg.ckpt_path).stem}_{cfg.split}.npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, codes=arrays["codes"].numpy().astype(np.float32), labels=arrays["labels"].numpy().astype(np.int64))
    print(out)
    return out


if __name__ == "__main__":
    main()
