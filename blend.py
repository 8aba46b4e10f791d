"""Blend an object into a photograph with GP-GAN (Wu et al. 2017): ``python blend.py source=<object image>
destination=<background image> mask=<mask image> out=<blend.png> [ckpt_path=<model=gpgan run>/checkpoints/last.ckpt]``.

The source, destination and mask are images of one size (the mask: white where the source goes; grey levels are
thresholded at ``mask_threshold``). The composite is resized to the blending GAN's size (64 px), its output x^l is
the colour constraint of the Gaussian-Poisson equation, solved in closed form over a pyramid up to the full size
(`lit_gans.blending`). Without ``ckpt_path`` the copy-and-paste composite is the colour constraint: the Poisson-only
blend. Options: ``beta``, ``sigma``, ``smooth_sigma``, ``objective`` (paper | gradient | authors), ``image_size``
(Poisson-only), ``figure=<png>`` (composite | Poisson-only | GP-GAN side by side), ``device``.

The checkpoint is read as data (lit_gans.checkpoints: only names on lit_gans' allow-list are built).
"""

from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig

from lit_gans.blending import copy_paste, gp_blend
from lit_gans.blending.figure import save_figure
from lit_gans.checkpoints import read_checkpoint
from lit_gans.sampling import model_from_checkpoint
from lit_gans.translation import read_image, write_image


def load_inputs(cfg: DictConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(1, 3, H, W) source and destination in [0, 1], (1, 1, H, W) binary mask; sizes checked, naming the fix."""
    source, destination = ((read_image(Path(p), 3) + 1) / 2 for p in (cfg.source, cfg.destination))
    mask = ((read_image(Path(cfg.mask), 1) + 1) / 2 > cfg.mask_threshold).float()
    if source.shape != destination.shape:
        raise ValueError(f"source {cfg.source} is {source.shape[2]}x{source.shape[1]} but destination {cfg.destination} "
                         f"is {destination.shape[2]}x{destination.shape[1]}: GP-GAN blends aligned images of one size; "
                         "resize or crop one of them to the other's size.")
    if mask.shape[-2:] != source.shape[-2:]:
        raise ValueError(f"mask {cfg.mask} is {mask.shape[2]}x{mask.shape[1]} but the images are "
                         f"{source.shape[2]}x{source.shape[1]}: resize the mask to the images' size.")
    if not mask.any():
        raise ValueError(f"mask {cfg.mask} has no pixel above mask_threshold={cfg.mask_threshold}: nothing to paste "
                         "(white marks the source's region).")
    return source[None], destination[None], mask[None]


def load_blending_gan(ckpt_path: str, device: str) -> torch.nn.Module:
    ckpt = read_checkpoint(Path(ckpt_path))  # refused before anything is built if it names foreign code
    model = model_from_checkpoint(ckpt, Path(ckpt_path)).to(device).eval()
    if not hasattr(model, "blend"):
        raise ValueError(f"{ckpt_path} holds a {type(model).__name__}; blend.py needs GP-GAN's blending GAN "
                         "(a model=gpgan run), or no ckpt_path for the Poisson-only blend.")
    return model


@hydra.main(version_base="1.3", config_path="conf", config_name="blend")
def main(cfg: DictConfig) -> Path:
    source, destination, mask = load_inputs(cfg)
    options = dict(beta=cfg.beta, sigma=cfg.sigma, smooth_sigma=cfg.smooth_sigma, objective=cfg.objective)
    model = load_blending_gan(cfg.ckpt_path, cfg.device) if cfg.ckpt_path else None
    with torch.no_grad():
        if model is not None:
            blended = model.blend(source, destination, mask, **options)
        else:
            blended = gp_blend(source, destination, mask, image_size=cfg.image_size, **options)
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_image(blended[0] * 2 - 1, out)
    print(f"blend written to {out}")
    if cfg.figure:
        size = model.generator.image_size if model is not None else cfg.image_size
        poisson = gp_blend(source, destination, mask, image_size=size, **options)
        row = [copy_paste(source, destination, mask)[0], poisson[0]] + ([blended[0]] if model is not None else [])
        titles = ["composite", "Poisson-only"] + (["GP-GAN"] if model is not None else [])
        print(f"figure written to {save_figure([row], titles, Path(cfg.figure))}")
    return out


if __name__ == "__main__":
    main()
