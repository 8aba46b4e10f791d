"""Stacked MNIST (1000 modes) for ``benchmarks/mode_collapse.py --datasets stacked_mnist``: the models, the
D-size variants, training, scoring and the table beside the published numbers.

Setting: PacGAN's replication of the VEEGAN setting (Lin et al. 2018, Table 2; the authors' code,
fjxmlzn/PacGAN stacked_MNIST_experiments/VEEGAN_experiment): 128,000 training images, z ~ U[-1, 1]^100, Adam
2e-4 with β1 0.5, 64 (packs of) samples per step, 26,000 generated samples scored (conf/experiment/
*_stacked_mnist.yaml say where ours differs). Each channel of a generated image is classified by our shipped
MNIST classifier, which names one of 1000 modes; "modes" counts the modes hit at least once and KL is
KL(histogram ‖ uniform) (`lit_gans.metrics.stacked`).

D size (PacGAN Table 3, the setting of Metz et al.): there the discriminator has ½ or ¼ of the generator's
parameters. ``--d-size half|quarter`` sets D's width (``model.discriminator.base_channels``) so that the
unpacked D has that fraction of G's parameters; our default 28 px DCGAN D already has about 0.18 of G's.
Only D's size is Table 3's: its networks (Metz et al.'s small 3x3 nets), z 256, batch 128 and 500k steps
are not reproduced here, so the Table 3 rows are printed for orientation, not as a like-for-like target.
"""

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf, open_dict
from torchvision.utils import save_image

from reference_numbers import STACKED_MNIST  # benchmarks/ is on sys.path (mode_collapse.py puts it there)

from lit_gans.metrics.mnist_classifier import load_mnist_classifier
from lit_gans.metrics.stacked import stacked_mnist_labels, stacked_mnist_modes

DATASET = "stacked_mnist"
NUM_MODES = 1000


@dataclass(frozen=True)
class StackedModel:
    label: str
    experiment: str  # conf/experiment/<experiment>.yaml
    overrides: tuple[str, ...] = ()
    published: str = ""  # key of PUBLISHED


MODELS = {
    "dcgan": StackedModel("DCGAN", "dcgan_stacked_mnist", published="dcgan"),
    "minibatch": StackedModel("DCGAN + minibatch discr.", "minibatch_stacked_mnist"),
    "unrolled1": StackedModel("Unrolled GAN K=1", "unrolled_stacked_mnist", ("model.unroll_steps=1",), "unrolled1"),
    "unrolled5": StackedModel("Unrolled GAN K=5", "unrolled_stacked_mnist", ("model.unroll_steps=5",), "unrolled5"),
    "pacgan2": StackedModel("PacDCGAN2", "pacgan2_stacked_mnist", published="pacgan2"),
    "pacgan3": StackedModel("PacDCGAN3", "pacgan3_stacked_mnist", published="pacgan3"),
    "pacgan4": StackedModel("PacDCGAN4", "pacgan4_stacked_mnist", published="pacgan4"),
    # the encoder models (issue: do the mode regularisers recover the modes a GAN misses?)
    "mrgan": StackedModel("MRGAN", "mrgan_stacked_mnist"),
    "mdgan": StackedModel("MDGAN", "mdgan_stacked_mnist"),
    "bigan": StackedModel("BiGAN", "bigan_stacked_mnist"),
    "ali": StackedModel("ALI", "ali_stacked_mnist", published="ali"),
}
DEFAULT_MODELS = ("dcgan", "minibatch", "unrolled1", "pacgan2", "pacgan3", "pacgan4")
D_SIZES = {"full": None, "half": 0.5, "quarter": 0.25}

def _ref(key: str, approx: bool = False) -> str:
    """A published row of reference_numbers.STACKED_MNIST as "modes / KL (source)"."""
    modes, kl, source = STACKED_MNIST[key]
    return f"{modes:g} / {'~' if approx else ''}{kl:g} ({key}, {source})"


# Published modes / KL(histogram ‖ uniform) beside each model (numbers and sources: reference_numbers.py).
# full: the VEEGAN setting (VEEGAN Table 2, PacGAN Table 2); half: D = ½ G (PacGAN Table 3, whose DCGAN and
# Unrolled GAN rows are Metz et al. 2017's); D = ¼ G (PacGAN Table 3) has no published row here.
PUBLISHED: dict[str, dict[str, Any]] = {
    "full": {"dcgan": _ref("DCGAN"), "unrolled1": _ref("Unrolled GAN"), "unrolled5": _ref("Unrolled GAN"),
             "pacgan2": _ref("PacDCGAN2"), "pacgan3": _ref("PacDCGAN2", approx=True),
             "pacgan4": _ref("PacDCGAN2", approx=True),
             "ali": _ref("ALI"), "others": [("VEEGAN", _ref("VEEGAN"))]},
    "half": {"dcgan": _ref("DCGAN (D 1/2)"), "unrolled1": _ref("Unrolled GAN, 1 step (D 1/2)"),
             "unrolled5": _ref("Unrolled GAN, 5 steps (D 1/2)"), "pacgan2": _ref("PacDCGAN2 (D 1/2)"),
             "pacgan3": _ref("PacDCGAN2 (D 1/2)", approx=True), "pacgan4": _ref("PacDCGAN2 (D 1/2)", approx=True),
             "others": [("Unrolled GAN K=10", _ref("Unrolled GAN, 10 steps (D 1/2)"))]},
    "quarter": {"others": []},
}


