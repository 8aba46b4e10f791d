"""Joint PPGN-h (Nguyen et al. 2017, Section 3.5 and Fig. 3): a generator G trained to invert the features h of the
image classifier, so that G and the classifier's encoder E form a denoising autoencoder of h, h -> G -> x -> E -> h,
which is the sampler's learned prior: R(h) = E(G(h)) (the authors' ``h_autoencoder_grad`` computes E(G(h)) − h).

Our port to MNIST: the classifier is our shipped MNIST classifier (`lit_gans.metrics.mnist_classifier`), frozen,
both the encoder E and the condition network p(y | x), as CaffeNet is both in the paper. h is its 128-d penultimate
layer (after BatchNorm and ReLU, like the paper's fc6 after ReLU) and h1 its last pooling layer (64×4×4, the paper's
pool5). G: h -> x is any generator config taking ``latent_dim`` = 128 (DCGAN's by default); D a usual discriminator.
G's loss on a real batch x, with h = E(x) and h̃ = h + N(0, σ²) (σ = ``noise_std``; 0: the *noiseless* joint PPGN-h):

    λ_img ‖G(h̃) − x‖² + λ_h1 ‖E1(G(h̃)) − E1(x)‖² + λ_h ‖E(G(h̃)) − h‖² + λ_GAN L_GAN(D(G(h̃)))

(each squared error a mean over its elements; L_GAN the configured objective's generator loss); D learns real x
against G(h̃) with the objective's discriminator loss. The λ are ours (see conf/model/ppgn_joint.yaml): the paper's
weights belong to ImageNet pixel and feature scales.

There is no p(h) to draw from: chains start from codes drawn per coordinate from N(mean, std²) of the real codes
seen in training (running averages, in the checkpoint), clipped to the code box [0, max] (the authors start from
N(0, 1) codes clipped to fc6's [0, 30]); sample grids and metrics show G of such codes.
"""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.metrics.mnist_classifier import load_mnist_classifier
from lit_gans.models.base import AdversarialModule, Logs
from lit_gans.models.steps import BatchState

STATS_MOMENTUM = 0.01  # running mean / std / max of the real codes E(x)
POOL_LAYERS = 8  # classifier.body[:8]: conv-BN-ReLU-pool ×2 -> (B, 64, 4, 4), the paper's pool5 ("h1")


