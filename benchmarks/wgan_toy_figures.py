"""The WGAN paper's toy figures (Arjovsky et al. 2017): Example 1 / Figure 1 and Figure 2, on the CPU.

Usage::

    python benchmarks/wgan_toy_figures.py            # both figures: 27 short runs on one thread, ~6.5 min
    python benchmarks/wgan_toy_figures.py --quick    # 4 θ values and fewer steps (a smoke run, ~1 min)

Writes ``benchmarks/out/wgan_toy/parallel_lines.png`` and ``figure2.png`` and prints the numbers.

**Example 1, learning parallel lines** (``experiment=wgan_parallel_lines`` / ``gan_parallel_lines``):
P_0 = (0, Z), P_θ = (θ, Z), Z ~ U[0, 1].
  1. For each θ of a grid the generator is frozen at θ (``model.optimizer_g.lr=0``) and a WGAN critic
     (clipping) or a GAN discriminator (minimax) is trained; on 100k fresh samples we evaluate the critic's EM
     estimate E f(x) - E f(g_θ(z)) and the discriminator's JS estimate ½·V(D, g) + log 2, beside the exact
     W = |θ| and JS = log 2·[θ ≠ 0] (`lit_gans.analysis.parallel_lines_divergences`), and the gradient
     ∂L_G/∂θ that each trained player hands the generator's loss. With clipping, the critic is K-Lipschitz for
     an architecture-dependent K, so its estimate is ≈ K·W: we print the least-squares K̂ and plot estimate / K̂.
  2. θ learnable from θ0 = 1 (the experiments as configured): θ over generator steps for WGAN, the minimax
     GAN (the JS game) and, for reference, the non-saturating GAN (``loss=non_saturating``).
**Figure 2** (``experiment=wgan_figure2`` / ``wgan_figure2_gan``): the paper only says "two Gaussians"; we
use P_r = N(0, 1) (the data) and a frozen generator P_g = N(5, 1). A GAN discriminator (minimax) and a WGAN
critic (clipping) are trained against it; we plot D(x) = sigmoid(logit), the optimal D* = p_r / (p_r + p_g)
(here logistic, logit* = 12.5 - 5x) and the critic f(x) with both densities, and print D's saturation at
the fake samples (fraction with |logit| > 5, |∂D/∂x| and the minimax generator's gradient |∂ log(1 - D)/∂x|)
beside the critic's |f'(x)| there, each also relative to its maximum over x ∈ [-3, 8] (and min/max over x:
does the slope vanish anywhere?).
"""

import argparse
import logging
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from lit_gans.analysis import parallel_lines_divergences, spearman  # noqa: E402
from lit_gans.data.toy import ParallelLine  # noqa: E402
from lit_gans.losses.adversarial import js_divergence_estimate  # noqa: E402
from lit_gans.losses.wasserstein import em_estimate  # noqa: E402
from lit_gans.training import train  # noqa: E402

THETAS = (-1.0, -0.5, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0)
QUICK_THETAS = (-1.0, 0.0, 0.1, 1.0)
EVAL_SAMPLES = 100_000
REAL_MEAN, FAKE_MEAN = 0.0, 5.0  # Figure 2: P_r = N(0, 1), P_g = N(5, 1) (unit stds), see the configs


class ThetaTrace(L.Callback):
    """Records the generator's θ after every training batch (the experiments do not log it)."""

    def __init__(self) -> None:
        self.thetas: list[float] = []

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, *args: Any) -> None:
        self.thetas.append(float(pl_module.generator.theta.detach()))


