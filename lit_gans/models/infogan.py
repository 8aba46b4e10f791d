"""InfoGAN (Chen et al. 2016): min_G,Q max_D V(D, G) − λ L_I(G, Q).

G reads z and a latent code c (categorical and continuous parts); a network Q reads G's image
and must recover c. L_I is the variational lower bound of I(c; G(z, c)) (eq. (4)-(5),
`lit_gans.losses.info`). As in the authors' code, the information term is added to both
players' losses: D's step trains Q (whose parameters ``optimizer_d`` owns, shared body or not)
on detached fakes, G's step sends the same term's gradient through Q into G (Q frozen then).
"""

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor, nn

from lit_gans.losses.info import categorical_code_nll, categorical_entropy, gaussian_code_nll
from lit_gans.models.base import AdversarialModule, Labeled, Logs, images_of
from lit_gans.networks.heads import QHead

Q_BODIES = ("shared", "separate")


class Codes(NamedTuple):
    categorical: Tensor  # (B, J) int64: the index of each categorical code
    continuous: Tensor  # (B, C) float in [-range, range]


class InfoGAN(AdversarialModule):
    """Args (besides the skeleton's):
        latent_dim: size of the incompressible noise z (62 in the paper's MNIST setting).
        categorical_codes: K of each categorical code ([10]: one Cat(10), the digit type).
        continuous_codes: number of Unif(−r, r) codes (2: rotation and width on MNIST);
            continuous_range: r (1).
        lambda_categorical, lambda_continuous: λ for each part of L_I (1 and 0.1; the paper uses
            a smaller λ for continuous codes, whose NLL is on another scale).
        q_body: "shared" (Q is a head on D's last features, the paper) or "separate" (Q has its
            own copy of D's architecture, like the lecture's code).
        q_hidden: width of Q's hidden layer; learn_variance: Q predicts log σ² of the continuous
            codes (else σ = 1); q_leaky_slope: its lReLU slope (Table 1: 0.1; the authors' code:
            0.01); q_init: "default" (PyTorch's) or "normal" (N(0, 0.02), the authors' code).
    """

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        *args: Any,
        latent_dim: int = 62,
        categorical_codes: Sequence[int] = (10,),
        continuous_codes: int = 2,
        continuous_range: float = 1.0,
        lambda_categorical: float = 1.0,
        lambda_continuous: float = 0.1,
        q_body: str = "shared",
        q_hidden: int = 128,
        learn_variance: bool = False,
        q_leaky_slope: float = 0.1,
        q_init: str = "default",
        **kwargs: Any,
    ) -> None:
        if q_body not in Q_BODIES:
            raise ValueError(f"q_body must be one of {Q_BODIES}, got {q_body!r}.")
        if not categorical_codes and continuous_codes == 0:
            raise ValueError("InfoGAN needs at least one code (categorical_codes or continuous_codes).")
        super().__init__(generator, discriminator, *args, latent_dim=latent_dim, **kwargs)
        if self.objective.gp_weight > 0:
            raise ValueError("InfoGAN with a gradient penalty is not supported; use loss=non_saturating.")
        self.categories = [int(k) for k in categorical_codes]
        if not hasattr(self.discriminator, "features_and_score"):
            raise ValueError(f"{type(self.discriminator).__name__} exposes no features for Q; use a DCGAN or MLP discriminator.")
        self.q_body = instantiate(self.hparams.discriminator) if q_body == "separate" else None
        self.q_head = QHead(self.discriminator.feature_dim, self.categories, continuous_codes, q_hidden, learn_variance,
                            leaky_slope=q_leaky_slope, init=q_init)

    def build_generator(self, cfg: Mapping[str, Any]) -> nn.Module:
        # G reads [z, one-hot categorical codes, continuous codes]; the network only sees a vector
        hp = self.hparams
        return instantiate({**cfg, "latent_dim": hp.latent_dim + sum(hp.categorical_codes) + hp.continuous_codes})

    # ----- codes ----------------------------------------------------------------------------
    @property
    def code_entropy(self) -> float:
        """H(c) of the categorical codes: the limit of the logged ``train/mutual_info``."""
        return categorical_entropy(self.categories)

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Codes:
        """c ~ P(c): uniform categorical indices (n, J) and Unif(−r, r) continuous codes (n, C)."""
        cat = torch.stack([torch.randint(k, (n,), generator=generator) for k in self.categories], dim=1) \
            if self.categories else torch.zeros(n, 0, dtype=torch.long)
        r = self.hparams.continuous_range
        cont = (torch.rand(n, self.hparams.continuous_codes, generator=generator) * 2 - 1) * r
        return Codes(cat.to(self.device), cont.to(self.device))

    def generator_input(self, z: Tensor, codes: Codes) -> Tensor:
        one_hot = [F.one_hot(codes.categorical[:, j], k).to(z.dtype) for j, k in enumerate(self.categories)]
        return torch.cat([z, *one_hot, codes.continuous.to(z.dtype)], dim=1)

    def sample_fake(self, n: int, generator: torch.Generator | None = None) -> Labeled:
        z = self.sample_latent(n, generator=generator)  # on a CPU generator when given: reproducible
        codes = self.sample_codes(n, generator=generator)
        return Labeled(self.generator(self.generator_input(z, codes)), codes, z)

    def condition_arrays(self, samples: Labeled) -> dict[str, Tensor]:
        """The codes as exports write them: ``codes_categorical`` (N, J) int64, the index of each categorical
        code (column 0: the first, e.g. the digit type), and ``codes_continuous`` (N, C) float."""
        return {"codes_categorical": samples.labels.categorical, "codes_continuous": samples.labels.continuous}

    def sample_for_class(self, n: int, k: int, generator: torch.Generator | None = None) -> Tensor:
        """n images with the first categorical code fixed to k (the code-accuracy metric)."""
        z, codes = self.sample_latent(n, generator=generator), self.sample_codes(n, generator=generator)
        codes.categorical[:, 0] = k
        return self.generator(self.generator_input(z, codes))

    @property
    def num_conditions(self) -> int:
        return self.categories[0] if self.categories else 0

    condition_kind = "code"  # codes are learned without labels: compare up to a permutation
    r1_unsupported = "InfoGAN's D and Q share one pass; no penalty is implemented for it (as for the gradient penalty)."
    packing_unsupported = ("Q reads each sample's codes from D's features, which PacGAN's packs would merge (a "
                           "conditional model: the paper packs unconditional discriminators only).")

    # ----- Q and the losses -----------------------------------------------------------------
    # optimizer_d owns Q: its head, and its own body when it does not share D's (see the module docstring)
    players = {"g": ("generator",), "d": ("discriminator", "q_head", "q_body")}

    def _features_and_score(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Q's input features and D's score (B,) from as few passes as the design allows."""
        features, score = self.discriminator.features_and_score(images)
        if self.q_body is not None:
            features = self.q_body.features_and_score(images)[0]
        return features, score

    def information_loss(self, features: Tensor, codes: Codes) -> tuple[Tensor, Logs]:
        """λ_cat · Σ_j CE(Q_j, c_j) + λ_cont · Gaussian NLL: −λ L_I up to the constant H(c)."""
        logits, mean, log_var = self.q_head(features)
        hp = self.hparams
        loss, logs = features.new_zeros(()), {}
        if self.categories:
            nll = categorical_code_nll(logits, codes.categorical, self.categories)
            loss = loss + hp.lambda_categorical * nll
            logs["train/mutual_info"] = self.code_entropy - nll.detach()  # L_I (categorical part) <= H(c)
            logs["train/code_entropy"] = torch.tensor(self.code_entropy)
        if hp.continuous_codes:
            nll_cont = gaussian_code_nll(mean, codes.continuous, log_var)
            loss = loss + hp.lambda_continuous * nll_cont
            logs["train/q_continuous_nll"] = nll_cont.detach()
        logs["train/info_loss"] = loss.detach()
        return loss, logs

    def discriminator_loss(self, real: Any, fake: Labeled) -> tuple[Tensor, Logs]:
        features, d_fake = self._features_and_score(fake.images)
        loss, logs = self.adversarial_d_loss(real, fake, self.d_scores(real), d_fake)
        info, info_logs = self.information_loss(features, fake.labels)
        return loss + info, {**logs, **info_logs}

    def generator_loss(self, real: Any, fake: Labeled) -> tuple[Tensor, Logs]:
        features, d_fake = self._features_and_score(fake.images)
        loss, logs = self.adversarial_g_loss(d_fake)
        info, info_logs = self.information_loss(features, fake.labels)
        # G's copy of the term: the same values as D's step logs, so only the loss is logged
        return loss + info, {**logs, "train/g_info_loss": info_logs["train/info_loss"]}

    def d_scores(self, samples: Any) -> Tensor:
        return self.discriminator(images_of(samples))

    # ----- traversal grids (the paper's Figure 2) -------------------------------------------
    def sample_grid(self, seed: int = 0) -> tuple[Tensor, int]:
        """What `SampleGrid` draws: the traversal of the first continuous code (rows: categorical
        code; columns: −2 … 2), or of the categorical code alone when there is no continuous one."""
        return self.traversal(0, steps=10, seed=seed), 10

    @torch.no_grad()
    def traversal(self, continuous_index: int = 0, steps: int = 10, span: float = 2.0, seed: int = 0) -> Tensor:
        """Images (K·steps, C, H, W): row k fixes the first categorical code to k, columns vary
        continuous code ``continuous_index`` from −span to span; z and the other codes are the
        same everywhere (one draw), as in Chen et al. 2016, Figure 2."""
        k = self.num_conditions or 1
        gen = torch.Generator().manual_seed(seed)
        z = self.sample_latent(1, generator=gen).expand(k * steps, -1)
        codes = self.sample_codes(1, generator=gen)
        cat = codes.categorical.expand(k * steps, -1).clone()
        if self.categories:
            cat[:, 0] = torch.arange(k, device=self.device).repeat_interleave(steps)
        cont = codes.continuous.expand(k * steps, -1).clone()
        if self.hparams.continuous_codes:
            cont[:, continuous_index] = torch.linspace(-span, span, steps, device=self.device).repeat(k)
        return self.generator(self.generator_input(z, Codes(cat, cont)))
