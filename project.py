"""Project your images onto a generator's manifold (iGAN, Zhu et al. 2016, Section 3.1):
``python project.py ckpt_path=<run>/checkpoints/last.ckpt image=<file or folder> method=optimize|encoder|hybrid``.

    method=optimize      z* = argmin L(x, G(z)) by L-BFGS (solver=adam: Adam) from `restarts` starts, the best kept
    method=encoder       z = P(x), the feed-forward encoder trained to invert G
    method=hybrid        the optimisation started from P(x) (the authors' default)
    train_encoder=true   train P first on G(z) pairs (encoder_steps) and save it to
                         <run>/projection/encoder_<checkpoint>[_<condition>].pt (or encoder_ckpt=<file>), where the
                         encoder / hybrid methods find it next time
    feature=auto         the feature term of L: our MNIST classifier for 1x28x28 images, a torchvision backbone
                         (feature=torchvision feature_weights=<.pth> feature_arch=alexnet), or none
    label=3              cGAN / AC-GAN: the class G is given (null: every class tried, the best kept; optimize only)
    codes=[[2],[0.5,0]]  InfoGAN: the categorical and continuous codes (null: all 0)
    optimize_codes=true  InfoGAN: the continuous codes optimised with z (in their prior's range), saved as
                         codes_continuous (N, C) in projections.npz
    resize=true          resize inputs of another size (else an error names the file); convert=true: grey <-> RGB

Writes to ``out`` (default <run>/projections/): ``grid.png`` (each row of inputs above its projections),
``images/<name>.png`` per image, and ``projections.npz`` (z (N, d), images (N, H, W, C) uint8, mse (N,), InfoGAN's
codes_continuous (N, C), and with label=null the class
found for each image, labels (N,)); prints each
image's reconstruction MSE and PSNR. The checkpoint is read as data (lit_gans.checkpoints' allow-list).
"""

from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig
from torchvision.utils import save_image

from lit_gans.checkpoints import read_checkpoint
from lit_gans.manipulation.cli import latent_space, read_images, run_projection, summary
from lit_gans.sampling import grid_rows, model_from_checkpoint, to_uint8_nhwc
from lit_gans.translation import image_files, write_image


@hydra.main(version_base="1.3", config_path="conf", config_name="project")
def main(cfg: DictConfig) -> Path:
    ckpt = read_checkpoint(Path(cfg.ckpt_path))  # refused before anything is built if it names foreign code
    model = model_from_checkpoint(ckpt, Path(cfg.ckpt_path)).to(cfg.device)
    files = image_files(Path(cfg.image))
    shape = latent_space(model, cfg).image_shape
    x = read_images(files, shape, cfg.resize, cfg.convert)
    result, space = run_projection(model, cfg, x)
    out = Path(cfg.out) if cfg.out else Path(cfg.ckpt_path).resolve().parent.parent / "projections"
    out.mkdir(parents=True, exist_ok=True)
    per_row = grid_rows(len(x)) if len(x) > 8 else len(x)
    rows = [t for i in range(0, len(x), per_row) for t in (x[i:i + per_row], result.images[i:i + per_row].cpu())]
    save_image(torch.cat(rows), out / "grid.png", nrow=per_row, normalize=True, value_range=(-1, 1))
    for path, image in zip(files, result.images):
        write_image(image, out / "images" / f"{path.stem}.png")
    z, _ = space.split(result.z.cpu())
    codes = {"codes_continuous": space.continuous(result.z).cpu().numpy().astype(np.float32)} if space.kind == "code" else {}
    np.savez_compressed(out / "projections.npz", z=z.numpy().astype(np.float32), **codes,
                        images=to_uint8_nhwc(result.images.cpu()).numpy(), mse=result.mse.cpu().numpy(),
                        files=np.array([str(f) for f in files]),
                        **({"labels": result.labels.numpy()} if result.labels is not None else {}))
    print(summary([f.name for f in files], result))
    print(out)
    return out


if __name__ == "__main__":
    main()