def run(experiment: str, out: Path, *overrides: str, trace: bool = False) -> tuple[Any, list[float], float]:
    """Train ``experiment`` with ``overrides`` through `lit_gans.training.train`; (model, θ trace, seconds)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}", "callbacks=none", "logger=[]",
                                                "++trainer.enable_checkpointing=false", *overrides],
                      return_hydra_config=True)
    with open_dict(cfg):  # what `python train.py` sets up: a run folder and Hydra's runtime config
        cfg.hydra.runtime.output_dir = str(out)
        cfg.trainer.enable_progress_bar = False
        cfg.trainer.enable_model_summary = False
        if trace:  # located by name, as Hydra does: this script is __main__
            cfg.callbacks = {"theta": {"_target_": f"{__name__}.ThetaTrace"}}
    HydraConfig().set_config(cfg)
    start = time.perf_counter()
    _, objects = train(cfg)
    seconds = time.perf_counter() - start
    tracer = next((c for c in objects["trainer"].callbacks if isinstance(c, ThetaTrace)), None)
    return objects["model"], (tracer.thetas if tracer else []), seconds


def fresh_pair(model: Any, data: ParallelLine, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """EVAL_SAMPLES fresh real points and generated points (the logged estimates are single batches of 64)."""
    gen = torch.Generator().manual_seed(seed)
    real, _ = data.sample(EVAL_SAMPLES, gen)
    with torch.no_grad():
        fake = model.sample_images(EVAL_SAMPLES, generator=gen)
    return real, fake


def generator_gradient(model: Any, loss: str) -> float:
    """∂L_G/∂θ with the trained critic / discriminator, on EVAL_SAMPLES latents: the push θ gets."""
    gen = torch.Generator().manual_seed(123)
    theta = model.generator.theta
    d_fake = model.discriminator(model.generator(model.sample_latent(EVAL_SAMPLES, generator=gen)))
    value = {"wgan": -d_fake.mean(),  # Algorithm 1, line 10
             "minimax": -torch.nn.functional.softplus(d_fake).mean(),  # E log(1 - D(g(z)))
             "non_saturating": torch.nn.functional.softplus(-d_fake).mean()}[loss]  # -E log D(g(z))
    (grad,) = torch.autograd.grad(value, theta)
    return float(grad)


def parallel_lines_estimates(thetas: tuple[float, ...], batches: int, out: Path) -> dict[str, np.ndarray]:
    """Train a critic and a discriminator against a frozen g_θ for every θ; their estimates and ∂L_G/∂θ."""
    rows: dict[str, list[float]] = {k: [] for k in ("em", "js", "grad_wgan", "grad_minimax", "grad_ns", "seconds")}
    frozen = ["model.optimizer_g.lr=0", f"data.num_samples={batches * 64}"]
    print(f"\nExample 1: critic / discriminator trained for {batches} batches against g_θ frozen at each θ")
    print(f"{'θ':>6} | {'W':>5} {'EM est.':>9} | {'JS':>6} {'JS est.':>7} | {'∂L_G/∂θ: WGAN':>13} {'minimax':>10} {'-log D':>10} | s")
    for theta in thetas:
        seconds = 0.0
        wgan, _, s = run("wgan_parallel_lines", out / f"em_{theta}", f"model.generator.theta={theta}", *frozen)
        seconds += s
        gan, _, s = run("gan_parallel_lines", out / f"js_{theta}", f"model.generator.theta={theta}", *frozen)
        seconds += s
        real, fake = fresh_pair(wgan, ParallelLine(0.0), seed=7)
        with torch.no_grad():
            em = float(em_estimate(wgan.discriminator(real), wgan.discriminator(fake)))
            js = float(js_divergence_estimate(gan.discriminator(real), gan.discriminator(fake)))
        grads = generator_gradient(wgan, "wgan"), generator_gradient(gan, "minimax"), generator_gradient(gan, "non_saturating")
        exact = parallel_lines_divergences(theta)
        for key, value in zip(rows, (em, js, *grads, seconds)):
            rows[key].append(value)
        print(f"{theta:6.2f} | {exact.w:5.2f} {em:9.2e} | {exact.js:6.4f} {js:7.4f} | {grads[0]:13.2e} {grads[1]:10.2e} "
              f"{grads[2]:10.2e} | {seconds:.0f}")
    result = {k: np.asarray(v) for k, v in rows.items()}
    t = np.abs(np.asarray(thetas))
    k_hat = float(result["em"] @ t / (t @ t))
    result["k_hat"] = np.asarray(k_hat)
    rho, p = spearman(t, result["em"])
    apart = t > 0
    print(f"EM estimate ≈ K̂·|θ| with K̂ = {k_hat:.3e} (least squares); max |est/K̂ - |θ|| = "
          f"{np.abs(result['em'] / k_hat - t).max():.3f}; Spearman(|θ|, EM estimate) = {rho:.3f} (p = {p:.1e})")
    print(f"JS estimate: {result['js'][~apart].round(4).tolist()} at θ = 0, "
          f"{result['js'][apart].min():.4f}..{result['js'][apart].max():.4f} for θ ≠ 0 (exact: 0 and log 2 = {math.log(2):.4f})")
    return result


def learning_theta(batches: int | None, out: Path) -> dict[str, list[float]]:
    """θ from θ0 = 1 over training: WGAN, the minimax GAN and the non-saturating GAN (the experiments'
    own length unless ``batches`` is given)."""
    traces = {}
    length = [f"data.num_samples={batches * 64}"] if batches else []
    print(f"\nExample 1: θ learnable from θ0 = 1 ({batches or 'the configured 3000'} batches, n_critic = 5)")
    for name, experiment, extra in (("WGAN", "wgan_parallel_lines", []), ("GAN (minimax, JS)", "gan_parallel_lines", []),
                                    ("GAN (-log D trick)", "gan_parallel_lines", ["loss=non_saturating"])):
        _, thetas, seconds = run(experiment, out / f"learn_{experiment}_{len(extra)}", *length, *extra, trace=True)
        traces[name] = thetas
        marks = {n: thetas[n * 5 - 1] for n in (10, 50, 100, 200, 400, 1000) if n * 5 <= len(thetas)}
        print(f"  {name:<20} θ after G steps " + ", ".join(f"{n}: {v:+.3f}" for n, v in marks.items())
              + f"; final {thetas[-1]:+.4f}, min |θ| {min(map(abs, thetas)):.4f} ({seconds:.0f} s)")
    return traces


def plot_parallel_lines(thetas: tuple[float, ...], est: dict[str, np.ndarray], traces: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    grid = np.linspace(-1, 1, 401)
    exact = parallel_lines_divergences(grid)
    t = np.asarray(thetas)
    ax = axes[0]
    ax.plot(grid, exact.w, "k-", label="W(P_0, P_θ) = |θ|")
    ax.plot(t, est["em"] / est["k_hat"], "o", color="C0", label=f"critic's EM estimate / K̂ (K̂ = {float(est['k_hat']):.2e})")
    ax.set(xlabel="θ", title="Earth-Mover distance (Figure 1, left)")
    ax.legend(fontsize=8)
    ax = axes[1]
    apart = grid != 0  # draw the jump at 0 as isolated points, not as a steep line
    ax.plot(grid[grid < 0], exact.js[grid < 0], "k-", label="JS (log 2 for θ ≠ 0, 0 at θ = 0)")
    ax.plot(grid[grid > 0], exact.js[grid > 0], "k-")
    ax.plot([0], [0], "ko")
    ax.plot(grid[apart & (grid < 0)], exact.tv[apart & (grid < 0)], "-", color="0.6", label="TV δ (1 for θ ≠ 0)")
    ax.plot(grid[grid > 0], exact.tv[grid > 0], "-", color="0.6")
    ax.annotate("KL = +∞ for θ ≠ 0, 0 at θ = 0", (0.02, 1.12), xycoords=("axes fraction", "data"), fontsize=8)
    ax.plot(t, est["js"], "s", color="C3", label="discriminator's JS estimate ½V(D,g) + log 2")
    ax.set(xlabel="θ", ylim=(-0.05, 1.25), title="JS, TV and KL (Figure 1, right)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(0.0, 0.35))  # clear of the markers at 0 and log 2
    ax = axes[2]
    for (name, thetas_t), color in zip(traces.items(), ("C0", "C3", "C1")):
        steps = np.arange(1, len(thetas_t) + 1) / 5  # generator steps (n_critic = 5)
        ax.plot(steps, thetas_t, color=color, label=name)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="generator steps", ylabel="θ", title="learning θ from θ0 = 1")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _slope(fn: Any, x: torch.Tensor) -> torch.Tensor:
    """d fn(x) / dx (N,) of a pointwise function of 1-D points x (N, 1)."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    return grad.squeeze(1)


