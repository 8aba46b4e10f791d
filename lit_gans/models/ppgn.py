"""PPGN-h's learned prior (Nguyen et al. 2017, Section 3.3): a denoising autoencoder R trained on the codes h of a
frozen, already trained generator G, for the PPGN sampler (`lit_gans.ppgn`).

What is "h" here: the code G reads. In the paper h is fc6, the input of their G (x = G(h)), and the sampler walks
in it; for every unconditional generator of this collection the input is z, so h = z, of G's own prior p(z)
(100-d U[-1, 1] for DCGAN, N(0, I) for others). The DAE is trained as in the paper, on h + N(0, σ²) to reconstruct
h, so that R(h) − h ≈ σ² ∂log p(h)/∂h (Alain & Bengio 2014). Since the codes that make G's images are exactly those
of p(z), R learns G's latent prior; for N(0, I) the optimal R is h/(1 + σ²) with a mean squared error per coordinate
of σ²/(1 + σ²), which validation logs beside R's error (``val/dae_loss_optimal``). (The joint model, `PPGNJoint`,
takes the paper's other route: h the features of an image classifier, G trained to invert them.)

The generator comes from a checkpoint of any unconditional image model (``model.generator_ckpt``), read with the
allow-listed loader (`lit_gans.sampling.load_model`); its architecture, weights and latent prior replace the
config's, are saved in this model's checkpoints (a PPGN checkpoint stands alone) and stay frozen.
"""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor

from lit_gans.models.base import AdversarialModule, Logs
from lit_gans.models.steps import BatchState, Step

GAUSSIAN_BOX = 3.0  # N(0, I) codes are clipped to [-3, 3] (99.7 % of each coordinate) by the sampler


def load_unconditional_generator(ckpt_path: str) -> AdversarialModule:
    """The module of a checkpoint whose G draws images from z alone, or a clear error naming why not."""
    from lit_gans.sampling import load_model  # lazily: lit_gans.sampling imports lit_gans.models

    source = load_model(ckpt_path)
    name = type(source).__name__
    if source.batch_kind != "images":
        raise ValueError(f"model.generator_ckpt={ckpt_path} holds a {name}, which translates images; PPGN needs an "
                         "unconditional generator x = G(z) (e.g. a model=dcgan or model=wgan_gp run).")
    if source.condition_kind is not None or hasattr(source, "sample_grid"):
        raise ValueError(f"model.generator_ckpt={ckpt_path} holds a {name}, whose G also reads "
                         f"{source.condition_kind or 'conditions'}; PPGN steers an unconditional G with the classifier "
                         "instead: train one (e.g. model=dcgan) and point model.generator_ckpt at it.")
    return source


