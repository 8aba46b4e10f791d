"""GP-GAN vs Poisson-only blending on held-out photo composites (issue 20's GP-GAN part of benchmarks/guided.py).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/guided_gpgan.py                # two blending GANs, then the table
    OMP_NUM_THREADS=1 python benchmarks/guided_gpgan.py --quick        # 30 batches each: checks the pipeline

Trains ``experiment=gpgan_photo_composites`` twice (as ``python train.py`` would; 64 px, the authors' loss and
optimisers, narrower networks so that a CPU run takes minutes: ``--width``, ``--bottleneck``): the blending GAN
(0.999·L2 + 0.001·WGAN) and its L2-only ablation (``model.l2_weight=1``, the authors' "encoder" results). Then builds
held-out composites at ``--size`` px (default 256: a pyramid 64 -> 128 -> 256) from the validation photographs (never
seen in training) and blends each with: nothing (the copy-and-paste composite), the Gaussian-Poisson equation with
the composite as colour constraint (Poisson-only; and with β = 0, the gradients alone, the mean from the
composite), each blending GAN's output alone (64 px, upsampled bicubically), and
GP-GAN (the GAN's output as the colour constraint of the Gaussian-Poisson pyramid; β = 1, σ = 0.5). The score is the
distance to the target, the unchanged photograph: RMSE in 8-bit levels over the whole image and inside the pasted
region. A figure shows composite | Poisson-only | GP-GAN (L2 only) | GP-GAN | target for the first composites.

The paper (Wu et al. 2017) measures realism instead, on Transient Attributes: the RealismCNN score of Zhu et al.
2015 and an Amazon Mechanical Turk preference study (Tables 1-2), where GP-GAN beats Poisson image editing,
modified Poisson, multi-splines and the copy-and-paste composite; it reports no L2 distances. Our composites have an
exact target, so the distance to it measures the same thing (how well the pasted region's colours are brought back
to the scene's) without a learned realism model.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import out_dir, run_experiment, set_threads

from lit_gans.blending import copy_paste, gp_blend
from lit_gans.blending.composites import make_composites
from lit_gans.blending.figure import save_figure
from lit_gans.blending.pyramid import gaussian_pyramid, pyramid_sizes, resize
from lit_gans.data.composites import VAL_PHOTOS

MODELS = {"gpgan": [], "gpgan_l2_only": ["model.l2_weight=1.0"]}
ROWS = ("copy-and-paste composite", "Poisson-only (GP equation, composite colours)", "blending GAN alone, L2 only",
        "blending GAN alone", "GP-GAN, L2-only GAN", "GP-GAN", "Poisson equation alone (beta = 0, gradients only)")


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--gpgan-batches", type=int, default=3000, help="training batches per GAN (5 per G step)")
    parser.add_argument("--gpgan-width", type=int, default=16, help="base filters of G's encoder, decoder and D (authors: 64)")
    parser.add_argument("--gpgan-bottleneck", type=int, default=512, help="G's code channels (authors: 4000)")
    parser.add_argument("--gpgan-composites", type=int, default=48, help="held-out composites scored")
    parser.add_argument("--gpgan-size", type=int, default=256, help="side of the held-out composites")
    parser.add_argument("--gpgan-figure-rows", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="30 batches per GAN, 8 composites: checks the pipeline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    return parser


def rmse(x: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Root mean squared error in 8-bit levels, over all pixels or those where mask = 1."""
    err = (x - target).pow(2).mean(1, keepdim=True)  # (B, 1, H, W)
    if mask is not None:
        return float((err * mask).sum().div(mask.sum()).sqrt() * 255)
    return float(err.mean().sqrt() * 255)