def figure2(batches: int | None, out: Path, path: Path) -> dict[str, float]:
    """Train the GAN discriminator and the WGAN critic against the frozen N(5, 1); plot and print saturation."""
    overrides = [f"data.num_samples={batches * 256}"] if batches else []
    critic, _, s_critic = run("wgan_figure2", out / "figure2_wgan", *overrides)
    gan, _, s_gan = run("wgan_figure2_gan", out / "figure2_gan", *overrides)
    batches = batches or critic.trainer.num_training_batches
    x = torch.linspace(-3, 8, 1101).unsqueeze(1)  # (N, 1)
    with torch.no_grad():
        fake = gan.sample_images(EVAL_SAMPLES, generator=torch.Generator().manual_seed(7))  # the same frozen N(5, 1) in both
        logit, f, l_fake = gan.discriminator(x), critic.discriminator(x), gan.discriminator(fake)
    players = {"D": lambda v: gan.discriminator(v).sigmoid(),
               "minimax": lambda v: -torch.nn.functional.softplus(gan.discriminator(v)),  # log(1 - D(v)): G's loss
               "f": critic.discriminator}
    on_grid = {k: _slope(fn, x).abs() for k, fn in players.items()}
    at_fake = {k: _slope(fn, fake).abs().mean() for k, fn in players.items()}
    relative = {k: float(at_fake[k] / on_grid[k].max()) for k in players}
    flattest = {k: float(on_grid[k].min() / on_grid[k].max()) for k in players}  # does the slope vanish anywhere?
    saturated = float((l_fake.abs() > 5).float().mean())
    optimal_logit = 0.5 * (fake - FAKE_MEAN) ** 2 - 0.5 * (fake - REAL_MEAN) ** 2  # log p_r/p_g = 12.5 - 5x (unit stds)
    optimal_minimax = float((FAKE_MEAN - REAL_MEAN) * optimal_logit.sigmoid().mean())  # |∂log(1 - D*)/∂x| = 5·D*
    d = logit.sigmoid()
    x_np, f_np = x.squeeze(1).numpy(), f.numpy()
    linear = np.polyfit(x_np, f_np, 1)
    f_range = float(f.max() - f.min())
    nonlinearity = float(np.abs(f_np - np.polyval(linear, x_np)).max() / f_range)
    print(f"\nFigure 2: P_r = N({REAL_MEAN:g}, 1), P_g = N({FAKE_MEAN:g}, 1) frozen; {batches} batches of 256 "
          f"(GAN {s_gan:.0f} s, WGAN {s_critic:.0f} s); slopes at the fake samples, mean |.|, and / their max over x ∈ [-3, 8]")
    print(f"  GAN discriminator: |logit| > 5 for {saturated:.1%} of the fakes, mean D(G(z)) = {float(l_fake.sigmoid().mean()):.2e}; "
          f"|∂D/∂x| = {float(at_fake['D']):.2e} ({relative['D']:.2e} of max, min/max over x {flattest['D']:.0e}); minimax generator's "
          f"|∂log(1-D)/∂x| = {float(at_fake['minimax']):.2e} ({relative['minimax']:.2e} of max, min/max {flattest['minimax']:.0e}; "
          f"with D*: {optimal_minimax:.2e})")
    print(f"  WGAN critic: |f'(x)| = {float(at_fake['f']):.2e} ({relative['f']:.2f} of max, min/max {flattest['f']:.2f}); "
          f"f is linear over [-3, 8] "
          f"to {nonlinearity:.1%} of its range (slope {linear[0]:.2e})")
    _plot_figure2(x_np, d.numpy(), f_np, path)
    return {"batches": batches, "saturated_fraction": saturated, "mean_d_fake": float(l_fake.sigmoid().mean()),
            "slope_at_fakes": {k: float(v) for k, v in at_fake.items()}, "slope_at_fakes_relative": relative,
            "slope_min_over_max": flattest, "minimax_slope_optimal_d": optimal_minimax,
            "critic_nonlinearity": nonlinearity, "critic_slope": float(linear[0])}


