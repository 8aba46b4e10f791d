"""Load a trained generator from a checkpoint and draw grids, interpolations or arrays."""

import math
from pathlib import Path

import torch
from torch import Tensor

from lit_gans.checkpoints import check_checkpoint, read_checkpoint
from lit_gans.metrics.extractors import to_uint8
from lit_gans.models import AdversarialModule


def load_model(ckpt_path: str | Path, map_location: str = "cpu") -> AdversarialModule:
    """Rebuild the module a checkpoint was trained with (its class and hyper-parameters are in it)."""
    path = Path(ckpt_path)
    return model_from_checkpoint(read_checkpoint(path, map_location), path)


def model_from_checkpoint(ckpt: dict, path: Path) -> AdversarialModule:
    """`load_model` for a checkpoint already read (``path`` names it in errors). The class and every name in
    the hyper-parameters are checked against lit_gans' allow-list first (`check_checkpoint`): a checkpoint
    is data, and building the module calls what it names."""
    if "lit_gans_class" not in ckpt or "hyper_parameters" not in ckpt:
        raise ValueError(f"ckpt_path={path} was not written by lit_gans (no model class / hyper-parameters in it).")
    model = check_checkpoint(ckpt, path)(**ckpt["hyper_parameters"])
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()


def slerp(z0: Tensor, z1: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation (White 2016, "Sampling Generative Networks"): keeps the norm of
    Gaussian latents typical along the path, where a straight line passes near the origin.

    z0, z1: (B, d); t: (T,) in [0, 1] -> (B, T, d).
    """
    a, b = z0[:, None], z1[:, None]  # (B, 1, d)
    cos = (torch.nn.functional.normalize(a, dim=-1) * torch.nn.functional.normalize(b, dim=-1)).sum(-1, keepdim=True)
    omega = cos.clamp(-1 + 1e-7, 1 - 1e-7).acos()  # (B, 1, 1)
    t = t[None, :, None]  # (1, T, 1)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


@torch.no_grad()
def interpolation_latents(model: AdversarialModule, rows: int, steps: int, generator: torch.Generator) -> Tensor:
    """(rows * steps, d) latents: each row walks from one z to another (slerp for Gaussian z,
    a straight line for uniform z, which must stay inside its cube)."""
    z0, z1 = model.sample_latent(rows, generator=generator), model.sample_latent(rows, generator=generator)
    t = torch.linspace(0, 1, steps, device=z0.device)
    if model.hparams.latent_distribution == "normal":
        path = slerp(z0, z1, t)
    else:
        path = z0[:, None] + t[None, :, None] * (z1 - z0)[:, None]
    return path.reshape(rows * steps, -1)


@torch.no_grad()
def generate(model: AdversarialModule, z: Tensor, batch_size: int = 500) -> Tensor:
    """G(z) in batches, in eval mode (BatchNorm running statistics)."""
    return torch.cat([model.generator(part) for part in z.split(batch_size)])


@torch.no_grad()
def sample_arrays(model: AdversarialModule, n: int, generator: torch.Generator,
                  batch_size: int = 500) -> dict[str, Tensor]:
    """n samples with what made them, reproducible with a seeded CPU ``generator``: ``images`` (N, C, H, W) in
    [-1, 1], the noise ``z`` (N, latent_dim) and, for a conditional model, its `condition_arrays` (cGAN, AC-GAN:
    ``labels`` (N,); InfoGAN: ``codes_categorical`` (N, J), ``codes_continuous`` (N, C)), one row per image."""
    if model.batch_kind != "images":
        raise NotImplementedError(f"{type(model).__name__} translates images and draws no z: export the translations "
                                  "of its test split with lit_gans.translation.translate_batches (sample.py out=x.npz).")
    if model.condition_kind is None:  # G(z): one draw of z, as sample grids and earlier exports did
        z = model.sample_latent(n, generator=generator)
        return {"images": generate(model, z, batch_size), "z": z}
    parts = []
    for size in (len(part) for part in torch.arange(n).split(batch_size)):
        fake = model.sample_fake(size, generator=generator)  # Labeled(images, conditions, z)
        noise = {"z": fake.z} if fake.z is not None else {}
        parts.append({"images": fake.images} | noise | model.condition_arrays(fake))
    return {key: torch.cat([part[key] for part in parts]) for key in parts[0]}


def to_uint8_nhwc(images: Tensor) -> Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, H, W, C) uint8, the layout other tools (torch-fidelity, numpy) expect."""
    return to_uint8(images).permute(0, 2, 3, 1).contiguous()


def grid_rows(n: int) -> int:
    return max(1, int(math.sqrt(n)))
