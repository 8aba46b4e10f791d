"""A figure of one iGAN edit sequence on MNIST (the seed's iGAN slides, on our generator): a test digit, its
projection, the edit at successive update steps under a colour stroke, the best candidates, the interpolation
G(z0) -> G(z1), and the edit transferred to the digit itself (motion + colour flow).

    python benchmarks/igan_figure.py --ckpt <run>/checkpoints/last.ckpt [--index 0] [--out figure.png]
"""

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import out_dir, plt, set_threads  # noqa: E402

from lit_gans.manipulation import ColorStroke, EditSettings, Editor, LatentSpace, brush, feature_network, optimize, transfer  # noqa: E402
from lit_gans.sampling import load_model  # noqa: E402


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--index", type=int, default=0, help="which MNIST test digit")
    parser.add_argument("--stroke", type=float, nargs=4, default=[6, 6, 6, 20], help="row col row col of a white stroke")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    set_threads(1)
    from torchvision.datasets import MNIST

    x = MNIST(os.environ.get("LIT_GANS_DATA_DIR", "data"), train=False, download=False).data[args.index].float()
    x = x.div(127.5).sub(1)[None, None]
    space = LatentSpace(load_model(args.ckpt))
    z0 = optimize(space, x, steps=200, restarts=4, features=feature_network("mnist", space.image_shape),
                  feature_weight=0.1, generator=torch.Generator().manual_seed(0)).z
    mask = brush((28, 28), [tuple(args.stroke[:2]), tuple(args.stroke[2:])], radius=1.5)
    editor = Editor(space, z0, EditSettings())
    editor.add(ColorStroke(mask, torch.tensor([1.0])))
    steps, results = (1, 4, 10, 25), []
    done = 0
    for s in steps:
        results.append(editor.step(s - done))
        done = s
    final = results[-1]
    path = editor.interpolation(final.z[0], steps=6)
    carried = transfer(x[0], path)
    with torch.no_grad():
        projection = space(z0)[0]
    stroke = torch.where(mask > 0, torch.ones(28, 28), torch.full((28, 28), -1.0))
    rows = [("input, projection, stroke; edit after 1/4/10/25 Adam steps", [x[0], projection, stroke[None]]
             + [r.images[0] for r in results]),
            ("best candidates (of 16 kept)", list(final.images[:7])),
            ("interpolation G(z0) -> G(z1)", list(path)),
            ("edit transfer to the input (TV-L1 motion + colour)", list(carried))]
    fig, axes = plt.subplots(len(rows), 7, figsize=(7 * 1.1, len(rows) * 1.35))
    for (title, images), ax_row in zip(rows, axes):
        for i, ax in enumerate(ax_row):
            ax.axis("off")
            if i < len(images):
                ax.imshow(images[i].detach().cpu()[0], cmap="gray", vmin=-1, vmax=1)
        ax_row[0].set_title(title, fontsize=8, loc="left")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93, wspace=0.05, hspace=0.3)
    out = Path(args.out) if args.out else out_dir("projection") / "igan_edit_sequence.png"
    fig.savefig(out, dpi=120)
    print(out)
    return out


if __name__ == "__main__":
    main()