@dataclass
class StackedRun:
    modes: int
    kl: float
    counts: torch.Tensor  # (1000,) samples per mode
    g_steps: int
    seconds: float  # wall
    cpu_seconds: float  # this process's CPU time
    d_to_g: float  # D's parameters / G's (unpacked D)
    grid: Path  # 64 samples
    curve: dict[int, tuple[int, float]] = field(default_factory=dict)  # G step -> (modes, KL), with --eval-every


def default_num_samples() -> int:
    """26,000, the papers' count, from conf/metrics/stacked_mnist.yaml."""
    return int(OmegaConf.load(Path(__file__).resolve().parents[1] / "conf" / "metrics" / "stacked_mnist.yaml").num_samples)


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def d_width_for(size: str, cfg: DictConfig) -> int | None:
    """The D ``base_channels`` whose unpacked D has ``D_SIZES[size]`` of G's parameters (None: as configured)."""
    ratio = D_SIZES[size]
    if ratio is None:
        return None
    g = _params(instantiate(cfg.model.generator))
    d_cfg = {k: v for k, v in cfg.model.discriminator.items()}

    def fraction(width: int) -> float:
        return _params(instantiate({**d_cfg, "base_channels": width})) / g

    low, high = 1, 1024  # D's parameters grow with its width: bisect for the last width below the ratio
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fraction(mid) <= ratio else (low, mid)
    return min((low, high), key=lambda w: abs(fraction(w) - ratio))


def compose_stacked(model: StackedModel, seed: int, steps: int | None, run_dir: Path, d_size: str,
                    extra: tuple[str, ...], compose: Any) -> DictConfig:
    """The run's config, as ``python train.py experiment=<model.experiment> ...`` composes it, quiet."""
    overrides = [*model.overrides, *extra, f"seed={seed}"]
    cfg = compose(model.experiment, overrides, run_dir, quiet=["callbacks=none", "logger=[]", "metrics=none"])
    width = d_width_for(d_size, cfg)
    with open_dict(cfg):
        if width is not None:
            cfg.model.discriminator.base_channels = width
        cfg.trainer.limit_val_batches = 0  # scored below on 26,000 samples instead
        if steps is not None:  # generator steps -> optimizer steps
            cfg.trainer.max_epochs = -1
            cfg.trainer.max_steps = steps * optimizer_steps_per_g_step(cfg)
    return cfg


def optimizer_steps_per_g_step(cfg: DictConfig) -> int:
    """Optimizer steps per generator batch: n_critic D steps + 1 G step for the two-player models; every declared
    step once for the models with more steps (MDGAN's four per batch; they train with n_critic = 1)."""
    steps = get_class(cfg.model._target_).steps
    if len(steps) == 2:
        return int(cfg.model.n_critic) + 1
    if int(cfg.model.n_critic) != 1:
        raise ValueError(f"{cfg.model._target_} has {len(steps)} steps per batch: use n_critic = 1 for this benchmark.")
    return len(steps)


@torch.no_grad()
def score(module: Any, num_samples: int, seed: int, batch_size: int = 1000) -> tuple[int, float, torch.Tensor]:
    """Modes hit and KL(histogram ‖ uniform) of ``num_samples`` generated images (fixed noise per seed)."""
    module.eval()
    classifier = load_mnist_classifier()
    noise = torch.Generator().manual_seed(20_000 + seed)
    labels = [stacked_mnist_labels(module.sample_images(min(batch_size, num_samples - start), generator=noise).cpu(),
                                   classifier) for start in range(0, num_samples, batch_size)]
    labels = torch.cat(labels)
    result = stacked_mnist_modes(labels, NUM_MODES)
    return int(result["modes_covered"]), result["reverse_kl"], torch.bincount(labels, minlength=NUM_MODES)


class ModeCurve(L.Callback):
    """Modes and KL of G's samples every ``every`` generator steps, scored as at the end (`score`: the same fixed
    noise, its own random generator, so the training run is the same with or without the curve)."""

    def __init__(self, every: int, per_g_step: int, num_samples: int, seed: int) -> None:
        if every < 1:
            raise ValueError(f"eval every {every} generator steps: use a positive number (0 in train_stacked: no curve).")
        self.every, self.per_g_step, self.num_samples, self.seed = every, per_g_step, num_samples, seed
        self.curve: dict[int, tuple[int, float]] = {}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        g_step, rest = divmod(trainer.global_step, self.per_g_step)
        if rest == 0 and g_step % self.every == 0 and g_step not in self.curve:
            modes, kl, _ = score(pl_module, self.num_samples, self.seed)
            pl_module.train()  # score() left it in eval mode
            self.curve[g_step] = (modes, kl)
            print(f"  G step {g_step}: modes {modes}, KL {kl:.3f}, {time.process_time() / 60:.1f} cpu min (process)",
                  flush=True)  # long runs: progress as it comes