class PPGNJoint(AdversarialModule):
    """Args (besides the skeleton's generator, discriminator, loss and optimizers):
        noise_std: σ of the noise on h in G's training (joint PPGN-h); 0 is the noiseless joint PPGN-h.
        lambda_img, lambda_h1, lambda_h, lambda_gan: the weights of G's four terms.
        classifier: the MNIST classifier's weights file (None: the shipped ones); its weights are copied into this
            model's checkpoints.
        latent_dim: must be the classifier's feature size, 128.
    """

    supports_feature_matching = False
    packing_unsupported = "D scores G's reconstructions of single real digits."

    def __init__(self, generator: Mapping[str, Any], discriminator: Mapping[str, Any], *args: Any,
                 noise_std: float = 0.1, lambda_img: float = 1.0, lambda_h1: float = 1.0, lambda_h: float = 1.0,
                 lambda_gan: float = 0.1, classifier: str | None = None, latent_dim: int = 128, **kwargs: Any) -> None:
        if noise_std < 0 or min(lambda_img, lambda_h1, lambda_h, lambda_gan) < 0:
            raise ValueError("model.noise_std and the model.lambda_* weights must be >= 0.")
        super().__init__(generator, discriminator, *args, latent_dim=latent_dim, **kwargs)
        self.classifier = load_mnist_classifier(classifier)  # frozen: eval mode, no gradients (E and p(y | x))
        self.classifier.to(memory_format=torch.contiguous_format)  # state_dict copies as plain tensors
        if latent_dim != self.classifier.num_features:
            raise ValueError(f"Joint PPGN-h's code h is the classifier's {self.classifier.num_features} features: set "
                             f"model.latent_dim={self.classifier.num_features}, got {latent_dim}.")
        self.register_buffer("code_mean", torch.zeros(latent_dim))
        self.register_buffer("code_std", torch.ones(latent_dim))
        self.register_buffer("code_max", torch.ones(()))
        self.register_buffer("codes_seen", torch.zeros((), dtype=torch.long))

    # ----- E, E1 and the code statistics ------------------------------------------------------------------------
    def encode_features(self, x: Tensor) -> Tensor:
        """h = E(x) (B, 128), the classifier's penultimate features."""
        return self.classifier.features(x)

    def pool_features(self, x: Tensor) -> Tensor:
        """h1 = E1(x) (B, 64, 4, 4), the classifier's last pooling layer."""
        return self.classifier.body[:POOL_LAYERS](x)

    @torch.no_grad()
    def _track_codes(self, h: Tensor) -> None:
        if len(h) < 2:
            return
        m = 1.0 if self.codes_seen == 0 else STATS_MOMENTUM  # the first batch sets them
        self.code_mean.lerp_(h.mean(0), m)
        self.code_std.lerp_(h.std(0), m)
        self.code_max.lerp_(h.max(), m)
        self.codes_seen += 1

    # ----- the PPGN interface -----------------------------------------------------------------------------------
    def decode(self, h: Tensor) -> Tensor:
        return self.generator(h)

    def denoise(self, h: Tensor) -> Tensor:
        """R(h) = E(G(h)): G and E together are the DAE of h."""
        return self.encode_features(self.generator(h))

    def code_box(self) -> tuple[float, float]:
        """[0, max of the real codes seen]: h is a ReLU output, like the paper's fc6 in [0, 30]."""
        return (0.0, float(self.code_max))

    def start_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        z = torch.randn((n, self.hparams.latent_dim), generator=generator).to(self.device)
        return (self.code_mean + self.code_std * z).clamp(*self.code_box())

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """The codes sample grids and metrics draw: `start_codes`."""
        return self.start_codes(n, generator=generator)

    # ----- training ---------------------------------------------------------------------------------------------
    def batch_start(self, state: BatchState) -> None:
        """h = E(x) of the real batch and its noisy copy h̃, shared by the D and G steps."""
        x = state.real
        if tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"Joint PPGN-h encodes with our MNIST classifier, which reads (1, 28, 28) digits; this data "
                             f"has {tuple(x.shape[1:])} images. Use data=mnist (or fashion_mnist-shaped data).")
        with torch.no_grad():
            h = self.encode_features(x)
        self._track_codes(h)
        state.cache["h"] = h
        state.cache["h_noisy"] = h + self.hparams.noise_std * torch.randn_like(h) if self.hparams.noise_std else h

    def discriminator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        with torch.no_grad():
            fake = self.generator(state.cache["h_noisy"])
        return self.discriminator_loss(self.with_instance_noise(state.real), self.with_instance_noise(fake))

    def joint_losses(self, x: Tensor, h: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """The image, h1, h terms of G's loss (means of squared errors) on real x, its code h and G(h̃)."""
        with torch.no_grad():
            h1_real = self.pool_features(x)
        return {"img": F.mse_loss(fake, x), "h1": F.mse_loss(self.pool_features(fake), h1_real),
                "h": F.mse_loss(self.encode_features(fake), h)}

    def generator_step(self, state: BatchState) -> tuple[Tensor, Logs]:
        hp = self.hparams
        fake = self.generator(state.cache["h_noisy"])
        terms = self.joint_losses(state.real, state.cache["h"], fake)
        gan, _ = self.adversarial_g_loss(self.d_scores(self.with_instance_noise(fake)))
        loss = hp.lambda_img * terms["img"] + hp.lambda_h1 * terms["h1"] + hp.lambda_h * terms["h"] + hp.lambda_gan * gan
        return loss, {"train/g_loss": loss, "train/g_gan": gan.detach(),
                      **{f"train/loss_{k}": v.detach() for k, v in terms.items()}}
