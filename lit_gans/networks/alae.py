"""ALAE's mapping network F: z -> w and the z -> x generator F∘G (Pidhorskyi et al. 2020).

ALAE splits the generator into F: z -> w (a StyleGAN-style MLP) and G: w -> x, and the discriminator into the encoder
E: x -> w and D: w -> score. `MappedGenerator` keeps F and G together as the model's ``generator``, so everything that
draws samples from z (grids, metrics, exports, EMA) sees one z -> x network, while ALAE's players still own F
(``generator.mapping``) and G (``generator.synthesis``) separately.
"""

from torch import Tensor, nn

from lit_gans.networks.layers import apply_init_, make_activation, make_linear


class PixelNorm(nn.Module):
    """x / sqrt(mean(x²) + ε) over the features (Karras et al. 2018, Eq. 1; StyleGAN's mapping input)."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return x * (x.pow(2).mean(dim=1, keepdim=True) + self.eps).rsqrt()


class MappingNetwork(nn.Module):
    """F: z (B, latent_dim) -> w (B, out_features).

    ALAE's MNIST F (the authors' ``MappingFromLatent`` with ``MAPPING_LAYERS: 6``): pixel norm of z, then ``layers``
    blocks of Linear + LeakyReLU(0.2), every block ``hidden`` wide (the latent size) and the last one ``out_features``
    wide, the activation after the last block too (their ``MappingBlock`` always applies it).

    Args:
        latent_dim: size of z. out_features: size of w.
        layers: number of Linear layers (>= 1). hidden: width of the inner ones (None: ``out_features``).
        activation: after every Linear, the last included (``final_activation``).
        pixel_norm: normalise z first.
        equalized_lr, lr_multiplier: equalised-learning-rate layers (`lit_gans.networks.layers.EqualizedLinear`); the
            authors' F: true, 0.1.
    """

    def __init__(self, latent_dim: int, out_features: int, layers: int = 6, hidden: int | None = None,
                 activation: str = "leaky_relu", final_activation: bool = True, pixel_norm: bool = True,
                 init: str = "default", init_gain: float = 1.0, equalized_lr: bool = False,
                 lr_multiplier: float = 1.0) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"MappingNetwork needs layers >= 1, got {layers}.")
        self.latent_dim, self.out_features = int(latent_dim), int(out_features)
        hidden = self.out_features if hidden is None else int(hidden)
        blocks: list[nn.Module] = [PixelNorm()] if pixel_norm else []
        width = self.latent_dim
        for i in range(layers):
            out = self.out_features if i == layers - 1 else hidden
            blocks.append(make_linear(width, out, equalized_lr, lr_multiplier))
            if i < layers - 1 or final_activation:
                blocks.append(make_activation(activation))
            width = out
        self.net = nn.Sequential(*blocks)
        apply_init_(self, init, init_gain)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)  # (B, out_features)


class MappedGenerator(nn.Module):
    """z -> x = synthesis(mapping(z)): ALAE's G∘F as one generator; ``mapping`` is F, ``synthesis`` is G."""

    def __init__(self, mapping: nn.Module, synthesis: nn.Module) -> None:
        super().__init__()
        self.mapping, self.synthesis = mapping, synthesis
        self.latent_dim = getattr(mapping, "latent_dim", None)
        self.out_shape = getattr(synthesis, "out_shape", None)

    def forward(self, z: Tensor) -> Tensor:
        return self.synthesis(self.mapping(z))
