"""Draw from a trained generator: ``python sample.py ckpt_path=<run>/checkpoints/last.ckpt``.

    n=64                    a PNG grid of 64 samples (default)
    mode=interpolate        latent interpolation strips (slerp for Gaussian z)
    n=10000 out=x.npz       a uint8 array (N, H, W, C) for other tools
"""

from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig
from torchvision.utils import save_image

from lit_gans.sampling import generate, grid_rows, interpolation_latents, load_model, to_uint8_nhwc


@hydra.main(version_base="1.3", config_path="conf", config_name="sample")
def main(cfg: DictConfig) -> Path:
    model = load_model(cfg.ckpt_path).to(cfg.device)
    gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.mode == "grid":
        z, nrow = model.sample_latent(cfg.n, generator=gen), grid_rows(cfg.n)
    elif cfg.mode == "interpolate":
        z, nrow = interpolation_latents(model, cfg.rows, cfg.steps, gen), cfg.steps
    else:
        raise ValueError(f"mode must be 'grid' or 'interpolate', got {cfg.mode!r}.")
    images = generate(model, z).cpu()
    if images.dim() != 4:
        raise ValueError(f"This generator makes {tuple(images.shape[1:])}-shaped samples, not images; "
                         "sample.py writes image grids and arrays only.")
    out = Path(cfg.out) if cfg.out else Path(cfg.ckpt_path).resolve().parent.parent / "samples" / f"{cfg.mode}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        np.savez_compressed(out, images=to_uint8_nhwc(images).numpy(), z=z.cpu().numpy())
    else:
        save_image(images, out, nrow=nrow, normalize=True, value_range=(-1, 1))
    print(out)
    return out


if __name__ == "__main__":
    main()