class PPGNDAE(AdversarialModule):
    """Args (besides the skeleton's ``generator``, replaced by the checkpoint's when ``generator_ckpt`` is set):
        dae: Hydra config of the DAE network (codes -> codes), built with ``dim`` = latent_dim
            (`lit_gans.networks.CodeDAE`).
        generator_ckpt: a checkpoint of an unconditional model (DCGAN, GAN, WGAN(-GP), ...): G, latent_dim and
            latent_distribution come from it. None: the config's G with untrained weights (a warning says so; the DAE
            of h = z does not depend on G's weights, but samples do).
        noise_std: σ of the Gaussian corruption h + N(0, σ²) the DAE learns to remove.
        optimizer_r, scheduler_r: the DAE's optimizer (and optional LR scheduler).
        generator_from_checkpoint: set by the model itself once G came from ``generator_ckpt`` (its checkpoints then
            hold G; rebuilding one reads no other file).
        discriminator, loss: None (nothing adversarial is trained here).
    """

    adversarial_optional = True
    players = {"r": ("dae",)}
    steps = (Step("r", "dae_step"),)
    packing_unsupported = "the PPGN DAE has no discriminator."

    def __init__(self, generator: Mapping[str, Any], dae: Mapping[str, Any], *args: Any,
                 generator_ckpt: str | None = None, noise_std: float = 0.1,
                 optimizer_r: Mapping[str, Any] | None = None, scheduler_r: Mapping[str, Any] | None = None,
                 latent_dim: int = 100, latent_distribution: str = "uniform", generator_from_checkpoint: bool = False,
                 **kwargs: Any) -> None:
        if noise_std <= 0:
            raise ValueError(f"model.noise_std (σ of the DAE's corruption) must be > 0, got {noise_std}.")
        state = None
        if generator_ckpt is not None:  # G, its latent size and prior from the trained model (saved in our hparams)
            source = load_unconditional_generator(generator_ckpt)
            generator = source.hparams.generator
            latent_dim, latent_distribution = source.hparams.latent_dim, source.hparams.latent_distribution
            state = source.generator.state_dict()
        super().__init__(generator, *args, latent_dim=latent_dim, latent_distribution=latent_distribution, **kwargs)
        if self.discriminator is not None or self.objective is not None:
            raise ValueError("The PPGN DAE trains no discriminator: set model.discriminator=null and model.loss=null.")
        for key in ("instance_noise", "feature_matching", "historical_averaging"):
            if self.hparams.get(key):
                raise ValueError(f"The PPGN DAE trains no GAN: set model.{key}=null.")
        if self.hparams.pack != 1 or self.hparams.n_critic != 1:
            raise ValueError("The PPGN DAE takes one step per batch: set model.pack=1 and model.n_critic=1.")
        if state is not None:
            self.generator.load_state_dict(state)
            # G is in this model's checkpoints from now on: reloading one needs no other file
            self.hparams.generator_ckpt, self.hparams.generator_from_checkpoint = None, True
        elif not generator_from_checkpoint:
            rank_zero_warn("model.generator_ckpt is not set: G is untrained. The DAE of h = z learns G's latent prior "
                           "regardless, but PPGN samples need a trained G: model.generator_ckpt=<run>/checkpoints/last.ckpt.")
        self.generator.requires_grad_(False).eval()
        self.dae = instantiate({**self.hparams.dae, "dim": self.hparams.latent_dim})

    def train(self, mode: bool = True) -> "PPGNDAE":
        """G stays in eval mode (BatchNorm running statistics): it is frozen, only R trains."""
        super().train(mode)
        self.generator.eval()
        return self

    # ----- the PPGN interface (sample.py mode=ppgn, benchmarks) ------------------------------------------------
    def decode(self, h: Tensor) -> Tensor:
        """G(h): images (B, C, H, W) in [-1, 1]."""
        return self.generator(h)

    def denoise(self, h: Tensor) -> Tensor:
        """R(h), the DAE's reconstruction (the sampler's prior term is R(h) − h)."""
        return self.dae(h)

    def code_box(self) -> tuple[float, float]:
        """Where real codes live, for the sampler's clipping (the authors clip fc6 to [0, 30]): U[-1, 1] codes in
        [-1, 1], N(0, I) codes in [-3, 3]."""
        return (-1.0, 1.0) if self.hparams.latent_distribution == "uniform" else (-GAUSSIAN_BOX, GAUSSIAN_BOX)

    def start_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Where chains start: h ~ p(z) (the authors start from N(0, 1) codes)."""
        return self.sample_latent(n, generator=generator)

    # ----- training -----------------------------------------------------------------------------------------
    def dae_loss(self, h: Tensor, noise: Tensor | None = None) -> Tensor:
        """E‖R(h + σε) − h‖² per coordinate (mean squared error), ε ~ N(0, I) unless given."""
        noise = torch.randn_like(h) if noise is None else noise
        return F.mse_loss(self.dae(h + self.hparams.noise_std * noise), h)

    def dae_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """One DAE step on fresh codes h ~ p(z), as many as the real batch has images (the images are unused)."""
        loss = self.dae_loss(self.sample_latent(len(state.real)))
        return loss, {"train/dae_loss": loss}

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """``val/dae_loss`` on fresh codes; for N(0, I) codes also the optimal denoiser's σ²/(1 + σ²)."""
        n = len(self.real_samples(batch))
        if not n:
            return
        self.log("val/dae_loss", self.dae_loss(self.sample_latent(n)), sync_dist=True, batch_size=n)
        if self.hparams.latent_distribution == "normal":
            s2 = self.hparams.noise_std ** 2
            self.log("val/dae_loss_optimal", s2 / (1 + s2), batch_size=n)
