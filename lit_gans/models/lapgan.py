"""LAPGAN (Denton et al. 2015): a Laplacian pyramid of GANs, one generator/discriminator pair per level.

Level 0 is an ordinary GAN on the coarsest image I_0 of the real pyramid (`lit_gans.pyramid`). Each finer level
k is a conditional GAN on the band-pass residual h_k = I_k − l_k given the low-pass image l_k = u(I_{k-1}):
G_k(z_k, l_k) makes h̃_k and D_k(h, l_k) sees the pair, with the seed's objective (the paper's Section 3)

    min_G max_D  E_{h,l ~ p_data}[log D(h, l)] + E_{z, l}[log(1 − D(G(z, l), l))]

(``conf/loss``: the non-saturating G loss by default, as the authors' code, which trains G on BCE with target 1).
The levels are trained independently, each from the REAL pyramid (l_k is the upsampled real coarser image,
Section 3): in every batch each level takes its D step then its G step on its own part of the same real
pyramid; no level's loss reads another level's networks. Sampling chains them from the coarsest:
x_0 = G_0(z_0), x_k = u(x_{k-1}) + G_k(z_k, u(x_{k-1})) (`lit_gans.networks.lapgan.LaplacianPyramidGenerator`).

Why one module with a player per level rather than one Hydra run per level: one checkpoint holds the whole chain,
so sample.py, the metrics callbacks (FID/KID/class histogram on the chained samples), EMA, resume and DDP work as
for every model; the players ``g0, d0, g1, d1, ...`` keep one optimizer each, so the levels stay independent.

CC-LAPGAN (``class_conditional: true``, Section 4): the class goes to every level's G and D (level 0: a one-hot
beside z and beside the flattened image; finer levels: a class plane, `lit_gans.networks.lapgan.ClassPlane`).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.models.base import AdversarialModule, Labeled, Logs, images_of
from lit_gans.models.steps import BatchState, Step
from lit_gans.networks.lapgan import LaplacianPyramidGenerator, OneHotConditioned
from lit_gans.pyramid import check_sizes, gaussian_pyramid, laplacian_pyramid


def level_steps(levels: int) -> tuple[Step, ...]:
    """Per level, D_k's step then G_k's (every n_critic-th batch), the finest level first: the levels are independent,
    and ending with G_0 lets the generator EMA (hooked on the optimizer of G's first parameters, G_0's) average a
    chain whose every level has taken this batch's step."""
    return tuple(step for k in reversed(range(levels)) for step in (
        Step(f"d{k}", "level_discriminator_step", args=(k,)),
        Step(f"g{k}", "level_generator_step", due="generator_step_due", args=(k,))))


def level_players(levels: int) -> dict[str, tuple[str, ...]]:
    """g0/d0: the coarsest GAN; gk/dk (k >= 1): the k-th conditional pair. Optimizer order: g0, d0, g1, d1, ..."""
    players = {"g0": ("generator.coarse",), "d0": ("discriminator",)}
    for k in range(1, levels):
        players |= {f"g{k}": (f"generator.levels.{k - 1}",), f"d{k}": (f"level_discriminators.{k - 1}",)}
    return players