def _plot_figure2(x: np.ndarray, d: np.ndarray, f: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def normal(mean: float) -> np.ndarray:
        return np.exp(-0.5 * (x - mean) ** 2) / math.sqrt(2 * math.pi)

    d_star = 1 / (1 + np.exp(-(0.5 * (x - FAKE_MEAN) ** 2 - 0.5 * (x - REAL_MEAN) ** 2)))  # p_r / (p_r + p_g)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(x, normal(REAL_MEAN), alpha=0.3, color="C2", label=f"density of real N({REAL_MEAN:g}, 1)")
    ax.fill_between(x, normal(FAKE_MEAN), alpha=0.3, color="C1", label=f"density of fake N({FAKE_MEAN:g}, 1)")
    ax.plot(x, d, color="C3", label="GAN discriminator D(x) (trained, minimax)")
    ax.plot(x, d_star, "--", color="C3", lw=0.8, label="optimal D* = p_r / (p_r + p_g)")
    f_scaled = (f - f.min()) / (f.max() - f.min())  # the clipped critic's scale is arbitrary (K-Lipschitz)
    ax.plot(x, f_scaled, color="C0", label=f"WGAN critic f(x), rescaled to [0, 1] (range {f.max() - f.min():.3f})")
    ax.set(xlabel="x", title="Figure 2: optimal discriminator and critic between two Gaussians")
    ax.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 θ values and fewer steps (smoke run)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "wgan_toy")
    return parser.parse_args(argv)


