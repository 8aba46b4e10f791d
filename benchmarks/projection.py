"""iGAN on MNIST (Zhu et al. 2016): how well the three projections reconstruct held-out digits, and how often edits
meet their constraints, with seconds per image / edit on this CPU. Not a test: nothing here asserts.

Usage::

    python benchmarks/projection.py --ckpt <run>/checkpoints/last.ckpt          # a trained MNIST generator
    python benchmarks/projection.py --ckpt ... --quick                          # 8 digits, short runs: the pipeline

A generator to measure (what the numbers in docs/sections/igan.md used: DCGAN, z ~ U[-1, 1]^100, 2 epochs)::

    python train.py model=dcgan data=mnist trainer.max_epochs=2 callbacks=model_checkpoint logger=[] seed=0 \\
        hydra.run.dir=<run>

Projection: the first ``--images`` MNIST test digits (the generator never saw them), each projected by
``optimize`` (L-BFGS from ``--restarts`` prior draws), ``encoder`` (P trained ``--encoder-steps`` steps on G(z)
pairs, eq. (5)) and ``hybrid`` (L-BFGS from P(x) and restarts − 1 draws); also ``optimize`` without the feature term.
Reported: per-pixel MSE and PSNR of G(z*) against the digit ([-1, 1] scale), seconds per image (batched).

Edits: from the hybrid projections z0, ``--edits`` random edits with the authors' settings (32 candidates, Adam lr
0.1, 25 iterations, best 16 kept): a white stroke (paint), a black stroke (erase), a region dragged (warp), a pen
line (sketch; ``--kinds`` picks some). An edit meets its constraint when the best candidate's energy is below
``--tolerance`` (colour MSE under the brush; 0.25 is a mean absolute error of 0.5 on a [-1, 1] range of 2); a
sketch when its relative edge error is below ``--sketch-tolerance`` (0.5: half the drawn edges' energy left; 1 is
"no edges there"). Reported: that fraction, energies before and after, seconds
per edit and per live step (one Adam iteration over the candidates, what the web app runs per drawing event).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import out_dir, set_threads  # noqa: E402

from lit_gans.manipulation import (  # noqa: E402
    ColorStroke,
    EditSettings,
    Editor,
    LatentSpace,
    Warp,
    brush,
    sketch_stroke,
    feature_network,
    project,
    train_encoder,
)
from lit_gans.manipulation.projection import psnr  # noqa: E402
from lit_gans.sampling import load_model  # noqa: E402


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ckpt", required=True, help="a trained MNIST generator's checkpoint (lit_gans)")
    parser.add_argument("--images", type=int, default=64, help="MNIST test digits to project")
    parser.add_argument("--steps", type=int, default=200, help="L-BFGS iterations (the authors: 200)")
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--feature-weight", type=float, default=0.1)
    parser.add_argument("--encoder-steps", type=int, default=1500)
    parser.add_argument("--encoder-batch", type=int, default=64)
    parser.add_argument("--edits", type=int, default=30, help="edits of each kind")
    parser.add_argument("--tolerance", type=float, default=0.25)
    parser.add_argument("--sketch-tolerance", type=float, default=0.5)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS, help="the edits to run")
    parser.add_argument("--lambda-s", type=float, nargs="+", default=[EditSettings.lambda_s],
                        help="one row of edits per value")
    parser.add_argument("--edits-only", action="store_true", help="skip projection; edits start from prior draws")
    parser.add_argument("--quick", action="store_true", help="8 digits, 20 steps, 50 encoder steps, 4 edits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)


def test_digits(n: int) -> torch.Tensor:
    import os

    from torchvision.datasets import MNIST

    data = MNIST(os.environ.get("LIT_GANS_DATA_DIR", "data"), train=False, download=False)
    return data.data[:n].float().div(127.5).sub(1)[:, None]


def projection_rows(space: LatentSpace, x: torch.Tensor, args: argparse.Namespace) -> tuple[list[dict], torch.Tensor]:
    features = feature_network("mnist", space.image_shape)
    start = time.perf_counter()
    encoder, losses = train_encoder(space, args.encoder_steps, args.encoder_batch, 2e-4, features, args.feature_weight,
                                    seed=args.seed, log_every=max(1, args.encoder_steps // 5))
    encoder_minutes = (time.perf_counter() - start) / 60
    options = dict(steps=args.steps, restarts=args.restarts, features=features, feature_weight=args.feature_weight)
    rows, hybrid_z = [], None
    for name, method, opts in (("optimize (pixels only)", "optimize", {**options, "feature_weight": 0.0}),
                               ("optimize", "optimize", options), ("encoder", "encoder", options),
                               ("hybrid", "hybrid", options)):
        gen = torch.Generator().manual_seed(args.seed)
        result = project(space, x, method, encoder, **opts, generator=gen) if method != "encoder" else \
            project(space, x, method, encoder, features=features, feature_weight=args.feature_weight)
        rows.append({"method": name, "mse": float(result.mse.mean()), "mse_median": float(result.mse.median()),
                     "psnr": float(psnr(result.mse).mean()), "seconds_per_image": result.seconds / len(x)})
        print(rows[-1], flush=True)
        if method == "hybrid":
            hybrid_z = result.z
    rows.append({"method": "(encoder training)", "minutes": encoder_minutes, "final_loss": losses[-1]})
    return rows, hybrid_z


KINDS = ("paint white", "erase black", "warp", "sketch")


def edit_rows(space: LatentSpace, z0s: torch.Tensor, args: argparse.Namespace, lambda_s: float) -> list[dict]:
    gen = torch.Generator().manual_seed(args.seed + 1)  # the same edits for every λ_s
    settings = EditSettings(lambda_s=lambda_s, **({"iterations": 10, "candidates": 8, "keep": 4} if args.quick else {}))
    rows = []
    for kind in KINDS:
        if kind not in args.kinds:
            continue  # (the random edits of the kinds after it then differ from a run of every kind)
        met, before, after, seconds, live = 0, [], [], [], []
        for i in range(args.edits):
            z0 = z0s[i % len(z0s)][None]
            image = space(z0)[0].detach()
            r, c = (int(v) for v in torch.randint(6, 22, (2,), generator=gen))
            if kind == "warp":
                mask = torch.zeros(28, 28)
                mask[r - 4:r + 4, c - 4:c + 4] = 1.0
                dy, dx = (int(v) for v in torch.randint(-3, 4, (2,), generator=gen))
                constraint = Warp(mask, image, (dy, dx))
            elif kind == "sketch":  # a pen line of 5-10 px through (r, c), white on black as MNIST's strokes
                end = (r + int(torch.randint(-5, 6, (1,), generator=gen)), c + int(torch.randint(-5, 6, (1,), generator=gen)))
                constraint = sketch_stroke((1, 28, 28), [(r, c), end])
            else:
                end = (r + int(torch.randint(-5, 6, (1,), generator=gen)), c + int(torch.randint(-5, 6, (1,), generator=gen)))
                color = torch.tensor([1.0 if kind == "paint white" else -1.0])
                constraint = ColorStroke(brush((28, 28), [(r, c), end], radius=1.5), color)
            editor = Editor(space, z0, settings, seed=args.seed + i)
            editor.add(constraint)
            t = time.perf_counter()
            editor.step(1)
            live.append(time.perf_counter() - t)
            result = editor.step(settings.iterations - 1)
            seconds.append(time.perf_counter() - t)
            e0, e1 = float(constraint.energy(image[None])), float(result.energy[0])
            before.append(e0)
            after.append(e1)
            met += e1 < (args.sketch_tolerance if kind == "sketch" else args.tolerance)
        n = max(args.edits, 1)
        rows.append({"edit": kind, "lambda_s": lambda_s, "met": met / n, "energy_before": sum(before) / n, "energy_after": sum(after) / n,
                     "seconds_per_edit": sum(seconds) / n, "seconds_per_live_step": sum(live) / n})
        print(rows[-1], flush=True)
    return rows


def run(args: argparse.Namespace) -> dict:
    set_threads(args.threads)
    if args.quick:
        args.images, args.steps, args.encoder_steps, args.edits = 8, 20, 50, 4
    torch.manual_seed(args.seed)
    model = load_model(args.ckpt)
    space = LatentSpace(model)
    if args.edits_only:
        projections, z0s = [], space.sample(args.edits, generator=torch.Generator().manual_seed(args.seed))
    else:
        projections, z0s = projection_rows(space, test_digits(args.images), args)
    edits = [row for lambda_s in args.lambda_s for row in edit_rows(space, z0s, args, lambda_s)]
    projected = "" if args.edits_only else (f"{args.images} MNIST test digits, L-BFGS {args.steps} it. x {args.restarts} "
                                            f"starts, λ_f {args.feature_weight}, P {args.encoder_steps} steps; ")
    result = {"settings": f"{Path(args.ckpt)}; {projected}{args.edits} edits per kind from "
                          f"{'prior draws' if args.edits_only else 'the hybrid projections'}, tolerance {args.tolerance} "
                          f"(sketch {args.sketch_tolerance}); "
                          f"{torch.get_num_threads()} thread(s)",
              "projection": projections, "edits": edits}
    out = out_dir("projection" + ("_quick" if args.quick else ""))
    (out / ("edits.json" if args.edits_only else "projection.json")).write_text(json.dumps(result, indent=1))
    print(table(result))
    return result


def table(result: dict) -> str:
    lines = [f"iGAN projection and editing on MNIST ({result['settings']})", ""]
    if result["projection"]:
        lines += ["| projection | MSE (mean) | MSE (median) | PSNR dB | s / image |", "|---|---|---|---|---|"]
    for r in result["projection"]:
        if "mse" in r:
            lines.append(f"| {r['method']} | {r['mse']:.4f} | {r['mse_median']:.4f} | {r['psnr']:.2f} | "
                         f"{r['seconds_per_image']:.2f} |")
        else:
            lines.append(f"| {r['method']} | {r['minutes']:.1f} min, final loss {r['final_loss']:.4f} | | | |")
    lines += ["", "| edit | λ_s | met | energy before | energy after | s / edit | s / live step |", "|---|---|---|---|---|---|---|"]
    for r in result["edits"]:
        lines.append(f"| {r['edit']} | {r.get('lambda_s', EditSettings.lambda_s):g} | {100 * r['met']:.0f} % | {r['energy_before']:.3f} | {r['energy_after']:.3f} | "
                     f"{r['seconds_per_edit']:.2f} | {r['seconds_per_live_step']:.3f} |")
    lines += ["", "Zhu et al. 2016 compare the three projections on shoes / handbags / churches / outdoor photos "
              "(64 px, DCGAN, AlexNet conv4 features); those numbers are not in our reference notes "
              "(the published tables), so they are not copied here from memory."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
