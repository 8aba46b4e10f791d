"""Draw from a trained generator: ``python sample.py ckpt_path=<run>/checkpoints/last.ckpt``.

    n=64                    a PNG grid of 64 samples (default); conditional models: one row per
                            class; InfoGAN: categorical code x continuous-code traversal
    mode=interpolate        latent interpolation strips (slerp for Gaussian z)
    mode=pyramid n=8        LAPGAN: n samples as columns, a row per step of the chain, each upsampled to the image
                            size: the coarsest image x_0, then per finer level its residual h_k (scaled per row,
                            mid-grey = 0) and its image x_k; the last row is the final sample
    mode=reconstruct        models with an encoder (bigan, ali, ...): the first n images of the run's test
                            split (split=train for the other), each row of real images x followed by the row
                            of their reconstructions G(E(x)); with out=x.npz: images (N, H, W, C) uint8,
                            reconstructions (N, H, W, C) uint8, codes (N, latent_dim) E(x)
    n=10000 out=x.npz       arrays for other tools, one row per image, the same for the same seed:
                              images             (N, H, W, C) uint8
                              z                  (N, latent_dim) float32, the noise G read
                              labels             (N,) int64, the class each image was asked for (cGAN, AC-GAN)
                              codes_categorical  (N, J) int64, InfoGAN's categorical codes (column 0: the first)
                              codes_continuous   (N, C) float32, InfoGAN's continuous codes
                            (a model's `condition_arrays` names what it is conditioned on, so a new
                            conditional model's exports carry its conditions too)

PPGN (a model=ppgn_dae or model=ppgn_joint run: a generator with its learned prior R; lit_gans.ppgn):
    mode=ppgn class=7 steps=200
                            n chains per requested class (class=7 or class=[0,3,7]) walking the code h by Eq. 11
                            (ppgn.preset: noiseless_joint_ppgn_h (default), joint_ppgn_h, formula; ppgn.eps1/eps2/eps3
                            /step_size override it; steps: the chain length, null: the preset's 200) toward our MNIST
                            classifier's class (ppgn.classifier: other weights); writes the final samples (one row per
                            class) and <out>_chain.png, every ppgn.every-th step of the first chains as strips
    mode=ppgn out=x.npz     images (N, H, W, C) uint8, labels (N,) int64 the requested class of each, codes (N, d) the
                            final h, start_codes (N, d), prob (N,) p(y = class | image) by our classifier

Translation models (pix2pix; the unpaired models) translate the run's data split instead of drawing from noise
(split=test, the default, or split=val; direction=AtoB or BtoA for the unpaired models):
    n=16                    a PNG grid of the first n items of the split, the model's own rows: pix2pix
                            input / translation / target; unpaired models input / translation / reconstruction
    out=translations.npz    every item of the split (limit=N: the first N), one row per item, in the split's order:
                              inputs   (N, H, W, C) uint8   the source images
                              outputs  (N, H, W, C) uint8   their translations (batch i seeded seed + i; batches of
                                                            the run's batch size, or batch_size=B)
                              targets  (N, H, W, C) uint8   the paired ground truth (paired data only)
                              labels   (N,) int64           the class kept beside each input (when the data has one)
"""

from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, ListConfig
from torchvision.utils import save_image

from lit_gans.encoding import (
    check_encoder,
    reconstruction_grid,
    run_datamodule,
    split_batches,
    split_dataset,
)
from lit_gans.ppgn import check_ppgn_model, load_condition_network, ppgn_samples, preset
from lit_gans.sampling import (
    generate,
    grid_rows,
    interpolation_latents,
    load_model,
    sample_arrays,
    to_uint8_nhwc,
)
from lit_gans.translation import (
    grid_of_split,
    is_translation_model,
    split_loader,
    translate_batches,
)