def train_stacked(name: str, model: StackedModel, seed: int, steps: int | None, out: Path, d_size: str, num_samples: int,
                  extra: tuple[str, ...], compose: Any, train: Any, eval_every: int = 0) -> StackedRun:
    """Train one model on Stacked MNIST, then score it (``compose``/``train``: mode_collapse.py's); with
    ``eval_every`` > 0 also every that many generator steps (`ModeCurve`)."""
    run_dir = out / "runs" / f"{DATASET}_{d_size}_{name}" / str(seed)
    cfg = compose_stacked(model, seed, steps, run_dir, d_size, extra, compose)
    if eval_every:
        with open_dict(cfg):  # train() instantiates the callbacks group; the trainer hands ours back
            cfg.callbacks = {"mode_curve": {"_target_": f"{ModeCurve.__module__}.ModeCurve", "every": eval_every,
                                            "per_g_step": optimizer_steps_per_g_step(cfg),
                                            "num_samples": num_samples, "seed": seed}}
    start, cpu_start = time.perf_counter(), time.process_time()
    _, objects = train(cfg)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    gan = objects["model"]
    g_steps = objects["trainer"].global_step // optimizer_steps_per_g_step(cfg)
    unpacked = instantiate({**cfg.model.discriminator})  # D's size without the packed input
    d_to_g = _params(unpacked) / _params(gan.generator)
    modes, kl, counts = score(gan, num_samples, seed)
    grid = out / f"{DATASET}_{d_size}_{name}_seed{seed}.png"
    with torch.no_grad():
        save_image(gan.sample_images(64, generator=torch.Generator().manual_seed(1)).cpu() * 0.5 + 0.5, grid, nrow=8)
    curves = [c.curve for c in objects["trainer"].callbacks if isinstance(c, ModeCurve)]
    return StackedRun(modes, kl, counts, g_steps, seconds, cpu_seconds, d_to_g, grid, curves[0] if curves else {})


def print_table(rows: list[tuple[str, StackedModel, list[StackedRun]]], seeds: list[int], d_size: str,
                num_samples: int, note: str) -> None:
    published = PUBLISHED[d_size]
    print(f"\nstacked_mnist, D size {d_size}: {len(seeds)} seed(s) {seeds}, {note}, {num_samples} samples scored; "
          "mean over seeds; published = modes / KL")
    head = f"{'model':<26}{'modes':>9}{'KL':>8}{'G steps':>9}{'D/G par.':>10}{'cpu min':>9}   published"
    print(head)
    print("-" * (len(head) + 36))
    for _, model, runs in rows:
        kl = statistics.fmean(r.kl for r in runs)  # inf if a run scored no sample
        print(f"{model.label:<26}{statistics.fmean(r.modes for r in runs):>9.1f}{kl:>8.2f}"
              f"{runs[0].g_steps:>9}{runs[0].d_to_g:>10.2f}{statistics.fmean(r.cpu_seconds for r in runs) / 60:>9.1f}   "
              f"{published.get(model.published, '')}")
        if len(runs) > 1:
            print(f"{'':<26}per seed: modes {[r.modes for r in runs]}, KL {[round(r.kl, 2) for r in runs]}")
        for seed, r in zip(seeds, runs):
            if r.curve:
                print(f"{'':<26}seed {seed}, G step: modes / KL  {format_curve(r.curve)}")
    for label, ref in published["others"]:
        print(f"{label + ' (published only)':<26}{'':>9}{'':>8}{'':>9}{'':>10}{'':>9}   {ref}")


def format_curve(curve: dict[int, tuple[int, float]]) -> str:
    return ", ".join(f"{step}: {modes} / {kl:.2f}" for step, (modes, kl) in sorted(curve.items()))


def summary(rows: list[tuple[str, StackedModel, list[StackedRun]]], seeds: list[int], d_size: str,
            num_samples: int) -> dict[str, Any]:
    """The numbers of `print_table`, JSON-able (for reproduce.py)."""
    published = PUBLISHED[d_size]
    return {"d_size": d_size, "num_samples": num_samples, "published_only": [list(p) for p in published["others"]],
            "models": [{"name": name, "label": model.label, "published": published.get(model.published, ""),
                        "runs": [{"seed": seed, "modes": r.modes, "kl": r.kl, "g_steps": r.g_steps, "d_to_g": r.d_to_g,
                                  "seconds": r.seconds, "cpu_seconds": r.cpu_seconds,
                                  "curve": [[step, modes, kl] for step, (modes, kl) in sorted(r.curve.items())],
                                  "grid": Path(r.grid).name}  # the file is in figures: no machine path
                                 for r, seed in zip(runs, seeds)]} for name, model, runs in rows]}
