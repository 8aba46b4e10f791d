"""GAN (Goodfellow et al. 2014) and DCGAN (Radford et al. 2016).

Both are the plain skeleton: the objective (minimax or non-saturating) comes from
``loss=``, the architecture from ``net/``. DCGAN is the same game with convolutional
networks and Adam(2e-4, β1=0.5), so it needs no code of its own beyond a name.
"""

from lit_gans.models.base import AdversarialModule


class GAN(AdversarialModule):
    """The original adversarial game; D returns logits (see ``lit_gans.losses.adversarial``)."""

    supports_feature_matching = True


class DCGAN(GAN):
    """GAN with the DCGAN architecture guidelines (the networks live in ``net/``)."""
