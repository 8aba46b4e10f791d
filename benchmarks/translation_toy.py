"""DiscoGAN's toy comparison (Kim et al. 2017, Section 4.1, Figure 3): which modes of domain B the modes of domain A
are sent to by a standard GAN, a GAN with reconstruction, and DiscoGAN. Part 3 of ``benchmarks/translation.py``
(``--part toy``); runs alone too::

    OMP_NUM_THREADS=1 python benchmarks/translation_toy.py                 # 3 models x 3 seeds, 1500 batches each
    OMP_NUM_THREADS=1 python benchmarks/translation_toy.py --toy-steps 500 --toy-seeds 0

Data (`lit_gans.data.MixturePairsDataModule`): A, 5 Gaussians on a line (x = -2..2, std 0.05); B, 10 on a circle
of radius 2 (std 0.05); unpaired batches of 256 points. Models: `lit_gans.models.DiscoGAN` with
``architecture`` "gan" (G_AB against D_B alone: no reconstruction, the no-cycle baseline), "recongan" (+ A's
reconstruction through G_BA) and "discogan" (both GANs, both reconstructions, weight 1), on the same MLPs
(2 -> 128 -> 128 -> 2, ReLU; D 2 -> 128 -> 128 -> 1, LeakyReLU 0.2), the standard (non-saturating) GAN loss, Adam
lr 1e-3, β (0.5, 0.999) (a toy rate: the paper gives none for its toy). Counted on 2,000 held-out A points
(`lit_gans.metrics.modes.mode_mapping`): the B mode most of each A mode's translations land in (within 3 std),
how many different B modes those are (``distinct``: 5 = one to one), how many B modes receive >= 5 % of some A
mode (``covered``), and the share of translations on a mode (``in mode``). The figure goes to
``benchmarks/figures/translation_discogan_toy.png``.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wgan_common import ROOT, out_dir, set_threads  # noqa: E402

ARCHITECTURES = (("gan", "GAN (no reconstruction)"), ("recongan", "GAN + reconstruction"), ("discogan", "DiscoGAN"))
NS = {"name": "non_saturating", "logits": True, "discriminator": "lit_gans.losses.minimax_discriminator_loss",
      "generator": "lit_gans.losses.non_saturating_generator_loss"}
FIGURE = ROOT / "benchmarks" / "figures" / "translation_discogan_toy.png"


def toy_model(architecture: str, lr: float = 1e-3, hidden: int = 128) -> Any:
    from lit_gans.models import DiscoGAN

    generator = {"_target_": "lit_gans.networks.MLPGenerator", "latent_dim": 2, "out_shape": [2],
                 "hidden": [hidden, hidden], "activation": "relu", "output_activation": "none"}
    discriminator = {"_target_": "lit_gans.networks.MLPDiscriminator", "in_shape": [2], "hidden": [hidden, hidden],
                     "activation": "leaky_relu"}
    adam = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": lr, "betas": [0.5, 0.999]}
    return DiscoGAN(generator, discriminator, NS, adam, adam, latent_dim=0, architecture=architecture,
                    nan_check_every_n_batches=0)


def train_toy(architecture: str, steps: int, seed: int, batch_size: int = 256) -> tuple[Any, Any]:
    """One model trained for ``steps`` batches (one G and one D step each) on the toy domains; (model, datamodule)."""
    import lightning as L

    from lit_gans.data import MixturePairsDataModule

    L.seed_everything(seed, verbose=False)
    model = toy_model(architecture)
    data = MixturePairsDataModule(batch_size=batch_size, seed=seed)
    trainer = L.Trainer(accelerator="cpu", max_steps=2 * steps, max_epochs=-1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    trainer.fit(model, train_dataloaders=data.train_dataloader())
    return model, data


@torch.no_grad()
def count_modes(model: Any, data: Any) -> dict[str, Any]:
    """`mode_mapping` of G_AB's translations of the validation A points; tensors as lists (JSON)."""
    from lit_gans.metrics.modes import mode_mapping

    points = [(batch.a, batch.labels_a) for batch in data.val_dataloader()]
    a, modes = torch.cat([p[0] for p in points]), torch.cat([p[1] for p in points])
    translated = model.translate(a, "AtoB")
    result = mode_mapping(modes, translated, data.b.centers, data.b.stds, n_source=data.a.num_components)
    result["translated"], result["source_modes"], result["inputs"] = translated, modes, a
    return result


def jsonable(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v.tolist() if isinstance(v, torch.Tensor) else v for k, v in result.items()
            if k not in ("translated", "source_modes", "inputs")}


def draw(results: dict[str, dict[str, Any]], data: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(1, 1 + len(results), figsize=(4 * (1 + len(results)), 4), sharex=True, sharey=True)
    a, la = data.a.sample(1000, torch.Generator().manual_seed(0))
    b, _ = data.b.sample(2000, torch.Generator().manual_seed(1))
    axes[0].scatter(b[:, 0], b[:, 1], s=2, c="lightgrey", label="B")
    axes[0].scatter(a[:, 0], a[:, 1], s=2, c=[colours(int(m)) for m in la], label="A")
    axes[0].set_title("(a) domains: A (colours) and B (grey)")
    for ax, (label, result) in zip(axes[1:], results.items()):
        ax.scatter(b[:, 0], b[:, 1], s=2, c="lightgrey")
        x, m = result["translated"], result["source_modes"]
        ax.scatter(x[:, 0], x[:, 1], s=2, c=[colours(int(i)) for i in m])
        ax.set_title(f"{label}\n{result['distinct']} distinct / {result['modes_covered']} covered B modes")
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
    fig.suptitle("G_AB(A) coloured by the A mode each point came from (DiscoGAN's toy, Kim et al. 2017, Fig. 3)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| model | seed | distinct B modes (of 5) | B modes covered | in mode | A-mode -> B-mode | seconds |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['label']} | {r['seed']} | {r['distinct']} | {r['modes_covered']} | {r['in_mode']:.1%} | "
                     f"{' '.join(str(m) for m in r['majority'])} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def run_toy_part(args: argparse.Namespace, out: Path, report: Callable[[str], None] = print) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    seeds = getattr(args, "toy_seeds", None) or [args.seed]
    for seed in seeds:
        drawn: dict[str, dict[str, Any]] = {}
        for architecture, label in ARCHITECTURES:
            start = time.perf_counter()
            model, data = train_toy(architecture, args.toy_steps, seed)
            result = count_modes(model, data)
            row = {"label": label, "architecture": architecture, "seed": seed, **jsonable(result),
                   "seconds": time.perf_counter() - start}
            rows.append(row)
            drawn[f"({'bcd'[len(drawn)]}) {label}"] = result
            print(f"[toy {architecture} seed {seed}] {json.dumps({k: v for k, v in row.items() if k != 'counts'})}", flush=True)
        if seed == seeds[0]:
            draw(drawn, data, FIGURE if not getattr(args, "quick", False) else out / FIGURE.name)
    (out / "toy.json").write_text(json.dumps(rows, indent=1))
    report(f"\nDiscoGAN's toy (Figure 3): {args.toy_steps} batches of 256 per model, seeds {seeds}\n\n{markdown(rows)}")
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--toy-steps", type=int, default=1500, help="training batches per model")
    parser.add_argument("--toy-seeds", type=int, nargs="+", default=[0, 1, 2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    set_threads(args.threads)
    run_toy_part(args, out_dir("translation") / "toy")


if __name__ == "__main__":
    main()
