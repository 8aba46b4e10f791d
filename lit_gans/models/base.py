"""The one adversarial training skeleton every variant shares.

A variant overrides small hooks (``discriminator_loss``, ``generator_loss``,
``after_discriminator_step``) instead of copying ``training_step``; a variant with more networks or more
updates declares its ``players`` and ``steps`` (`lit_gans.models.steps`) and the same skeleton runs them.

Step accounting: one batch = one discriminator (critic) step on that real batch; every
``n_critic``-th batch (keyed on ``batch_idx``) also takes one generator step, so the critic
iterations consume distinct real batches as in WGAN's Algorithm 1. Lightning's
``trainer.global_step`` counts *optimizer* steps: n_critic + 1 per generator step, which is
what ``trainer.max_steps`` limits.
"""

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import lightning as L
import torch
from hydra.utils import get_class, instantiate
from lightning.pytorch.core.saving import load_hparams_from_tags_csv, load_hparams_from_yaml
from omegaconf import OmegaConf
from torch import Tensor, nn

from lit_gans.checkpoints import check_hyper_parameters, read_checkpoint
from lit_gans.losses import Objective, gradient_penalty, r1_penalty
from lit_gans.models.historical_averaging import HistoricalAverage, check_historical_averaging
from lit_gans.models.instance_noise import add_instance_noise, instance_noise_std
from lit_gans.models.packing import pack_samples, packed_discriminator_config
from lit_gans.models.rng import collect_rng_states, set_rng_states
from lit_gans.models.steps import PLAYER_NAMES, BatchState, Step, check_schedule
from lit_gans.networks import MinibatchDiscrimination, has_batch_norm
from lit_gans.schedules import INTERVALS

Logs = dict[str, Tensor]


class Labeled(NamedTuple):
    """Images with what they are conditioned on: class labels (cGAN, AC-GAN) or latent codes (InfoGAN);
    fakes also carry the noise z they were drawn from (exports write it; real batches have none)."""

    images: Tensor
    labels: Any
    z: Tensor | None = None


def images_of(samples: Any) -> Tensor:
    return samples.images if isinstance(samples, Labeled) else samples


def detached(samples: Any) -> Any:
    return samples._replace(images=samples.images.detach()) if isinstance(samples, Labeled) else samples.detach()


def to_channels_last(samples: Any) -> Any:
    """A real batch (images, or `Labeled` images) with its 4-D images in ``torch.channels_last`` memory format."""
    images = images_of(samples)
    if not isinstance(images, Tensor) or images.dim() != 4:
        return samples
    images = images.contiguous(memory_format=torch.channels_last)
    return samples._replace(images=images) if isinstance(samples, Labeled) else images


LATENT_DISTRIBUTIONS = ("normal", "uniform")
log = logging.getLogger(__name__)


def _plain(cfg: Any) -> Any:
    """OmegaConf containers -> resolved plain dicts/lists, so checkpoints load with
    ``weights_only=True`` and ``load_from_checkpoint`` can rebuild the module."""
    return OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else cfg  # dicts and lists


