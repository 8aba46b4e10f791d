"""What project.py does, as functions tests and the web app can call: read images strictly, build the latent space
of a checkpoint, find / train / load the encoder P, project, write the results."""

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lit_gans.manipulation.features import feature_network
from lit_gans.manipulation.latent import LatentSpace
from lit_gans.manipulation.projection import (
    METHODS,
    Projection,
    ProjectionEncoder,
    load_encoder,
    project,
    psnr,
    save_encoder,
    train_encoder,
)


def read_images(files: list[Path], shape: tuple[int, int, int], resize: bool = False, convert: bool = False) -> Tensor:
    """Image files -> (N, C, H, W) in [-1, 1]. A file of another size or channel count is an error naming the file
    and the option that fixes it (``resize=true``: bicubic to G's size; ``convert=true``: grey <-> RGB)."""
    from PIL import Image

    from lit_gans.translation import read_image

    c, h, w = shape
    out = []
    for path in files:
        with Image.open(path) as image:
            channels = 1 if image.mode in ("1", "L", "I", "I;16", "F") else 3  # palette / RGBA / CMYK read as RGB
            size = (image.height, image.width)
        if channels != c and not convert:
            raise ValueError(f"{path} is {'grey' if channels == 1 else 'colour'} but the generator makes "
                             f"{'grey' if c == 1 else f'{c}-channel'} images; pass convert=true to convert it.")
        if size != (h, w) and not resize:
            raise ValueError(f"{path} is {size[0]}x{size[1]} but the generator makes {h}x{w} images; pass resize=true "
                             "to resize it (bicubic), or crop it yourself.")
        out.append(read_image(path, c, (h, w)))
    return torch.stack(out)


def latent_space(model: Any, cfg: Any) -> LatentSpace:
    """The space of cfg's conditions: ``label`` (cGAN / AC-GAN) or ``codes`` [[categorical], [continuous]] (InfoGAN),
    and ``optimize_codes`` (InfoGAN: the continuous codes optimised with z)."""
    kind = getattr(model, "condition_kind", None)
    codes = cfg.get("codes")
    label = cfg.get("label")
    return LatentSpace(model, label=label if kind == "label" else None,
                       codes=(list(codes[0]), list(codes[1])) if kind == "code" and codes is not None else None,
                       optimize_codes=bool(cfg.get("optimize_codes", False)))


def default_encoder_path(ckpt_path: str | Path, space: LatentSpace) -> Path:
    """<run>/projection/encoder_<checkpoint>[_<condition>].pt: P inverts G for one condition."""
    ckpt = Path(ckpt_path).resolve()
    continuous = "opt" if space.optimize_codes else "-".join(f"{v:g}" for v in space.codes[1].tolist()) if space.codes else ""
    suffix = {"label": f"_label{space.label}", "code": "_codes" + "-".join(map(str, space.codes[0].tolist()))
              + "_" + continuous if space.codes else ""}.get(space.kind or "", "")
    return ckpt.parent.parent / "projection" / f"encoder_{ckpt.stem}{suffix}.pt"


def get_encoder(cfg: Any, space: LatentSpace, features: torch.nn.Module | None) -> ProjectionEncoder | None:
    """The encoder P for methods that need it: cfg.encoder_ckpt, else the run's default file; with
    train_encoder=true a new one is trained (cfg.encoder_steps) and saved there first."""
    if cfg.method == "optimize" and not cfg.train_encoder:
        return None
    path = Path(cfg.encoder_ckpt) if cfg.get("encoder_ckpt") else default_encoder_path(cfg.ckpt_path, space)
    if cfg.train_encoder:
        encoder, losses = train_encoder(space, cfg.encoder_steps, cfg.encoder_batch_size, cfg.encoder_lr, features,
                                        cfg.feature_weight, cfg.encoder_latent_weight, cfg.seed, log_every=max(1, cfg.encoder_steps // 10))
        save_encoder(encoder, path, {"ckpt_path": str(cfg.ckpt_path), "steps": int(cfg.encoder_steps),
                                     "final_loss": losses[-1], "condition": space.describe()})
        print(f"encoder P ({cfg.encoder_steps} steps, final loss {losses[-1]:.4f}) saved to {path}")
        return encoder
    if not path.is_file():
        raise FileNotFoundError(f"method={cfg.method} needs the encoder P and {path} does not exist: train it once with "
                                "train_encoder=true (saved there), or pass encoder_ckpt=<file>, or use method=optimize.")
    return load_encoder(path, space)


def run_projection(model: Any, cfg: Any, x: Tensor) -> tuple[Projection, LatentSpace]:
    """Project x with cfg's method; for a conditional model without a label (``label=null``, method=optimize) every
    class is tried and each image keeps its best."""
    if cfg.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {cfg.method!r}.")
    space = latent_space(model, cfg)
    x = space.check_images(x)
    features = feature_network(cfg.feature, space.image_shape, cfg.get("feature_weights"), cfg.get("feature_arch", "alexnet"))
    features = features.to(space.device) if features is not None else None
    weight = cfg.feature_weight if features is not None else 0.0
    options = dict(solver=cfg.solver, steps=cfg.steps, restarts=cfg.restarts, features=features, feature_weight=weight,
                   lr=cfg.get("lr", 0.1), generator=torch.Generator().manual_seed(cfg.seed))
    search = space.kind == "label" and cfg.get("label") is None
    if search and cfg.method != "optimize":
        raise ValueError("label=null tries every class, which only method=optimize can (an encoder P inverts G for one "
                         "class): pass label=<class> or method=optimize.")
    encoder = get_encoder(cfg, space, features)
    if not search:
        return project(space, x, cfg.method, encoder, **options), space
    best: Projection | None = None
    labels = torch.zeros(len(x), dtype=torch.long)
    for k in range(space.num_classes):
        one = project(space.with_label(k), x, "optimize", None, **options)
        if best is None:
            best = one
            continue
        better = one.loss < best.loss
        labels[better.cpu()] = k
        for name in ("z", "images", "loss", "mse"):
            getattr(best, name)[better] = getattr(one, name)[better]
        best.seconds += one.seconds
    best.labels = labels
    return best, space


def summary(names: list[str], result: Projection) -> str:
    searched = result.labels is not None
    rows = [f"{'image':<30} {'MSE':>9} {'PSNR dB':>8}" + ("  label" if searched else "")]
    for i, name in enumerate(names):
        rows.append(f"{name[-30:]:<30} {float(result.mse[i]):9.5f} {float(psnr(result.mse[i])):8.2f}"
                    + (f"  {int(result.labels[i])}" if searched else ""))
    rows.append(f"{'mean':<30} {float(result.mse.mean()):9.5f} {float(psnr(result.mse).mean()):8.2f}   "
                f"({result.seconds / max(len(names), 1):.2f} s per image)")
    return "\n".join(rows)
