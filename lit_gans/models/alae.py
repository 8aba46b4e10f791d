"""ALAE, the Adversarial Latent Autoencoder (Pidhorskyi et al. 2020, CVPR), Algorithm 1 line by line.

Four networks: the mapping F: z -> w, the generator G: w -> x, the encoder E: x -> w and the discriminator
D: w -> score, so D∘E is the image discriminator and G∘F the image generator. Three steps per batch, each with
its own z and its own forward pass:

    Step I   (E, D):  softplus(D∘E∘G∘F(z)) + softplus(−D∘E(x)) + (γ/2) E_x‖∇_x (D∘E)(x)‖²      (lines 3-7)
    Step II  (F, G):  softplus(−D∘E∘G∘F(z))                                                    (lines 8-11)
    Step III (E, G):  ‖F(z) − E∘G∘F(z)‖²₂                                                      (lines 12-15)

Steps I and II are the skeleton's D and G steps on the configured objective (``loss=non_saturating_r1``: the
logistic loss above, R1 on real data with respect to the input, `lit_gans.losses.r1`), with ``d_forward`` = D∘E
and ``sample_fake`` = G∘F(z). Step III is this class's ``latent_step``.

Players and optimizers. E is updated in Steps I and III, G in Steps II and III: each step is a player with its own
optimizer, ``ed`` = (E, D), ``fg`` = (F, G), ``eg`` = (E, G). The skeleton's toggling freezes every parameter that
the stepped player does not own, so Step III moves exactly E and G: F(z) is computed with F frozen and serves as
the target, D is not in the graph. The authors' code differs in two ways (see conf/model/alae.yaml):
  * its Step III back-propagates ‖E(G(F(z))) − F(z).detach()‖² through G's input into F and steps its two
    optimizers (E+D's and F+G's), so F moves too: ``step3_updates_mapping=true`` puts F in the ``eg`` player;
  * it averages the squared error over w's coordinates (``torch.mean``) where Algorithm 1 writes the squared norm:
    ``latent_error_reduction=mean``.
Its Step III also shares the Adam moments of the adversarial steps (it steps the same two optimizers); here Step
III has its own Adam (``optimizer_eg``), as Algorithm 1's separate ADAM line reads; the checkpoint holds the three.

``trainer.global_step`` counts optimizer steps: three per batch. ``encode(x)`` = E(x) (w), ``reconstruct(x)`` =
G(E(x)) (no F: w is G's input), so encode.py, reconstruction grids and the encoder metrics work on w.
"""

from collections.abc import Mapping
from typing import Any

from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.models.base import AdversarialModule, Logs
from lit_gans.models.steps import BatchState, Step
from lit_gans.networks.alae import MappedGenerator

LATENT_ERROR_REDUCTIONS = ("sum", "mean")


def latent_error(w: Tensor, w_hat: Tensor, reduction: str = "sum") -> Tensor:
    """Step III's ‖F(z) − E∘G∘F(z)‖²₂ (Algorithm 1, line 14), averaged over the batch. ``w`` is the target (the
    caller detaches it); "sum" over w's coordinates is the algorithm's squared norm, "mean" the authors' code
    (``torch.mean((Z - s.detach())**2)``, 1/dim(w) of it)."""
    assert w.shape == w_hat.shape, f"w {tuple(w.shape)} vs E(G(w)) {tuple(w_hat.shape)}"
    squared = (w - w_hat).pow(2).flatten(1)  # (B, dim w)
    return squared.sum(1).mean() if reduction == "sum" else squared.mean()