class AdversarialModule(L.LightningModule):
    """Generator vs discriminator with manual optimization.

    Args:
        generator, discriminator: Hydra configs (``_target_`` + kwargs) of the networks.
        loss: a ``conf/loss`` config, see :class:`lit_gans.losses.Objective`. A model with
            ``adversarial_optional = True`` (the VAE) may have no discriminator and no loss (None): then
            ``self.discriminator`` and ``self.objective`` are None and its steps must not use them.
        optimizer_g, optimizer_d: ``_partial_`` optimizer configs; each gets its own player's
            parameters (``players``; a variant with more players takes ``optimizer_<name>`` for each).
        latent_dim: size of z. ``latent_distribution``: "normal" N(0, I) or "uniform" U[-1, 1].
        n_critic: discriminator steps per generator step.
        scheduler_g, scheduler_d: optional ``_partial_`` LR scheduler configs, stepped after
            every step of their optimizer, or after every epoch when the config says ``interval: epoch``
            (`lit_gans.schedules`, e.g. CycleGAN's ``LinearDecay``).
        gradient_clip_val: clip each network's gradient norm (``gradient_clip_algorithm``) before
            its step; ``Trainer(gradient_clip_val=...)`` is not available with manual optimization.
        instance_noise: ``{sigma, anneal_steps, schedule}``: N(0, σ_t²) added to every sample D sees, real
            and fake, on both players' steps, σ_t annealed over ``anneal_steps`` optimizer steps ("linear",
            "exponential" or "constant"; `lit_gans.models.instance_noise`). None (default) disables it.
        feature_matching: the name of a discriminator layer (``dict(discriminator.named_modules())``, e.g.
            "net.5"): G then minimises ‖E f(x) − E f(G(z))‖² of that layer's output instead of its adversarial
            loss (Salimans et al. 2016, Section 3.1). Variants with a generator loss of their own refuse it.
        historical_averaging: ``{weight, players}``: each listed player ("d", "g"; default both) adds
            weight·‖θ − (1/t) Σ_{i≤t} θ[i]‖² to its loss (Salimans et al. 2016, Section 3.3); the averages are
            saved in checkpoints. None (default) disables it.
        pack: m of PacGAN (Lin et al. 2018): D scores packs of m consecutive samples concatenated on the channel
            axis, real and fake, in both players' steps and in validation (`lit_gans.models.packing`); its input
            layer is built with m·C channels. 1 (default) is the plain D. ``batch_size`` must be a multiple of m.
            With a gradient penalty, x̂ interpolates real and fake *packs* (one ε per pack) and the norm is that of
            ∇ over the whole packed input: the Lipschitz constraint of the packed critic, on X^m.
        nan_check_every_n_batches: raise a clear error when a loss is not finite (0 disables).
            Each check synchronises with the device; once the weights are NaN every later loss is
            too, so a sparse check still catches divergence within a few batches.
        reuse_fake: one G forward per batch serves both players' steps, as the common tutorial DCGAN loop does:
            on a batch whose G step is due, ``batch_start`` computes fake = G(z) once with G's graph; D learns from it
            detached, then G back-propagates through the same fake into D's *updated* weights. Batches without a G
            step (n_critic > 1) sample their D step's fake as before. False (default): each step draws its own z
            (the D step's fake was drawn before D moved). Only the plain two-player schedule supports it (the
            default ``steps`` and step methods): variants with their own steps, or whose algorithm needs fresh
            samples (`reuse_fake_unsupported`), refuse it, naming the fix. Changes the algorithm: a checkpoint
            resumes only with the same value.
        compile: ``torch.compile`` of G and D in place (``nn.Module.compile``: state_dict keys unchanged, so
            checkpoints load without it), at the start of fit: True, or the keyword arguments of ``torch.compile``
            (e.g. ``{mode: max-autotune-no-cudagraphs, dynamic: false}``, ``{backend: aot_eager}``). With a gradient
            penalty or R1 (a double backward through D) only G is compiled. None/False (default): eager.
        channels_last: G and D (their 4-D weights) and the real image batches in ``torch.channels_last`` memory format
            (faster convolutions on some CPUs and GPUs; the same maths).
        compile and channels_last change speed, not results: a checkpoint resumes with either value
        (``performance_options``).
    """

    # The update schedule (`lit_gans.models.steps`): each player's networks (attribute names; None ones are
    # skipped) in optimizer order, which is the order checkpoints store optimizer states in; then the steps of
    # one batch in order. Variants with more networks or updates (BiGAN, CycleGAN, ALAE) redeclare both.
    players: dict[str, tuple[str, ...]] = {"g": ("generator",), "d": ("discriminator",)}
    steps: tuple[Step, ...] = (Step("d", "discriminator_step", after="after_discriminator_step"),
                               Step("g", "generator_step", due="generator_step_due"))

    # True in models that may run without a discriminator / adversarial loss (VAE): discriminator=None, loss=None
    adversarial_optional = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_schedule(cls.players, cls.steps, cls.__name__)

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any] | None = None,
        loss: Mapping[str, Any] | None = None,
        optimizer_g: Mapping[str, Any] | None = None,
        optimizer_d: Mapping[str, Any] | None = None,
        latent_dim: int = 100,
        latent_distribution: str = "normal",
        n_critic: int = 1,
        scheduler_g: Mapping[str, Any] | None = None,
        scheduler_d: Mapping[str, Any] | None = None,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str = "norm",
        nan_check_every_n_batches: int = 10,
        instance_noise: Mapping[str, Any] | None = None,
        feature_matching: str | None = None,
        historical_averaging: Mapping[str, Any] | None = None,
        pack: int = 1,
        reuse_fake: bool = False,
        compile: bool | Mapping[str, Any] | None = None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        # collects subclass arguments too (e.g. WGAN's clip_value). logger=False: train() logs the whole resolved
        # config (the model's under "model"); Lightning would add these at the top level, `loss` as a string.
        self.save_hyperparameters(logger=False)
        for key, value in self.hparams.items():
            self.hparams[key] = _plain(value)
        generator, discriminator, loss = self.hparams.generator, self.hparams.discriminator, self.hparams.loss
        if latent_distribution not in LATENT_DISTRIBUTIONS:
            raise ValueError(f"latent_distribution must be one of {LATENT_DISTRIBUTIONS}, got {latent_distribution!r}.")
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}.")
        if instance_noise:
            unknown = set(instance_noise) - {"sigma", "anneal_steps", "schedule"}
            if unknown or instance_noise.get("sigma", 0) < 0 or instance_noise.get("anneal_steps", 1) < 1:
                raise ValueError(f"instance_noise takes {{sigma >= 0, anneal_steps >= 1, schedule}}, got {dict(instance_noise)}.")
            instance_noise_std(0, instance_noise.get("sigma", 0.0), 1, instance_noise.get("schedule", "linear"))  # check the name
        check_historical_averaging(historical_averaging)
        if not isinstance(pack, int) or pack < 1:
            raise ValueError(f"model.pack (PacGAN's m) must be an integer >= 1, got {pack!r}.")
        if pack > 1 and self.packing_unsupported:
            raise ValueError(f"{type(self).__name__} does not support PacGAN packing (model.pack={pack}): "
                             f"{self.packing_unsupported} Set model.pack=1.")
        if reuse_fake:
            self.check_reuse_fake_support()
        if not (compile is None or isinstance(compile, (bool, Mapping))):
            raise ValueError(f"model.compile takes true/false/null or torch.compile's keyword arguments "
                             f"(e.g. {{mode: default, dynamic: false}}), got {compile!r}.")
        self._history = {which: HistoricalAverage() for which in self._averaged_players()}
        self.automatic_optimization = False
        self.generator = self.build_generator(generator)
        if (discriminator is None or loss is None) and not self.adversarial_optional:
            raise ValueError(f"{type(self).__name__} is adversarial: it needs model.discriminator and model.loss configs.")
        # models without a discriminator (the VAE) have neither D nor an adversarial objective
        self.discriminator = self.build_discriminator(discriminator) if discriminator is not None else None
        self.objective = Objective.from_config(loss) if loss is not None else None
        if self.discriminator is None or self.objective is None:
            return
        if feature_matching:
            if not self.supports_feature_matching:
                raise ValueError(f"{type(self).__name__} has a generator loss of its own; feature matching replaces the "
                                 "plain adversarial one (GAN, DCGAN, LSGAN, WGAN(-GP), f-GAN, Unrolled GAN). Set model.feature_matching=null.")
            layers = dict(self.discriminator.named_modules())
            if feature_matching not in layers:
                raise ValueError(f"model.feature_matching={feature_matching!r} is not a layer of the discriminator; "
                                 f"choose one of {[n for n in layers if n]}.")
        required = self.objective.requires
        if required and not isinstance(self, get_class(required["class"])):
            raise ValueError(
                f"loss={self.objective.name} is the objective of model={required['model']} ({required['class']}); "
                f"{type(self).__name__} cannot feed it. Use model={required['model']} or another loss."
            )
        if self.required_loss and self.objective.name != self.required_loss:
            raise ValueError(f"{type(self).__name__} needs loss={self.required_loss} (its losses read more than scalar "
                             f"scores), got loss={self.objective.name!r}.")
        if self.objective.gp_weight > 0 and has_batch_norm(self.discriminator):
            raise ValueError(
                "The gradient penalty is per sample, but BatchNorm in the critic mixes samples "
                "(Gulrajani et al. 2017, Section 4). Use a critic without BatchNorm, e.g. "
                "net/discriminator@model.discriminator=dcgan_layernorm (or dcgan_nonorm, mlp)."
            )
        if self.objective.gp_weight > 0 and any(isinstance(m, MinibatchDiscrimination) for m in self.discriminator.modules()):
            raise ValueError("The gradient penalty is per sample, but minibatch discrimination makes each score depend on "
                             "the whole batch; use a critic without it (model.discriminator.minibatch_kernels=0) or loss.gp_weight=0.")
        if self.objective.r1_gamma > 0:
            self.check_r1_support()

    # a reason, in the variants whose discriminator loss does not go through `adversarial_d_loss` on plain images
    # (their own losses, pairs, labels): they refuse loss.r1_gamma > 0 instead of ignoring it
    r1_unsupported: str | None = None

    def check_r1_support(self) -> None:
        """Refuse R1 (``loss.r1_gamma`` > 0) where it would be ignored or ill-defined, naming the fix."""
        if self.r1_unsupported:
            raise ValueError(f"{type(self).__name__} does not apply the R1 penalty (loss.r1_gamma="
                             f"{self.objective.r1_gamma}): {self.r1_unsupported} Set loss.r1_gamma=0.")
        for network in self.r1_networks():
            if has_batch_norm(network):
                raise ValueError("R1 penalises each real sample's ‖∇_x D(x)‖², but BatchNorm in the discriminator mixes "
                                 "samples. Use a discriminator without BatchNorm, e.g. "
                                 "net/discriminator@model.discriminator=dcgan_layernorm (or dcgan_nonorm, mlp), or loss.r1_gamma=0.")
            if any(isinstance(m, MinibatchDiscrimination) for m in network.modules()):
                raise ValueError("R1 penalises each real sample's ‖∇_x D(x)‖², but minibatch discrimination makes each score "
                                 "depend on the whole batch; use model.discriminator.minibatch_kernels=0 or loss.r1_gamma=0.")

    # a reason, in the variants that use the plain schedule but whose algorithm needs each step's own samples: they
    # refuse model.reuse_fake=true (variants with their own steps or step methods are refused without saying so here)
    reuse_fake_unsupported: str | None = None
    # hyper-parameters that change speed, not results: a checkpoint resumes whatever their value (training.check_resume)
    performance_options: tuple[str, ...] = ("compile", "channels_last")

    def check_reuse_fake_support(self) -> None:
        """Refuse ``reuse_fake=true`` where it would be ignored or change the algorithm, naming the fix."""
        reason = self.reuse_fake_unsupported
        if reason is None and tuple(self.steps) != AdversarialModule.steps:
            reason = "its update schedule (steps) is its own, not the plain D step then G step."
        if reason is None:
            own = [name for name in ("batch_start", "discriminator_step", "generator_step")
                   if getattr(type(self), name) is not getattr(AdversarialModule, name)]
            if own:
                reason = f"it defines its own {', '.join(own)}, which decide(s) what each step samples."
        if reason is not None:
            raise ValueError(f"{type(self).__name__} does not support model.reuse_fake=true (one G forward for the D and "
                             f"G steps): {reason} Set model.reuse_fake=false.")

    def r1_networks(self) -> tuple[nn.Module, ...]:
        """The networks between a real image and D's score (ALAE: its encoder and D), checked by `check_r1_support`."""
        return (self.discriminator,)

    # ----- sampling -------------------------------------------------------------------------
    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """z (n, latent_dim) from the configured prior; with a (CPU) ``generator``, reproducibly."""
        shape = (n, self.hparams.latent_dim)
        device = "cpu" if generator is not None else self.device  # a CPU Generator can't feed CUDA
        if self.hparams.latent_distribution == "uniform":
            z = torch.rand(shape, generator=generator, device=device) * 2 - 1
        else:
            z = torch.randn(shape, generator=generator, device=device)
        return z.to(self.device)

    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> Any:
        """A fake batch as the loss hooks take it: here G(z) for n fresh latents (reproducible
        with a CPU ``generator``); conditional variants return ``Labeled(G(z, c), c)``."""
        return self.generator(self.sample_latent(n, generator=generator))

    def sample_images(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Just the images of `sample_fake` (metrics and sample grids)."""
        return images_of(self.sample_fake(n, generator=generator))

    condition_kind: str | None = None  # what conditional variants' fakes carry: "label" (cGAN, AC-GAN), "code" (InfoGAN)

    def condition_arrays(self, samples: Any) -> dict[str, Tensor]:
        """What a fake batch of `sample_fake` was conditioned on, as named arrays with one row per image (exports
        write them beside the images): ``{"labels": (N,) int64}`` for class labels, ``{}`` for unconditional
        variants. A variant whose conditions are not one tensor of labels (InfoGAN's codes) names its own."""
        if not isinstance(samples, Labeled):
            return {}
        if isinstance(samples.labels, Tensor):
            return {"labels": samples.labels}
        raise NotImplementedError(f"{type(self).__name__} conditions its samples on a {type(samples.labels).__name__}: "
                                  "override condition_arrays to name its parts for exports (see InfoGAN's).")

    def forward(self, z: Tensor) -> Tensor:
        return self.generator(z)

    # ----- encoders (BiGAN, ALI, MRGAN, MDGAN, VAE, VAE-GAN, ALAE) ------------------------------
    has_encoder = False  # variants with an encoder E: x -> z say True and implement `encode`

    def encode(self, x: Tensor) -> Tensor:
        """E(x): the code of a batch of images (B, latent_dim); a stochastic encoder returns its mean. Used by
        ``encode.py``, reconstruction grids and the representation metrics."""
        raise NotImplementedError(f"{type(self).__name__} has no encoder; models with one: bigan, ali, mrgan, mdgan, "
                                  "vae, vaegan, alae.")

    def reconstruct(self, x: Tensor) -> Tensor:
        """G(E(x)) (images as the data: [-1, 1]); variants whose G reads more than z override it."""
        return self.generator(self.encode(x))

    # What a real batch carries: "images" (``(x, y)``: every unconditional and class-conditional model) or "paired"
    # (`lit_gans.data.Paired`: an input image A and its target B, image-to-image translation). Datamodules declare
    # the same attribute (absent: "images"); train() refuses a model and data of different kinds, naming the fix.
    batch_kind: str = "images"

    @staticmethod
    def real_samples(batch: Any) -> Any:
        """The real batch as the loss hooks take it. Datamodules yield ``(x, y)``; unconditional
        variants use x only, conditional ones return ``Labeled(x, y)``."""
        return batch[0] if isinstance(batch, (tuple, list)) else batch

    # ----- hooks a variant overrides -------------------------------------------------------
    def build_generator(self, cfg: Mapping[str, Any]) -> nn.Module:
        """G from its config; variants that feed G more than z (codes, labels) adapt it here.
        (The hyper-parameters keep the config as given, so a checkpoint rebuilds the same way.)"""
        return instantiate(cfg)

    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        """D from its config, its input widened to m·C channels when packing (``pack`` = m)."""
        return instantiate(packed_discriminator_config(cfg, self.hparams.get("pack", 1)))

    def player_parameters(self, player: str) -> Iterator[nn.Parameter]:
        """What ``optimizer_<player>`` updates: the parameters of the player's networks (``players``), each once. A
        name may be a dotted path to a submodule (ALAE: "generator.synthesis", G inside the z -> x generator F∘G)."""
        seen: set[int] = set()
        for name in self.players[player]:
            owner, _, leaf = name.rpartition(".")
            module = getattr(self.get_submodule(owner) if owner else self, leaf)
            for p in module.parameters() if module is not None else ():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def generator_parameters(self) -> Iterator[nn.Parameter]:
        """What ``optimizer_g`` updates; in a model without a "g" player (the VAE's "vae" player owns E and G),
        G's own parameters (the EMA callback finds their optimizer)."""
        return self.player_parameters("g") if "g" in self.players else iter(self.generator.parameters())

    def discriminator_parameters(self) -> Iterator[nn.Parameter]:
        """What ``optimizer_d`` updates (InfoGAN adds Q, AC-GAN its classifier); nothing without a "d" player."""
        return self.player_parameters("d") if "d" in self.players else iter(())

    def d_scores(self, samples: Any) -> Tensor:
        """D's scores of a real or fake batch as the hooks take it: (B,), or (B/m,) for PacGAN's packs of m."""
        return self.d_forward(self.packed(images_of(samples)))

    def d_forward(self, x: Tensor) -> Tensor:
        """D on its input as built (already packed): the one place D's forward is called, so that Unrolled GAN
        can substitute its parameters."""
        return self.discriminator(x)

    def packed(self, images: Tensor) -> Tensor:
        """(B, C, ...) -> (B/m, m·C, ...) for ``pack`` = m (PacGAN); unchanged for m = 1."""
        return pack_samples(images, self.hparams.get("pack", 1))

    # a reason, in the variants whose discriminator cannot take PacGAN's packs (refused at construction)
    packing_unsupported: str | None = None

    def discriminator_loss(self, real: Any, fake: Any) -> tuple[Tensor, Logs]:
        """Loss to minimise for D on a real and a (detached) fake batch, and values to log."""
        return self.adversarial_d_loss(real, fake, self.d_scores(real), self.d_scores(fake))

    supports_feature_matching = False  # variants whose generator loss is the plain adversarial one say True
    required_loss: str | None = None  # the conf/loss a variant's own losses need (Cramér, EBGAN, BEGAN)

    def generator_loss(self, real: Any, fake: Any) -> tuple[Tensor, Logs]:
        """Loss to minimise for G on a fake batch that carries G's graph."""
        if self.hparams.get("feature_matching"):
            return self.feature_matching_loss(real, fake)
        return self.adversarial_g_loss(self.d_scores(fake))

    def feature_matching_loss(self, real: Any, fake: Any) -> tuple[Tensor, Logs]:
        """‖E_x f(x) − E_z f(G(z))‖²₂ on the configured layer f of D (Salimans et al. 2016, Section 3.1)."""
        layer = self.discriminator.get_submodule(self.hparams.feature_matching)
        captured: list[Tensor] = []
        handle = layer.register_forward_hook(lambda module, args, output: captured.append(output.flatten(1)))
        try:
            with torch.no_grad():
                self.d_scores(real)
            self.d_scores(fake)
        finally:
            handle.remove()
        f_real, f_fake = captured
        loss = (f_real.mean(0) - f_fake.mean(0)).pow(2).sum()
        return loss, {"train/g_loss": loss, "train/feature_matching": loss}

    def adversarial_d_loss(self, real: Any, fake: Any, d_real: Tensor, d_fake: Tensor) -> tuple[Tensor, Logs]:
        """The configured objective on D's scores (B,) (+ the gradient penalty and R1 when on) and its logs;
        variants that add terms (InfoGAN, AC-GAN) compute the scores themselves and call this."""
        loss = self.objective.discriminator(d_real, d_fake)
        logs = {"train/d_loss": loss, "train/d_real": d_real.mean(), "train/d_fake": d_fake.mean()}
        if self.objective.logits:  # D(x) and D(G(z)) as probabilities
            logs["train/D(x)"], logs["train/D(G(z))"] = d_real.sigmoid().mean(), d_fake.sigmoid().mean()
        if self.objective.estimate is not None:  # e.g. the EM estimate of WGAN's Figure 3
            logs[f"train/{self.objective.estimate_name}"] = self.objective.estimate(d_real, d_fake)
        if self.objective.gp_weight > 0:
            scaler = self.grad_scaler()  # float16: scale the scores before autograd.grad (PyTorch's AMP recipe)
            # on packs (one ε per pack, ‖∇‖ over the packed input); d_forward: unrolled D too
            gp = gradient_penalty(self.d_forward, self.packed(images_of(real)), self.packed(images_of(fake)),
                                  one_sided=self.objective.gp_one_sided,
                                  grad_scale=scaler.scale(torch.ones((), device=self.device)) if scaler else 1.0)
            loss = loss + self.objective.gp_weight * gp
            logs["train/gradient_penalty"] = gp
        if self.objective.r1_gamma > 0:  # (γ/2) E‖∇_x D(x)‖² on the real batch (packs: ∇ over the packed input)
            scaler = self.grad_scaler()
            r1 = r1_penalty(self.d_forward, self.packed(images_of(real)),
                            grad_scale=scaler.scale(torch.ones((), device=self.device)) if scaler else 1.0)
            loss = loss + 0.5 * self.objective.r1_gamma * r1
            logs["train/r1_penalty"] = r1
        return loss, logs

    def adversarial_g_loss(self, d_fake: Tensor) -> tuple[Tensor, Logs]:
        loss = self.objective.generator(d_fake)
        return loss, {"train/g_loss": loss}

    def generator_step_due(self, batch_idx: int) -> bool:
        """Whether this batch's D step is followed by a G step: every ``n_critic``-th batch (called once per
        batch, after the D step; WGAN's warm-up schedule overrides it)."""
        return (batch_idx + 1) % self.hparams.n_critic == 0

    def after_discriminator_step(self) -> None:
        """Called after every D step (WGAN clips the critic's weights here)."""

    # ----- the two players' steps -------------------------------------------------------------
    def discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """D's loss on the real batch and a fake one: the batch's shared fake detached (``reuse_fake``), else a fresh
        one (G is toggled off, so its forward records no graph)."""
        noisy, real = self.with_instance_noise, state.real
        fake = state.cache.get("reused_fake")
        fake = fake if fake is not None else self.sample_fake(len(images_of(real)))
        return self.discriminator_loss(noisy(real), noisy(detached(fake)))

    def generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """G's loss on a fresh fake batch (new z: the D step's fake was drawn before D moved), or with ``reuse_fake``
        on the batch's shared fake, through D's updated weights."""
        noisy, real = self.with_instance_noise, state.real
        fake = state.cache.get("reused_fake")
        fake = fake if fake is not None else self.sample_fake(len(images_of(real)))
        return self.generator_loss(noisy(real), noisy(fake))

    # ----- the skeleton ---------------------------------------------------------------------
    def training_step(self, batch: Any, batch_idx: int) -> None:
        """Run ``steps`` in order on this batch: for each due step, toggle its player's optimizer, compute the
        loss, check it is finite, zero_grad / manual_backward / step (clipping, AMP, scheduler), run its
        ``after`` hook; then log every step's values once."""
        state = BatchState(self.real_samples(batch), batch_idx)
        if self.hparams.get("channels_last"):
            state.real = to_channels_last(state.real)
        self.batch_start(state)
        optimizers = self.player_optimizers()
        check = self.hparams.nan_check_every_n_batches
        check = check > 0 and batch_idx % check == 0
        logs: Logs = {}
        for step in self.steps:
            if step.due is not None and not self.step_is_due(state, step.due):
                continue
            optimizer = optimizers[step.player]
            with self.toggled_optimizer(optimizer):  # the other players frozen: no graph through their weights
                loss, step_logs = getattr(self, step.loss)(state, *step.args)
                self._check_finite(check, PLAYER_NAMES.get(step.player, step.player), loss)
                self._step(optimizer, loss, step.player)
                if step.after is not None:
                    getattr(self, step.after)()
            logs.update(step_logs)
        if self.hparams.get("instance_noise"):
            logs["train/instance_noise_std"] = torch.tensor(self.current_instance_noise_std())
        self._log(logs)

    def batch_start(self, state: BatchState) -> None:
        """Called once per training batch before its steps, with no player toggled off, so every network's forward
        records its graph: a variant whose steps share one forward pass (pix2pix: G(x) once, D learns from it
        detached, then G from the same output, as the authors' code) computes it here into ``state.cache``.
        Here: with ``reuse_fake``, G(z) of the batch whose G step is due (``state.cache["reused_fake"]``)."""
        if self.hparams.get("reuse_fake") and self.step_is_due(state, "generator_step_due"):
            state.cache["reused_fake"] = self.sample_fake(len(images_of(state.real)))

    def step_is_due(self, state: BatchState, due: str) -> bool:
        """The answer of the ``due`` method (a `Step.due` name) for this batch, asked once per batch and remembered in
        ``state.due``: a stateful schedule (WGAN's warm-up counts critic steps) must see each batch once, even when
        ``batch_start`` asks before the steps run (``reuse_fake``) or several steps name the same method."""
        if due not in state.due:
            state.due[due] = bool(getattr(self, due)(state.batch_idx))
        return state.due[due]

    def player_optimizers(self) -> dict[str, Any]:
        """The trainer's (Lightning-wrapped) optimizer of each player, by name."""
        optimizers = self.optimizers()
        optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
        return dict(zip(self.players, optimizers, strict=True))

    def current_instance_noise_std(self) -> float:
        """σ_t of the instance noise at the current optimizer step (0 when off)."""
        cfg = self.hparams.get("instance_noise")
        if not cfg:
            return 0.0
        return instance_noise_std(self.global_step, cfg.get("sigma", 0.0), cfg.get("anneal_steps", 1),
                                  cfg.get("schedule", "linear"))

    def with_instance_noise(self, samples: Any) -> Any:
        """What D sees in training: ``samples`` plus the current instance noise (validation sees clean data)."""
        return add_instance_noise(samples, self.current_instance_noise_std())

    def on_fit_start(self) -> None:
        """Fail before the first step when the batch cannot be cut into PacGAN's packs; apply the speed options
        (``channels_last``, ``compile``) to the networks in place."""
        self.apply_performance_options()
        m = self.hparams.get("pack", 1)
        batch_size = getattr(getattr(self.trainer, "datamodule", None), "batch_size", None)
        if m > 1 and isinstance(batch_size, int) and batch_size % m:
            raise ValueError(f"model.pack={m} packs D's input in groups of {m} samples, but batch_size={batch_size}: "
                             f"set batch_size to a multiple of {m}, e.g. batch_size={batch_size // m * m or m}.")

    def apply_performance_options(self) -> None:
        """``channels_last``: G's and D's 4-D weights in channels-last memory format (the parameters stay the same
        objects, so the optimizers keep them). ``compile``: ``nn.Module.compile`` of G and D in place (state_dict keys
        unchanged); only G with a gradient penalty or R1, whose double backward runs through D."""
        networks = {"generator": self.generator, "discriminator": self.discriminator}
        if self.hparams.get("channels_last"):
            for network in networks.values():
                if network is not None:
                    network.to(memory_format=torch.channels_last)
        options = self.hparams.get("compile")
        if not options:
            return
        options = {} if options is True else dict(options)
        if self.double_backward_through_discriminator():
            log.info("model.compile: compiling the generator only; the discriminator stays eager because this run "
                     "back-propagates twice through it (gradient penalty, R1 or unrolled second-order terms).")
            networks.pop("discriminator")
        for network in networks.values():
            if network is not None and not getattr(network, "_compiled_call_impl", None):
                network.compile(**options)

    def double_backward_through_discriminator(self) -> bool:
        """Whether training differentiates D's gradients (the gradient penalty, R1): ``compile`` then leaves D eager."""
        return self.objective is not None and (self.objective.gp_weight > 0 or self.objective.r1_gamma > 0)

    def on_train_start(self) -> None:
        """Give every DDP rank its own random stream. All ranks start from one RNG state (the same seed in
        every process; ``ddp_spawn`` copies the main process's state), so each would draw the same z: the fake
        half of the global minibatch would be one batch repeated on every device. Each rank reseeds from one
        shared draw plus its rank, so runs stay reproducible (also after a resume, which restores one saved
        state on every rank). One process: nothing changes."""
        if self.trainer.world_size > 1:
            shared = int(torch.randint(0, 2**62, ()))  # the same number on every rank
            torch.manual_seed(shared + self.trainer.global_rank)  # CPU and every CUDA device

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """D's mean output on held-out real data, ``val/d_real``: next to ``train/d_real`` it shows
        the discriminator overfitting its training set. Generator metrics (FID, IS, modes) are
        computed at the end of the validation epoch by the `GeneratorMetrics` callback."""
        real = self.real_samples(batch)
        m = self.hparams.get("pack", 1)
        if m > 1:  # PacGAN: whole packs only (validation keeps its last, short batch); packing variants take tensors
            real = real[: len(real) // m * m]
        n = len(images_of(real))
        if n and self.discriminator is not None:  # a model without D (VAE) logs its own validation values
            self.log("val/d_real", self.d_scores(real).mean(), sync_dist=True, batch_size=n)

    def _log(self, logs: Logs) -> None:
        """Log every value; the two losses also go to the progress bar."""
        for key, value in logs.items():
            self.log(key, value.detach(), prog_bar=key in ("train/d_loss", "train/g_loss"))

    def _step(self, optimizer: Any, loss: Tensor, which: str) -> None:
        """(+ the historical-averaging term,) zero_grad, manual_backward, then `_apply_gradients`."""
        loss = loss + self.historical_averaging_term(which)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        self._apply_gradients(optimizer, which)

    def _averaged_players(self) -> tuple[str, ...]:
        cfg = self.hparams.get("historical_averaging")
        return tuple(cfg.get("players", ("d", "g"))) if cfg else ()

    def historical_averaging_term(self, which: str) -> Tensor | float:
        """weight·‖θ − (1/t) Σ_{i≤t} θ[i]‖² for player ``which`` ("d" or "g"), or 0 when it is not averaged.
        Records θ[t]: call once per step of that player."""
        if which not in self._history:
            return 0.0
        term = self._history[which].penalty(self.player_parameters(which))
        self.log(f"train/historical_averaging_{which}", term.detach())
        return self.hparams.historical_averaging.get("weight", 0.0) * term

    def _apply_gradients(self, optimizer: Any, which: str) -> None:
        """The optimizer's step (clipping happens inside it, `on_before_optimizer_step`), then its scheduler's."""
        optimizer.step()
        if which in self._scheduler_slots:
            schedulers = self.lr_schedulers()
            schedulers = schedulers if isinstance(schedulers, list) else [schedulers]
            schedulers[self._scheduler_slots[which]].step()

    def on_before_optimizer_step(self, optimizer: Any) -> None:
        """Optional clipping. Lightning calls this inside ``optimizer.step()``, after the float16 GradScaler has
        unscaled the gradients: clipping before the step would clip scaled gradients, i.e. at
        gradient_clip_val / scale (Lightning #18089)."""
        if self.hparams.gradient_clip_val:
            self.clip_gradients(
                optimizer,
                gradient_clip_val=self.hparams.gradient_clip_val,
                gradient_clip_algorithm=self.hparams.gradient_clip_algorithm,
            )

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """The loss scaler of ``trainer.precision=16-mixed`` (None otherwise, and outside a Trainer)."""
        scaler = getattr(self._trainer.precision_plugin, "scaler", None) if self._trainer is not None else None
        return scaler if scaler is not None and scaler.is_enabled() else None

    def _check_finite(self, enabled: bool, which: str, loss: Tensor) -> None:
        if enabled and not torch.isfinite(loss):
            scaler = self.grad_scaler()
            if scaler is not None and scaler.get_scale() >= 1.0:
                return  # a float16 overflow at this loss scale: the scaler skips the step and lowers the scale
            raise FloatingPointError(
                f"The {which} loss is {loss.item()} at global step {self.global_step} (epoch "
                f"{self.current_epoch}). Training diverged: lower the learning rates "
                "(model.optimizer_g.lr / model.optimizer_d.lr), enable clipping "
                "(model.gradient_clip_val=1.0), or check the data scaling ([-1, 1])."
            )

    def configure_optimizers(self) -> Any:
        """One optimizer per player (``optimizer_<name>`` on `player_parameters`), in ``players`` order: checkpoints
        restore optimizer states as a list zipped in this order. Schedulers: ``scheduler_<name>`` when set."""
        hp = self.hparams
        optimizers, schedulers = [], []
        self._scheduler_slots: dict[str, int] = {}  # stepped after every step of their optimizer
        self._epoch_scheduler_slots: dict[str, int] = {}  # ``interval: epoch``: after every training epoch
        for which in self.players:
            if self.player_config("optimizer", which) is None:
                raise ValueError(f"{type(self).__name__} has a player {which!r} but no model.optimizer_{which} config.")
            optimizer = instantiate(self.player_config("optimizer", which))(self.player_parameters(which))
            optimizers.append(optimizer)
            if self.player_config("scheduler", which):
                cfg = dict(self.player_config("scheduler", which))
                interval = cfg.pop("interval", "step")
                if interval not in INTERVALS:
                    raise ValueError(f"model.scheduler_{which}.interval must be one of {INTERVALS}, got {interval!r}.")
                slots = self._scheduler_slots if interval == "step" else self._epoch_scheduler_slots
                slots[which] = len(schedulers)
                schedulers.append(instantiate(cfg)(optimizer))
        return (optimizers, schedulers) if schedulers else optimizers

    def player_config(self, kind: str, player: str) -> Mapping[str, Any] | None:
        """The ``kind`` ("optimizer" or "scheduler") config of ``player``: the model argument ``<kind>_<player>``. A
        variant whose number of players is a hyper-parameter (LAPGAN: a G and a D per pyramid level) maps them to
        shared configs here."""
        return self.hparams.get(f"{kind}_{player}")

    def on_train_epoch_end(self) -> None:
        """Step the schedulers configured with ``interval: epoch`` (CycleGAN's linear decay) once per epoch. Lightning
        calls this before ModelCheckpoint saves at the end of the epoch, so a checkpoint holds the stepped state."""
        slots = getattr(self, "_epoch_scheduler_slots", {})
        if slots:
            schedulers = self.lr_schedulers()
            schedulers = schedulers if isinstance(schedulers, list) else [schedulers]
            for slot in slots.values():
                schedulers[slot].step()

    # ----- checkpoints -----------------------------------------------------------------------
    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: str | Path, map_location: Any = None, hparams_file: str | Path | None = None,
                             strict: bool | None = None, weights_only: bool | None = None, **kwargs: Any) -> Any:
        """Lightning's ``load_from_checkpoint``, after the file (and ``hparams_file``, which replaces its
        hyper-parameters) passed `lit_gans.checkpoints.check_checkpoint`: building the module calls every
        ``_target_`` they name, so a checkpoint naming code outside lit_gans' allow-list is refused first."""
        if not isinstance(checkpoint_path, (str, Path)):
            raise TypeError("load_from_checkpoint takes a local checkpoint path here (lit_gans checks the file first).")
        read_checkpoint(checkpoint_path)
        if hparams_file is not None:
            load = load_hparams_from_tags_csv if str(hparams_file).lower().endswith(".csv") else load_hparams_from_yaml
            check_hyper_parameters(load(hparams_file), source=f"hparams_file={hparams_file}")
        return super().load_from_checkpoint(checkpoint_path, map_location=map_location, hparams_file=hparams_file,
                                            strict=strict, weights_only=weights_only, **kwargs)

    # ----- exact resume ---------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["rng_states"] = collect_rng_states()
        if self._history:
            checkpoint["historical_averages"] = {which: h.state_dict() for which, h in self._history.items()}
        # which class to rebuild from ``hyper_parameters`` (sample.py / evaluate.py)
        checkpoint["lit_gans_class"] = f"{type(self).__module__}.{type(self).__qualname__}"

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Lightning restores weights, optimizers and counters, but not the RNGs that draw z and
        # shuffle the data; without them a resumed run diverges from an uninterrupted one.
        # Only when a Trainer resumes: ``load_from_checkpoint`` for sampling must not reseed.
        if "rng_states" in checkpoint and self._trainer is not None:
            set_rng_states(checkpoint["rng_states"])
        for which, state in checkpoint.get("historical_averages", {}).items():
            if which in self._history:
                self._history[which].load_state_dict(state)
