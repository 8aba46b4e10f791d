"""Pure loss functions: ``(d_real, d_fake, ...) -> scalar Tensor`` to minimise.

Each function documents its sign convention and the paper equation it implements.
``Objective`` bundles a discriminator loss with a generator loss for Hydra configs.
"""

from lit_gans.losses.adversarial import (
    js_divergence_estimate,
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
)
from lit_gans.losses.bidirectional import bidirectional_generator_loss
from lit_gans.losses.conditioning import conditioning_augmentation_kl, matching_aware_discriminator_loss
from lit_gans.losses.cramer import (
    cramer_critic_loss,
    cramer_gradient_penalty,
    cramer_surrogate,
    energy_distance_estimate,
    energy_distance_generator_loss,
)
from lit_gans.losses.energy import (
    began_convergence,
    began_discriminator_loss,
    began_generator_loss,
    began_k_update,
    energy_generator_loss,
    energy_margin_discriminator_loss,
    pulling_away_term,
    reconstruction_energy,
)
from lit_gans.losses.f_divergences import (
    DIVERGENCES,
    FDivergence,
    fgan_bound,
    fgan_discriminator_loss,
    fgan_generator_loss,
    get_divergence,
)
from lit_gans.losses.hinge import hinge_discriminator_loss, hinge_generator_loss
from lit_gans.losses.least_squares import least_squares_discriminator_loss, least_squares_generator_loss
from lit_gans.losses.mode_regularized import (
    DISTANCES,
    mode_regularized_generator_loss,
    mode_regularizer,
    reconstruction_distance,
)
from lit_gans.losses.objective import Objective
from lit_gans.losses.r1 import r1_penalty
from lit_gans.losses.translation import blending_gan_loss, halved, l1_translation_loss, l2_blending_loss
from lit_gans.losses.wasserstein import (
    em_estimate,
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

__all__ = [
    "halved",
    "l1_translation_loss",
    "l2_blending_loss",
    "blending_gan_loss",
    "DIVERGENCES",
    "DISTANCES",
    "FDivergence",
    "Objective",
    "bidirectional_generator_loss",
    "conditioning_augmentation_kl",
    "began_convergence",
    "began_discriminator_loss",
    "began_generator_loss",
    "began_k_update",
    "cramer_critic_loss",
    "cramer_gradient_penalty",
    "cramer_surrogate",
    "em_estimate",
    "energy_distance_estimate",
    "energy_distance_generator_loss",
    "energy_generator_loss",
    "energy_margin_discriminator_loss",
    "fgan_bound",
    "fgan_discriminator_loss",
    "fgan_generator_loss",
    "get_divergence",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "js_divergence_estimate",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "matching_aware_discriminator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "mode_regularized_generator_loss",
    "mode_regularizer",
    "non_saturating_generator_loss",
    "pulling_away_term",
    "r1_penalty",
    "reconstruction_distance",
    "reconstruction_energy",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