class ALAE(AdversarialModule):
    """Args (besides the skeleton's ``generator`` = G: w -> x and ``discriminator`` = D: w -> score):
        mapping: F's network config (``latent_dim`` -> ``out_features`` = w_dim; the model sets both).
        encoder: E's network config x -> w (``out_features`` set to w_dim by the model).
        w_dim: size of w (None: ``latent_dim``, the paper's MNIST setting: 50 and 50).
        optimizer_ed, optimizer_fg, optimizer_eg (+ ``scheduler_*``): one per step's player.
        step3_updates_mapping: the authors' code: Step III's error also moves F (through G's input).
        latent_error_reduction: "sum" (Algorithm 1's squared norm) or "mean" (the authors' code).
    The generator, mapping and discriminator configs get their sizes from the model: G's ``latent_dim`` and D's
    ``in_shape`` are w's, so any MLP config of the collection (even a toy data config's swap) plugs in.
    """

    players = {"ed": ("encoder", "discriminator"), "fg": ("generator.mapping", "generator.synthesis"),
               "eg": ("encoder", "generator.synthesis")}
    steps = (Step("ed", "discriminator_step"), Step("fg", "generator_step"), Step("eg", "latent_step"))
    has_encoder = True
    packing_unsupported = "D scores codes w = E(x); PacGAN's packs of images have no single code."

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 mapping: Mapping[str, Any], encoder: Mapping[str, Any], w_dim: int | None = None,
                 optimizer_ed: Mapping[str, Any] | None = None, optimizer_fg: Mapping[str, Any] | None = None,
                 optimizer_eg: Mapping[str, Any] | None = None, scheduler_ed: Mapping[str, Any] | None = None,
                 scheduler_fg: Mapping[str, Any] | None = None, scheduler_eg: Mapping[str, Any] | None = None,
                 step3_updates_mapping: bool = False, latent_error_reduction: str = "sum", latent_dim: int = 50,
                 **kwargs: Any) -> None:
        if latent_error_reduction not in LATENT_ERROR_REDUCTIONS:
            raise ValueError(f"model.latent_error_reduction must be one of {LATENT_ERROR_REDUCTIONS} (sum: Algorithm 1's "
                             f"squared norm; mean: the authors' code), got {latent_error_reduction!r}.")
        super().__init__(generator, discriminator, *args, latent_dim=latent_dim, **kwargs)
        hp = self.hparams
        if hp.n_critic != 1:
            raise ValueError(f"ALAE runs its three steps once per batch (Algorithm 1): set model.n_critic=1, got {hp.n_critic}.")
        if hp.get("historical_averaging"):
            raise ValueError("ALAE does not support model.historical_averaging (its players are ed, fg, eg); set it to null.")
        self.encoder = instantiate({**hp.encoder, "out_features": self.w_dim})
        if self.objective.r1_gamma > 0:
            self.check_r1_support()  # now that E exists: D∘E must be per sample
        if step3_updates_mapping:  # the authors' code: F is in Step III's optimizer and the error reaches it
            self.players = {**type(self).players, "eg": ("encoder", "generator.synthesis", "generator.mapping")}

    @property
    def w_dim(self) -> int:
        return int(self.hparams.w_dim or self.hparams.latent_dim)

    # ----- networks ---------------------------------------------------------------------------
    def build_generator(self, cfg: Mapping[str, Any]) -> nn.Module:
        """G∘F: z -> w -> x, F from ``mapping``, G from ``cfg`` (its input size set to w_dim)."""
        hp = self.hparams
        mapping = instantiate({**hp.mapping, "latent_dim": hp.latent_dim, "out_features": self.w_dim})
        return MappedGenerator(mapping, instantiate({**cfg, "latent_dim": self.w_dim}))

    def build_discriminator(self, cfg: Mapping[str, Any]) -> nn.Module:
        """D: w -> score, an MLP on (B, w_dim)."""
        return instantiate({**cfg, "in_shape": [self.w_dim]})

    def r1_networks(self) -> tuple[nn.Module, ...]:
        return tuple(m for m in (getattr(self, "encoder", None), self.discriminator) if m is not None)

    @property
    def mapping(self) -> nn.Module:
        """F."""
        return self.generator.mapping

    @property
    def synthesis(self) -> nn.Module:
        """G (w -> x)."""
        return self.generator.synthesis

    # ----- the image discriminator D∘E and the encoder hooks ----------------------------------
    def d_forward(self, x: Tensor) -> Tensor:
        """(D∘E)(x) (B,): every image D sees passes through E (Steps I and II, R1, val/d_real)."""
        return self.discriminator(self.encoder(x))

    def encode(self, x: Tensor) -> Tensor:
        """E(x) = w (B, w_dim)."""
        return self.encoder(x)

    def reconstruct(self, x: Tensor) -> Tensor:
        """G(E(x)): the encoder's w goes straight into G."""
        return self.synthesis(self.encoder(x))

    # ----- Step III ---------------------------------------------------------------------------
    def latent_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        """‖F(z) − E∘G∘F(z)‖²₂ on a fresh z (Algorithm 1, lines 13-14); F and D are frozen (toggled off), so only E
        and G move (the target F(z) is detached; with ``step3_updates_mapping`` F learns through G's input)."""
        z = self.sample_latent(len(state.real))
        w = self.mapping(z)  # (B, w_dim)
        w_hat = self.encoder(self.synthesis(w))
        loss = latent_error(w.detach(), w_hat, self.hparams.latent_error_reduction)
        return loss, {"train/latent_error": loss}
