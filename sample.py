"""Draw from a trained generator: ``python sample.py ckpt_path=<run>/checkpoints/last.ckpt``.

    n=64                    a PNG grid of 64 samples (default); conditional models: one row per
                            class; InfoGAN: categorical code x continuous-code traversal
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
    out = Path(cfg.out) if cfg.out else Path(cfg.ckpt_path).resolve().parent.parent / "samples" / f"{cfg.mode}.png"
    conditional = hasattr(model, "sample_grid")  # cGAN / AC-GAN labels or InfoGAN codes besides z
    z = None
    if cfg.mode not in ("grid", "interpolate"):
        raise ValueError(f"mode must be 'grid' or 'interpolate', got {cfg.mode!r}.")
    if cfg.mode == "interpolate" and conditional:
        raise ValueError(f"mode=interpolate walks the latent z of unconditional models; {type(model).__name__} also "
                         "takes labels / codes: use mode=grid (a row per class, or InfoGAN's code traversal).")
    with torch.no_grad():
        if cfg.mode == "interpolate":
            z, nrow = interpolation_latents(model, cfg.rows, cfg.steps, gen), cfg.steps
            images = generate(model, z)
        elif conditional and out.suffix != ".npz":  # a row per class; InfoGAN: code x traversal
            images, nrow = model.sample_grid(cfg.seed)
        elif conditional:  # n samples with random labels / codes
            images, nrow = torch.cat([model.sample_images(len(c), gen) for c in torch.arange(cfg.n).split(500)]), 0
        else:
            z, nrow = model.sample_latent(cfg.n, generator=gen), grid_rows(cfg.n)
            images = generate(model, z)
    images = images.cpu()
    if images.dim() != 4:
        raise ValueError(f"This generator makes {tuple(images.shape[1:])}-shaped samples, not images; "
                         "sample.py writes image grids and arrays only.")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        arrays = {"images": to_uint8_nhwc(images).numpy()} | ({"z": z.cpu().numpy()} if z is not None else {})
        np.savez_compressed(out, **arrays)
    else:
        save_image(images, out, nrow=nrow, normalize=True, value_range=(-1, 1))
    print(out)
    return out


if __name__ == "__main__":
    main()