@hydra.main(version_base="1.3", config_path="conf", config_name="sample")
def main(cfg: DictConfig) -> Path:
    model = load_model(cfg.ckpt_path).to(cfg.device)
    gen = torch.Generator().manual_seed(cfg.seed)
    out = Path(cfg.out) if cfg.out else Path(cfg.ckpt_path).resolve().parent.parent / "samples" / f"{cfg.mode}.png"
    if is_translation_model(model):
        return translations(model, cfg, out)
    conditional = hasattr(model, "sample_grid")  # cGAN / AC-GAN labels or InfoGAN codes besides z
    if cfg.mode not in ("grid", "interpolate", "reconstruct", "pyramid", "ppgn"):
        raise ValueError(f"mode must be 'grid', 'interpolate', 'reconstruct', 'pyramid' or 'ppgn', got {cfg.mode!r}.")
    if cfg.mode == "ppgn":
        return ppgn(model, cfg, out, gen)
    if cfg.mode == "reconstruct":
        return reconstruct(model, cfg, out)
    if cfg.mode == "pyramid":
        return pyramid(model, cfg, gen, out)
    if cfg.mode == "interpolate" and conditional:
        raise ValueError(f"mode=interpolate walks the latent z of unconditional models; {type(model).__name__} also "
                         "takes labels / codes: use mode=grid (a row per class, or InfoGAN's code traversal).")
    extra: dict[str, torch.Tensor] = {}  # written beside the images in a .npz
    with torch.no_grad():
        if cfg.mode == "interpolate":
            steps = cfg.steps or 10
            z, nrow = interpolation_latents(model, cfg.rows, steps, gen), steps
            images, extra = generate(model, z), {"z": z}
        elif out.suffix == ".npz":  # n samples with the z and the labels / codes that made them
            extra, nrow = sample_arrays(model, cfg.n, gen), 0
            images = extra.pop("images")
        elif conditional:  # a row per class; InfoGAN: code x traversal
            images, nrow = model.sample_grid(cfg.seed)
        else:
            z, nrow = model.sample_latent(cfg.n, generator=gen), grid_rows(cfg.n)
            images = generate(model, z)
    images = images.cpu()
    if images.dim() != 4:
        raise ValueError(f"This generator makes {tuple(images.shape[1:])}-shaped samples, not images; "
                         "sample.py writes image grids and arrays only.")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        np.savez_compressed(out, images=to_uint8_nhwc(images).numpy(), **{k: v.cpu().numpy() for k, v in extra.items()})
    else:
        save_image(images, out, nrow=nrow, normalize=True, value_range=(-1, 1))
    print(out)
    return out


def translations(model: torch.nn.Module, cfg: DictConfig, out: Path) -> Path:
    """Translation models: the grid of the first n items of the run's ``split`` (the model's `translation_grid`), or
    with out=*.npz the arrays of the whole split (`translate_batches`)."""
    if cfg.mode != "grid":
        raise ValueError(f"mode={cfg.mode} needs a latent z or an encoder; {type(model).__name__} translates images: use "
                         "mode=grid (the default) for a grid of the test split, out=x.npz for its arrays.")
    datamodule = run_datamodule(cfg)
    if cfg.get("batch_size"):  # items per batch through the model (pix2pix's test mode normalises on the batch)
        datamodule.batch_size = int(cfg.batch_size)
    loader = split_loader(datamodule, cfg.split)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        arrays = translate_batches(model, loader, cfg.direction, cfg.seed, cfg.get("limit"))
        labels = {"labels": arrays["labels"].numpy().astype(np.int64)} if "labels" in arrays else {}
        np.savez_compressed(out, **{k: to_uint8_nhwc(arrays[k]).numpy() for k in ("inputs", "outputs", "targets")
                                    if k in arrays}, **labels)
    else:
        images, nrow = grid_of_split(model, loader, cfg.n, cfg.direction, cfg.seed)
        save_image(images.float().cpu(), out, nrow=nrow, normalize=True, value_range=(-1, 1))
    print(out)
    return out


