"""Issue 20's reproductions in one place: LAPGAN, StackGAN, PPGN and GP-GAN, one sub-command each.

Usage::

    python benchmarks/guided.py lapgan [--lapgan-batches 400 ...]        # LAPGAN vs a DCGAN of its size
    python benchmarks/guided.py stackgan [--stackgan-stage1-batches ...]  # Stage-I vs Stage-II
    python benchmarks/guided.py ppgn --ppgn-ckpt <ppgn_dae run>/checkpoints/last.ckpt [--cgan-ckpt ...]
    python benchmarks/guided.py gpgan [--gpgan-batches ...]              # GP-GAN vs Poisson-only blending
    python benchmarks/guided.py lapgan --help                            # one method's options

Each method lives in ``benchmarks/guided_<method>.py`` (runnable alone with the same options), which gives
``add_arguments(parser)``, ``run(args) -> dict`` and ``table(result) -> str``; this script only dispatches, prints
the table and writes the result as JSON. Settings, recorded numbers and their reading: docs/sections/<method>.md.
"""

import argparse
import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

METHODS = ("lapgan", "stackgan", "ppgn", "gpgan")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    methods = parser.add_subparsers(dest="method", required=True, metavar="{" + ",".join(METHODS) + "}")
    for name in METHODS:
        module = importlib.import_module(f"guided_{name}")
        sub = methods.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0],
                                 description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    module = importlib.import_module(f"guided_{args.method}")
    result = module.run(args)
    print(module.table(result), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    return result


if __name__ == "__main__":
    run(parse_args())