def run_all(args: argparse.Namespace) -> dict:
    """Both figures and their numbers; returns them (JSON-able)."""
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)  # one line of banner per run, 30 runs
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    torch.set_num_threads(1)  # tiny networks: one thread is fastest, and leaves the other core alone
    args.out.mkdir(parents=True, exist_ok=True)
    runs = args.out / "runs"
    start = time.perf_counter()
    thetas = QUICK_THETAS if args.quick else THETAS
    batches = 300 if args.quick else 1000
    est = parallel_lines_estimates(thetas, batches=batches, out=runs)
    traces = learning_theta(batches=500 if args.quick else None, out=runs)
    plot_parallel_lines(thetas, est, traces, args.out / "parallel_lines.png")
    fig2 = figure2(batches=300 if args.quick else None, out=runs, path=args.out / "figure2.png")
    seconds = time.perf_counter() - start
    print(f"\nWrote {args.out / 'parallel_lines.png'} and {args.out / 'figure2.png'}; wall time {seconds:.0f} s")
    exact = parallel_lines_divergences(np.asarray(thetas))
    return {"settings": f"{len(thetas)} θ values, critics trained {batches} batches against a frozen g_θ"
                        + ("; θ learned over 500 batches" if args.quick else "; θ learned over the configured 3,000 batches"),
            "figures": [str(args.out / "parallel_lines.png"), str(args.out / "figure2.png")],
            "estimates": [{"theta": t, "w": float(w), "em": float(em), "js": float(js), "js_estimate": float(jse),
                           "grad_wgan": float(gw), "grad_minimax": float(gm), "grad_ns": float(gn)}
                          for t, w, em, js, jse, gw, gm, gn in zip(thetas, exact.w, est["em"], exact.js, est["js"],
                                                                   est["grad_wgan"], est["grad_minimax"], est["grad_ns"])],
            "k_hat": float(est["k_hat"]),
            "theta_learned": {name: {"after": {n: t[n * 5 - 1] for n in (10, 50, 100, 200, 400, 1000) if n * 5 <= len(t)},
                                     "final": t[-1], "min_abs": min(map(abs, t))} for name, t in traces.items()},
            "figure2": fig2, "seconds": seconds}


def main() -> None:
    run_all(parse_args())


if __name__ == "__main__":
    main()