class LAPGAN(AdversarialModule):
    """A Laplacian pyramid of GANs.

    Args:
        generator, discriminator: configs of the coarsest level's G_0 (z_0 -> (C, s_0, s_0)) and D_0.
        level_generator, level_discriminator: configs of the finer levels' G_k and D_k
            (`LaplacianLevelGenerator`, `LaplacianLevelDiscriminator`); the model fills in each level's ``size``
            and ``num_classes``.
        sizes: the pyramid's sides from the coarsest, the last the image size (MNIST: [7, 14, 28]).
        latent_dim: the size of z_0. The model's z is z_0 followed by one noise plane per finer level (all from
            ``latent_distribution``; the paper: uniform on [-1, 1]), so ``sample_latent`` draws
            latent_dim + Σ_k s_k² numbers.
        class_conditional, num_classes: CC-LAPGAN.
        optimizer_g, optimizer_d (and scheduler_g, scheduler_d): shared by every level's G and D; each level has
            its own optimizer (and scheduler) built from them.
    """

    players = level_players(3)  # the class's default (3 levels); each instance declares its own from ``sizes``
    steps = level_steps(3)
    r1_unsupported = "its discriminators score (residual, low-pass image) pairs level by level; no penalty is implemented for them."
    packing_unsupported = "PacGAN packs samples for one image discriminator; LAPGAN has a conditional D per pyramid level."

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 level_generator: Mapping[str, Any] | None = None, level_discriminator: Mapping[str, Any] | None = None,
                 sizes: Sequence[int] = (7, 14, 28), class_conditional: bool = False, num_classes: int = 10,
                 latent_dim: int = 100, latent_distribution: str = "uniform", **kwargs: Any) -> None:
        check_sizes(list(sizes))
        if level_generator is None or level_discriminator is None:
            raise ValueError("LAPGAN needs model.level_generator and model.level_discriminator configs (conf/model/lapgan.yaml).")
        if class_conditional and num_classes < 2:
            raise ValueError(f"model.class_conditional=true needs model.num_classes >= 2, got {num_classes}.")
        super().__init__(generator, discriminator, *args, latent_dim=latent_dim,
                         latent_distribution=latent_distribution, **kwargs)
        hp = self.hparams
        for option in ("instance_noise", "historical_averaging"):
            if hp.get(option):
                raise ValueError(f"LAPGAN does not apply model.{option} (its steps score residual pairs per level); set it to null.")
        if self.objective.gp_weight > 0:
            raise ValueError("LAPGAN's discriminators score (h, l) pairs; the gradient penalty is not implemented for them. "
                             "Use a GAN loss (loss=non_saturating or minimax).")
        self.level_discriminators = nn.ModuleList(
            instantiate({**hp.level_discriminator, "size": s, "num_classes": self.num_conditions}) for s in hp.sizes[1:])
        # a player per level (the class declares the 3-level default; ALAE too sets its players per instance)
        self.players, self.steps = level_players(len(hp.sizes)), level_steps(len(hp.sizes))
        if class_conditional:
            self.condition_kind = "label"

    # ----- networks ----------------------------------------------------------------------------
    @property
    def num_conditions(self) -> int:
        """Classes each level is conditioned on (0: unconditional LAPGAN)."""
        return self.hparams.num_classes if self.hparams.class_conditional else 0

    def build_generator(self, cfg: Mapping[str, Any]) -> nn.Module:
        hp, k = self.hparams, self.num_conditions
        coarse = OneHotConditioned(instantiate({**cfg, "latent_dim": hp.latent_dim + k}), k)
        levels = [instantiate({**hp.level_generator, "size": s, "num_classes": k}) for s in hp.sizes[1:]]
        return LaplacianPyramidGenerator(coarse, levels, hp.sizes, hp.latent_dim)

    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        k = self.num_conditions
        if k:  # the coarsest D is an MLP on [flatten(I_0), one_hot(y)]
            shape = cfg.get("in_shape")
            if shape is None:
                raise ValueError("CC-LAPGAN's coarsest discriminator must be an MLP with in_shape (it reads the one-hot class beside the image).")
            cfg = {**cfg, "in_shape": [int(torch.tensor(shape).prod()) + k]}
        return OneHotConditioned(instantiate(cfg), k)

    def player_config(self, kind: str, player: str) -> Mapping[str, Any] | None:
        """Every level's G takes ``<kind>_g`` and every D ``<kind>_d`` (the paper trains all levels alike)."""
        return self.hparams.get(f"{kind}_{player[0]}")

    # ----- sampling ----------------------------------------------------------------------------
    def _noise(self, shape: tuple[int, ...], generator: torch.Generator | None = None) -> Tensor:
        device = "cpu" if generator is not None else self.device  # a CPU Generator can't feed CUDA
        if self.hparams.latent_distribution == "uniform":
            return (torch.rand(shape, generator=generator, device=device) * 2 - 1).to(self.device)
        return torch.randn(shape, generator=generator, device=device).to(self.device)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """z (n, latent_dim + Σ_k s_k²): z_0 and every finer level's noise plane, one vector per sample."""
        return self._noise((n, self.generator.latent_dim), generator)

    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> Tensor | None:
        if not self.num_conditions:
            return None
        return torch.randint(self.num_conditions, (n,), generator=generator).to(self.device)

    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> Any:
        """The chained samples x_K (metrics, grids); CC-LAPGAN: ``Labeled(x_K, labels, z)``."""
        z = self.sample_latent(n, generator=generator)
        labels = self.sample_labels(n, generator=generator)
        images = self.generator(z, labels)
        return images if labels is None else Labeled(images, labels, z)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.num_conditions and labels is None:
            labels = self.sample_labels(len(z))
        return self.generator(z, labels)

    def sample_for_class(self, n: int, k: int, generator: torch.Generator | None = None) -> Tensor:
        """CC-LAPGAN: n samples of class k (``val/class_accuracy``)."""
        if not self.num_conditions:
            raise ValueError("sample_for_class needs model.class_conditional=true.")
        z = self.sample_latent(n, generator=generator)
        return self.generator(z, torch.full((n,), k, dtype=torch.long, device=self.device))

    @property
    def sample_grid(self) -> Any:
        """CC-LAPGAN's class-row grid (``sample_grid(seed, columns)``); absent from an unconditional LAPGAN, so
        sample grids and sample.py treat it like any unconditional generator."""
        if not self.num_conditions:
            raise AttributeError("an unconditional LAPGAN has no class-row grid")
        return self._class_rows

    @torch.no_grad()
    def _class_rows(self, seed: int = 0, columns: int = 10) -> tuple[Tensor, int]:
        k = self.num_conditions
        z = self.sample_latent(columns, generator=torch.Generator().manual_seed(seed)).repeat(k, 1)
        return self.generator(z, torch.arange(k, device=self.device).repeat_interleave(columns)), columns

    @torch.no_grad()
    def pyramid_rows(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, int]:
        """The chain of n samples as rows (sample.py mode=pyramid), each upsampled (nearest) to the image size:
        x_0, then for every finer level its residual h̃_k (scaled by 1/max|h̃_k| of the row, 0 is mid-grey)
        and its image x_k; the last row is the final sample. Returns (rows·n images, n per row)."""
        z, labels = self.sample_latent(n, generator=generator), self.sample_labels(n, generator=generator)
        images, residuals = self.generator.pyramid(z, labels)
        size = self.hparams.sizes[-1]
        rows = [images[0]]
        for h, x in zip(residuals, images[1:]):
            rows += [h / h.abs().max().clamp_min(1e-8), x]
        return torch.cat([F.interpolate(r, size=(size, size), mode="nearest") for r in rows]), n

    # ----- training ----------------------------------------------------------------------------
    def real_samples(self, batch: Any) -> Any:
        if not self.num_conditions:
            return batch[0] if isinstance(batch, (tuple, list)) else batch
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError("CC-LAPGAN (model.class_conditional=true) needs (images, labels) batches.")
        return Labeled(batch[0], batch[1])

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        served = getattr(datamodule, "num_classes", None)
        if self.num_conditions and served is not None and served != self.num_conditions:
            raise ValueError(f"model.num_classes={self.num_conditions} but the data has {served} classes; set model.num_classes={served}.")
        shape = getattr(datamodule, "shape", None)
        if shape is not None and tuple(shape[-2:]) != (self.hparams.sizes[-1],) * 2:
            raise ValueError(f"model.sizes={list(self.hparams.sizes)} ends at {self.hparams.sizes[-1]} px but the data serves "
                             f"{tuple(shape[-2:])} images: make the last size the image size, e.g. model.sizes=[8,16,32] for 32 px.")

    def real_pyramid(self, real: Any) -> tuple[Tensor, list[Tensor], list[Tensor], Tensor | None]:
        """(I_0, [h_k], [l_k], labels) of a real batch (no graph: nothing learns the pyramid)."""
        with torch.no_grad():
            coarsest, residuals, lows = laplacian_pyramid(images_of(real), self.hparams.sizes)
        return coarsest, residuals, lows, real.labels if isinstance(real, Labeled) else None

    def batch_start(self, state: BatchState) -> None:
        """Decompose the real batch once; every level's steps read their part of it."""
        state.cache["pyramid"] = self.real_pyramid(state.real)

    def level_scores(self, k: int, x: Tensor, low: Tensor | None, labels: Tensor | None) -> Tensor:
        """D_0(I_0[, y]) for k = 0, else D_k(h, l_k[, y]): logits (B,)."""
        return self.discriminator(x, labels) if k == 0 else self.level_discriminators[k - 1](x, low, labels)

    def level_fake(self, k: int, n: int, low: Tensor | None, labels: Tensor | None,
                   generator: torch.Generator | None = None) -> Tensor:
        """n fakes of level k with fresh noise: G_0(z_0[, y]) for k = 0, else G_k(z_k, l_k[, y]) on the real l_k
        (``generator``: a seeded CPU generator draws the noise, as `sample_latent`)."""
        if k == 0:
            return self.generator.coarse(self._noise((n, self.hparams.latent_dim), generator), labels)
        size = self.hparams.sizes[k]
        return self.generator.levels[k - 1](self._noise((n, size * size), generator), low, labels)

    @staticmethod
    def _level_inputs(state: BatchState, k: int) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Level k's part of the real pyramid: (I_0, None, y) for k = 0, else (h_k, l_k, y)."""
        coarsest, residuals, lows, labels = state.cache["pyramid"]
        return (coarsest, None, labels) if k == 0 else (residuals[k - 1], lows[k - 1], labels)

    def level_discriminator_step(self, state: BatchState, k: int) -> tuple[Tensor, Logs]:
        """D_k: the objective's D loss on real (h_k, l_k) against fake (G_k(z, l_k), l_k); level 0 on I_0 vs G_0(z)."""
        real, low, labels = self._level_inputs(state, k)
        fake = self.level_fake(k, len(real), low, labels).detach()
        d_real, d_fake = self.level_scores(k, real, low, labels), self.level_scores(k, fake, low, labels)
        loss = self.objective.discriminator(d_real, d_fake)
        logs = {f"train/d{k}_loss": loss, f"train/d{k}_real": d_real.mean(), f"train/d{k}_fake": d_fake.mean()}
        if self.objective.logits:
            logs[f"train/D{k}(x)"], logs[f"train/D{k}(G(z))"] = d_real.sigmoid().mean(), d_fake.sigmoid().mean()
        return loss, logs | self._total(state, "d_loss", loss)

    def level_generator_step(self, state: BatchState, k: int) -> tuple[Tensor, Logs]:
        """G_k: the objective's G loss on D_k(G_k(z, l_k), l_k), fresh noise (D_k has just moved)."""
        real, low, labels = self._level_inputs(state, k)
        loss = self.objective.generator(self.level_scores(k, self.level_fake(k, len(real), low, labels), low, labels))
        return loss, {f"train/g{k}_loss": loss} | self._total(state, "g_loss", loss)

    @staticmethod
    def _total(state: BatchState, key: str, loss: Tensor) -> Logs:
        """train/d_loss and train/g_loss: the sum over the levels' losses of this batch (the progress bar's)."""
        state.cache[key] = state.cache.get(key, 0.0) + loss.detach()
        return {f"train/{key}": state.cache[key]}

    def d_scores(self, samples: Any) -> Tensor:
        """D_0's logits on the coarsest level of full-size images (B,)."""
        images = images_of(samples)
        coarsest = gaussian_pyramid(images, self.hparams.sizes)[0]
        return self.discriminator(coarsest, samples.labels if isinstance(samples, Labeled) else None)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Each level's D on the held-out real pyramid, ``val/d{k}_real`` (next to ``train/d{k}_real``: overfitting
        of that level's D); ``val/d_real`` is D_0's."""
        coarsest, residuals, lows, labels = self.real_pyramid(self.real_samples(batch))
        n = len(coarsest)
        if not n:
            return
        scores = [self.level_scores(0, coarsest, None, labels)]
        scores += [self.level_scores(k, h, low, labels) for k, (h, low) in enumerate(zip(residuals, lows), start=1)]
        for k, s in enumerate(scores):
            self.log(f"val/d{k}_real", s.mean(), sync_dist=True, batch_size=n)
        self.log("val/d_real", scores[0].mean(), sync_dist=True, batch_size=n)
