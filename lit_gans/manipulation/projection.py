"""Projecting a real image x onto the generator's manifold, the three ways of Zhu et al. 2016 (Section 3.1):

    optimize   z* = argmin_z L(x, G(z)) by L-BFGS (or Adam) from several starts, the best kept       (eq. (3))
    encoder    z = P(x), a feed-forward network trained to invert G on pairs (G(z_n), z_n)         (eq. (4)-(5))
    hybrid     the optimisation started from P(x) (the authors' default)

L is the pixel MSE + λ_f × a feature MSE (`energies.reconstruction_loss`). The optimisers move w with
z = b·tanh(w / b) (`LatentSpace.from_param`), so z stays in the prior's box and L-BFGS needs no bounds
(the authors run L-BFGS-B on z' with z = tanh(z')).
"""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lit_gans.manipulation.energies import reconstruction_loss
from lit_gans.manipulation.latent import LatentSpace
from lit_gans.networks.encoder import ConvEncoder, MLPEncoder

METHODS = ("optimize", "encoder", "hybrid")
SOLVERS = ("lbfgs", "adam")


@dataclass
class Projection:
    """z (B, d) and G(z) (B, C, H, W) of each image, its loss L (B,) and pixel MSE (B,), seconds taken."""

    z: Tensor
    images: Tensor
    loss: Tensor
    mse: Tensor
    seconds: float = 0.0
    history: list[float] = field(default_factory=list)  # mean loss per iteration (optimisation)
    labels: Tensor | None = None  # the class each image was projected under, when classes were searched


def _finish(space: LatentSpace, x: Tensor, z: Tensor, features: nn.Module | None, feature_weight: float,
            start: float, history: list[float] | None = None) -> Projection:
    with torch.no_grad():
        images = space(z)
        loss = reconstruction_loss(images, x, features, feature_weight)
        mse = ((images - x) ** 2).flatten(1).mean(1)
    return Projection(z.detach(), images, loss, mse, time.perf_counter() - start, history or [])