def held_out(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source, destination in [0, 1] and mask of n composites of the validation photographs (not trained on)."""
    c = make_composites(VAL_PHOTOS, n, size, seed=seed + 1000)
    return c.source.float() / 255, c.destination.float() / 255, c.mask.float()


def gan_alone(model: torch.nn.Module, source: torch.Tensor, destination: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The blending GAN's 64 px output for the (pyramid-smoothed) composite, upsampled bicubically to full size."""
    size = model.generator.image_size
    sizes = pyramid_sizes(*source.shape[-2:], size)
    src0, dst0 = (gaussian_pyramid(x, sizes, 1.0)[0] for x in (source, destination))
    low = (model.translate(copy_paste(src0, dst0, resize(mask, sizes[0], "nearest")) * 2 - 1) + 1) / 2
    return resize(low.clamp(0, 1), tuple(source.shape[-2:])).clamp(0, 1)


def run(args: argparse.Namespace) -> dict:
    set_threads(args.threads)
    out = out_dir("guided_gpgan" + ("_quick" if args.quick else ""))
    batches = 30 if args.quick else args.gpgan_batches
    n = 8 if args.quick else args.gpgan_composites
    w = args.gpgan_width
    common = [f"seed={args.seed}", "trainer.max_epochs=1000",
              f"model.generator.nef={w}", f"model.generator.ngf={w}", f"model.discriminator.ndf={w}",
              f"model.generator.bottleneck={args.gpgan_bottleneck}", "trainer.limit_val_batches=2"]
    models, seconds = {}, {}
    for name, extra in MODELS.items():  # the same batches; optimizer steps: 5 critic + 1 G per 5, or 1 G per batch
        steps = batches if name == "gpgan_l2_only" else batches + batches // 5
        trained = run_experiment(name, "gpgan_photo_composites", [*common, f"trainer.max_steps={steps}", *extra], out)
        models[name], seconds[name] = trained.objects["model"].cpu().eval(), trained.seconds
    source, destination, mask = held_out(n, args.gpgan_size, args.seed)
    start = time.perf_counter()
    with torch.no_grad():
        images = {
            ROWS[0]: copy_paste(source, destination, mask),
            ROWS[1]: gp_blend(source, destination, mask, image_size=64),
            ROWS[2]: gan_alone(models["gpgan_l2_only"], source, destination, mask),
            ROWS[3]: gan_alone(models["gpgan"], source, destination, mask),
            ROWS[4]: models["gpgan_l2_only"].blend(source, destination, mask),
            ROWS[5]: models["gpgan"].blend(source, destination, mask),
            ROWS[6]: gp_blend(source, destination, mask, image_size=64, beta=0.0),
        }
    blend_seconds = time.perf_counter() - start
    rows = [{"method": k, "rmse": rmse(v, destination), "rmse_region": rmse(v, destination, mask)} for k, v in images.items()]
    k = min(args.gpgan_figure_rows, n)
    figure = save_figure([[images[ROWS[0]][i], images[ROWS[1]][i], images[ROWS[4]][i], images[ROWS[5]][i], destination[i]]
                          for i in range(k)], ["composite", "Poisson-only", "GP-GAN (L2 only)", "GP-GAN", "target"],
                         out / "figure.png")
    result = {"rows": rows, "n": n, "size": args.gpgan_size, "batches": batches, "width": w,
              "bottleneck": args.gpgan_bottleneck, "train_seconds": seconds, "blend_seconds": blend_seconds,
              "figure": str(figure)}
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result


def table(result: dict) -> str:
    minutes = ", ".join(f"{k}: {v / 60:.1f} min" for k, v in result["train_seconds"].items())
    lines = [(f"GP-GAN vs Poisson-only blending: {result['n']} held-out photo composites at {result['size']} px "
              "(validation photographs), distance to the unchanged photograph (RMSE, 8-bit levels; lower is better). "
              f"Blending GANs: 64 px, width {result['width']}, bottleneck {result['bottleneck']}, {result['batches']} "
              f"batches each ({minutes})."),
             "", "| method | RMSE, whole image | RMSE, pasted region |", "|---|---|---|"]
    lines += [f"| {r['method']} | {r['rmse']:.2f} | {r['rmse_region']:.2f} |" for r in result["rows"]]
    lines += ["", (f"Figure: {result['figure']}. The paper (Wu et al. 2017) scores realism (RealismCNN, an AMT study) "
                   "on Transient Attributes and reports no distances to a target.")]
    return "\n".join(lines)


if __name__ == "__main__":
    parsed = add_arguments(argparse.ArgumentParser(description=__doc__,
                                                   formatter_class=argparse.RawDescriptionHelpFormatter)).parse_args()
    print(table(run(parsed)))