def pyramid(model: torch.nn.Module, cfg: DictConfig, gen: torch.Generator, out: Path) -> Path:
    """mode=pyramid: the model's `pyramid_rows` (LAPGAN: every level of the sampling chain) as a PNG grid."""
    if not hasattr(model, "pyramid_rows"):
        raise ValueError(f"mode=pyramid shows the levels of a Laplacian pyramid generator (model=lapgan); "
                         f"{type(model).__name__} has none: use mode=grid.")
    if out.suffix != ".png":
        raise ValueError(f"mode=pyramid writes a PNG grid, got out={out}.")
    with torch.no_grad():
        images, nrow = model.pyramid_rows(cfg.n, generator=gen)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.float().cpu(), out, nrow=nrow, normalize=True, value_range=(-1, 1))
    print(out)
    return out


def reconstruct(model: torch.nn.Module, cfg: DictConfig, out: Path) -> Path:
    """mode=reconstruct: x above G(E(x)) for the first n images of the run's ``split``."""
    check_encoder(model)  # before any data is read
    x, _ = next(split_batches(split_dataset(run_datamodule(cfg), cfg.split), cfg.n, cfg.n))
    if x.dim() != 4:
        raise ValueError(f"mode=reconstruct draws image grids; this data has {tuple(x.shape[1:])}-shaped samples. "
                         "Use encode.py for codes of any data.")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        with torch.no_grad():
            codes, rec = model.encode(x.to(model.device)).cpu(), model.reconstruct(x.to(model.device)).cpu()
        np.savez_compressed(out, images=to_uint8_nhwc(x).numpy(), reconstructions=to_uint8_nhwc(rec).numpy(),
                            codes=codes.numpy())
    else:
        per_row = grid_rows(len(x))
        save_image(reconstruction_grid(model, x, per_row), out, nrow=per_row, normalize=True, value_range=(-1, 1))
    print(out)
    return out


def ppgn(model: torch.nn.Module, cfg: DictConfig, out: Path, gen: torch.Generator) -> Path:
    """mode=ppgn: PPGN chains toward the requested classes; the final samples and the chain's strips (or arrays)."""
    check_ppgn_model(model)  # before the classifier is read
    if cfg.get("class") is None:
        raise ValueError("mode=ppgn needs the class to draw: class=7 (or class=[0,3,7]).")
    classes = list(cfg["class"]) if isinstance(cfg["class"], (list, ListConfig)) else [cfg["class"]]
    options = cfg.ppgn
    settings = preset(options.preset, eps1=options.eps1, eps2=options.eps2, eps3=options.eps3, steps=cfg.steps,
                      step_size=options.step_size)
    with torch.no_grad():
        shape = tuple(model.decode(model.start_codes(1, generator=torch.Generator().manual_seed(0))).shape[1:])
    classifier = load_condition_network(options.classifier, shape, cfg.device)
    result = ppgn_samples(model, classes, cfg.n, settings, classifier, record_every=options.every, generator=gen)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        np.savez_compressed(out, images=to_uint8_nhwc(result["images"].cpu()).numpy(),
                            **{k: result[k].cpu().numpy() for k in ("labels", "codes", "start_codes", "prob")})
    else:
        save_image(result["images"].cpu(), out, nrow=cfg.n, normalize=True, value_range=(-1, 1))
        if result["frames"]:  # (T frames of N): the first chains of each class as rows, steps as columns
            rows = torch.arange(len(result["labels"])).view(len(classes), cfg.n)[:, : min(cfg.n, 4)].reshape(-1)
            strip = torch.stack([frame[rows].cpu() for frame in result["frames"]], dim=1)  # (R, T, C, H, W)
            save_image(strip.flatten(0, 1), out.with_name(f"{out.stem}_chain{out.suffix}"), nrow=len(result["frames"]),
                       normalize=True, value_range=(-1, 1))
    print(out)
    print(f"p(y = class | x) by our classifier: mean {result['prob'].mean():.3f}; per class "
          + ", ".join(f"{c}: {result['prob'][result['labels'] == c].mean():.3f}" for c in classes))
    return out


if __name__ == "__main__":
    main()