def optimize(space: LatentSpace, x: Tensor, z_init: Tensor | None = None, *, solver: str = "lbfgs", steps: int = 200,
             restarts: int = 4, features: nn.Module | None = None, feature_weight: float = 0.0, lr: float = 0.1,
             generator: torch.Generator | None = None) -> Projection:
    """z* = argmin_z L(x, G(z)) for each image of x (B, C, H, W), from ``restarts`` starts per image optimised as
    one batch (their losses are independent, so the sum's gradient is each start's own); the best start is kept.
    Starts: ``z_init`` (B, d) first when given (the hybrid), the rest drawn from the prior.

    ``solver="lbfgs"``: torch's L-BFGS with a strong-Wolfe line search, ``steps`` iterations (the authors: L-BFGS-B,
    200); ``"adam"``: Adam(lr) for ``steps`` steps."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}.")
    start = time.perf_counter()
    x = space.check_images(x)
    b, r = len(x), max(1, int(restarts))
    z0 = space.sample(b * r, generator=generator).view(b, r, -1)
    if z_init is not None:
        z0[:, 0] = space.extend(z_init.reshape(b, -1).to(z0.device))
    w = space.to_param(z0.reshape(b * r, -1)).clone().requires_grad_(True)
    target = x.repeat_interleave(r, dim=0)
    with torch.no_grad():
        target_features = features(target) if features is not None and feature_weight > 0 else None
    history: list[float] = []

    def total() -> Tensor:
        return reconstruction_loss(space(space.from_param(w)), target, features, feature_weight, target_features).sum()

    if solver == "lbfgs":
        opt = torch.optim.LBFGS([w], lr=1.0, max_iter=steps, history_size=10, line_search_fn="strong_wolfe",
                                tolerance_grad=1e-9, tolerance_change=1e-12)

        def closure() -> Tensor:
            opt.zero_grad()
            loss = total()
            loss.backward()
            history.append(loss.item() / (b * r))
            return loss

        opt.step(closure)
    else:
        opt = torch.optim.Adam([w], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            loss = total()
            loss.backward()
            opt.step()
            history.append(loss.item() / (b * r))
    with torch.no_grad():
        z = space.from_param(w)
        per_start = reconstruction_loss(space(z), target, features, feature_weight, target_features).view(b, r)
        best = per_start.argmin(1)
        z = z.view(b, r, -1)[torch.arange(b), best]
    return _finish(space, x, z, features, feature_weight, start, history)


# ----- the encoder P -----------------------------------------------------------------------------
class ProjectionEncoder(nn.Module):
    """P: image (B, C, H, W) -> w (B, d), read as z = b·tanh(w / b) like the optimisers' variable. Conv (BiGAN's
    ``convnet_28``: two stride-2 convs, FC 1024) for square images with a side divisible by 4, an MLP otherwise.
    ``code_dim`` > 0 (InfoGAN with optimised codes): P also predicts the continuous codes, in their box
    [−code_bound, code_bound]."""

    def __init__(self, in_shape: tuple[int, int, int], latent_dim: int, bound: float, channels: tuple[int, int] = (64, 128),
                 fc: int = 1024, code_dim: int = 0, code_bound: float = 1.0) -> None:
        super().__init__()
        self.in_shape, self.latent_dim, self.bound = tuple(int(s) for s in in_shape), int(latent_dim), float(bound)
        self.channels, self.fc = tuple(int(c) for c in channels), int(fc)
        self.code_dim, self.code_bound = int(code_dim), float(code_bound)
        c, h, w = self.in_shape
        out = self.latent_dim + self.code_dim
        if h == w and h % 4 == 0:
            self.net: nn.Module = ConvEncoder(self.in_shape, out, self.channels, self.fc)
        else:
            self.net = MLPEncoder(self.in_shape, out, hidden=(self.fc, self.fc))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def z(self, x: Tensor) -> Tensor:
        w = self.forward(x)
        b = torch.full((w.shape[1],), self.bound, device=w.device, dtype=w.dtype)
        b[self.latent_dim:] = self.code_bound
        return b * torch.tanh(w / b)

    def meta(self) -> dict[str, Any]:
        return {"in_shape": list(self.in_shape), "latent_dim": self.latent_dim, "bound": self.bound,
                "channels": list(self.channels), "fc": self.fc, "code_dim": self.code_dim, "code_bound": self.code_bound}


def encoder_loss(space: LatentSpace, encoder: ProjectionEncoder, z: Tensor, features: nn.Module | None = None,
                 feature_weight: float = 0.0, latent_weight: float = 0.0) -> Tensor:
    """Eq. (5) of Zhu et al.: the mean over the batch of L(G(P(x_n)), x_n) on generated x_n = G(z_n), the loss the
    optimiser minimises; ``latent_weight`` > 0 adds ‖P(x_n) − z_n‖² / d (a code-regression term, not the paper's)."""
    with torch.no_grad():
        x = space(z)
    z_hat = encoder.z(x)
    loss = reconstruction_loss(space(z_hat), x, features, feature_weight).mean()
    if latent_weight > 0:
        loss = loss + latent_weight * ((z_hat - z) ** 2).mean()
    return loss


def train_encoder(space: LatentSpace, steps: int = 2000, batch_size: int = 64, lr: float = 2e-4,
                  features: nn.Module | None = None, feature_weight: float = 0.0, latent_weight: float = 0.0,
                  seed: int = 0, log_every: int = 0, channels: tuple[int, int] = (64, 128),
                  fc: int = 1024) -> tuple[ProjectionEncoder, list[float]]:
    """P trained with Adam(lr, β1 0.5) on fresh G(z) batches (an endless supply: G is the data), ``steps`` steps;
    ``channels`` / ``fc``: its widths (BiGAN's convnet_28 by default)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = ProjectionEncoder(space.image_shape, space.latent_dim, space.bound, channels, fc, space.code_dim,
                                    space.code_bound).to(space.device)
    opt = torch.optim.Adam(encoder.parameters(), lr=lr, betas=(0.5, 0.999))
    losses = []
    encoder.train()
    for i in range(steps):
        loss = encoder_loss(space, encoder, space.sample(batch_size, generator=gen), features, feature_weight, latent_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if log_every and (i + 1) % log_every == 0:
            print(f"encoder step {i + 1}/{steps}: loss {sum(losses[-log_every:]) / log_every:.4f}", flush=True)
    return encoder.eval(), losses


def save_encoder(encoder: ProjectionEncoder, path: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """P as data: ``{"state_dict", "meta"}`` of tensors and plain values (read back with ``weights_only=True``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in encoder.state_dict().items()}
    torch.save({"state_dict": state, "meta": {**(meta or {}), **encoder.meta(), "kind": "lit_gans.projection_encoder"}}, path)
    return path


def load_encoder(path: str | Path, space: LatentSpace | None = None) -> ProjectionEncoder:
    """P from `save_encoder`'s file, checked against the generator it is meant to invert."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"encoder_ckpt={path} does not exist. Train one with project.py train_encoder=true.")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("meta", {}).get("kind") != "lit_gans.projection_encoder":
        raise ValueError(f"encoder_ckpt={path} is not a projection encoder written by lit_gans (project.py train_encoder=true).")
    meta = blob["meta"]
    code_dim = int(meta.get("code_dim", 0))
    encoder = ProjectionEncoder(tuple(meta["in_shape"]), meta["latent_dim"], meta["bound"], tuple(meta["channels"]), meta["fc"],
                                code_dim, float(meta.get("code_bound", 1.0)))
    encoder.load_state_dict(blob["state_dict"])
    if space is not None and (tuple(meta["in_shape"]) != space.image_shape or meta["latent_dim"] != space.latent_dim):
        raise ValueError(f"encoder_ckpt={path} inverts {meta['in_shape']} images to {meta['latent_dim']}-d z, but this "
                         f"generator maps {space.latent_dim}-d z to {list(space.image_shape)}; train an encoder for it.")
    if space is not None and code_dim != space.code_dim:
        raise ValueError(f"encoder_ckpt={path} predicts {code_dim} continuous code(s) besides z, but this space optimises "
                         f"{space.code_dim} (optimize_codes={'true' if space.code_dim else 'false'}); train an encoder for it.")
    encoder.meta_saved = meta
    return encoder.to(space.device if space is not None else "cpu").eval()


def encode(space: LatentSpace, x: Tensor, encoder: ProjectionEncoder, features: nn.Module | None = None,
           feature_weight: float = 0.0) -> Projection:
    """The network-based projection z = P(x)."""
    start = time.perf_counter()
    x = space.check_images(x)
    with torch.no_grad():
        z = space.extend(encoder.eval().z(x))
    return _finish(space, x, z, features, feature_weight, start)


def project(space: LatentSpace, x: Tensor, method: str = "hybrid", encoder: ProjectionEncoder | None = None,
            **options: Any) -> Projection:
    """``method``: "optimize" (restarts from the prior), "encoder" (P(x)), or "hybrid" (optimisation started from
    P(x) and ``restarts`` − 1 prior draws). ``options`` go to `optimize` (solver, steps, restarts, features, ...)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    if method != "optimize" and encoder is None:
        raise ValueError(f"method={method} needs the encoder P: pass encoder_ckpt=<file> or train_encoder=true.")
    if method == "encoder":
        return encode(space, x, encoder, options.get("features"), options.get("feature_weight", 0.0))
    if method == "hybrid":
        first = encode(space, x, encoder)
        out = optimize(space, x, first.z, **options)
        out.seconds += first.seconds
        return out
    return optimize(space, x, **options)


def psnr(mse: Tensor) -> Tensor:
    """PSNR (dB) of images in [-1, 1] (peak-to-peak 2) from their MSE."""
    return 10 * torch.log10(4.0 / mse.clamp_min(1e-12))


__all__ = ["Projection", "ProjectionEncoder", "encode", "encoder_loss", "load_encoder", "optimize", "project", "psnr",
           "save_encoder", "train_encoder", "METHODS"]
