"""GP-GAN's Gaussian-Poisson blending (Wu et al. 2017): the DCT (`dct`), the closed-form solver of the
Gaussian-Poisson equation (`poisson`), the pyramid blend (`pyramid`) and the photometric composites of the offline
data set (`composites`)."""

from lit_gans.blending.dct import dct, dct2, idct, idct2
from lit_gans.blending.poisson import (
    OBJECTIVES,
    composite_gradients,
    divergence_rhs,
    forward_gradients,
    gaussian_filter3,
    gaussian_poisson,
)
from lit_gans.blending.pyramid import copy_paste, gp_blend, pyramid_sizes

__all__ = ["OBJECTIVES", "composite_gradients", "copy_paste", "dct", "dct2", "divergence_rhs", "forward_gradients",
           "gaussian_filter3", "gaussian_poisson", "gp_blend", "idct", "idct2", "pyramid_sizes"]
