"""Autoencoder discriminators (EBGAN, Zhao et al. 2017; BEGAN, Berthelot et al. 2017).

An autoencoder maps x to a code h = Enc(x) and back to a reconstruction Dec(h) of x's shape.
These modules only reconstruct: the energy (reconstruction error) and the losses live in
`lit_gans.losses.energy`, the training in `lit_gans.models.energy`.

Interface shared by both networks (what the energy models rely on):
``forward(x)`` -> reconstruction (same shape as x); ``encode(x)`` -> codes (B, code_dim);
``decode(h)`` -> reconstruction; ``reconstruct_with_codes(x)`` -> (reconstruction, codes) in one pass
(EBGAN's pulling-away term reads the codes of the batch whose energy it also needs).
"""

import math
from collections.abc import Sequence

from torch import Tensor, nn

from lit_gans.networks.dcgan import STAGES, norm2d
from lit_gans.networks.layers import dcgan_init_, make_activation

UPSAMPLES = ("transposed", "nearest")


class Autoencoder(nn.Module):
    """Enc/Dec pair with the interface above; subclasses build ``self.encoder`` and ``self.decoder``."""

    in_shape: tuple[int, ...]
    code_dim: int
    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)  # (B, code_dim)

    def decode(self, h: Tensor) -> Tensor:
        return self.decoder(h).view(-1, *self.in_shape)  # (B, *in_shape)

    def reconstruct_with_codes(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.encode(x)
        return self.decode(h), h

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


def _mlp(widths: Sequence[int], activation: str, last_activation: str) -> list[nn.Module]:
    """Linear layers through ``widths`` with ``activation`` between them and ``last_activation`` at the end."""
    layers: list[nn.Module] = []
    for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
        last = i == len(widths) - 2
        layers += [nn.Linear(w_in, w_out), make_activation(last_activation if last else activation)]
    return layers


class MLPAutoencoder(Autoencoder):
    """x (B, *in_shape) -> code (B, code_dim) -> reconstruction (B, *in_shape), fully connected.

    Encoder: ``hidden`` layers with ``activation``, then a linear map to the code (``code_activation``
    on it, "none" by default: BEGAN's embedding has no non-linearity). The decoder mirrors the hidden
    widths. EBGAN's MNIST grid search (Zhao et al. 2017, Section 4.1) fixed the decoder to one layer;
    the setting of its Figure 9 (nLayerD = 2, sizeD = 1024) is ``hidden=[]``, ``code_dim=1024`` with a
    non-linear code (``code_activation``; the paper does not name its activation). For toy data the
    output is linear (``output_activation="none"``).
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        hidden: Sequence[int] = (128,),
        code_dim: int = 16,
        activation: str = "leaky_relu",
        code_activation: str = "none",
        output_activation: str = "none",
    ) -> None:
        super().__init__()
        self.in_shape, self.code_dim = tuple(in_shape), code_dim
        width = math.prod(self.in_shape)
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp([width, *hidden, code_dim], activation, code_activation))
        self.decoder = nn.Sequential(*_mlp([code_dim, *reversed(hidden), width], activation, output_activation))


class ConvAutoencoder(Autoencoder):
    """image (B, C, H, W) -> code (B, code_dim) -> reconstruction (B, C, H, W), for 28/32/64 px.

    Encoder: the DCGAN discriminator's body (strided 4x4 convolutions doubling the channels from
    ``base_channels``, no norm on the input layer) flattened and mapped linearly to the code.
    Decoder: a linear map back to the last feature map, then the mirror image: x2 upsampling stages
    halving the channels, the last one to C channels. EBGAN's LSUN/CelebA discriminators were
    convolutional auto-encoders of this kind (Zhao et al. 2017, Section 4.3). BEGAN's (Berthelot et al. 2017,
    Figure 1) differs in detail (two 3x3 convs per scale, channels growing linearly); ``activation="elu"``,
    ``upsample="nearest"`` (nearest-neighbour x2 then a 3x3 conv) and ``norm="none"`` give its
    ingredients: ELU, upsampling by nearest neighbour, no BatchNorm, and a linear code (the embedding h
    has no non-linearity in either network). ``output_activation="none"`` leaves the reconstruction
    unbounded, so a discriminator can always raise a fake's energy.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        code_dim: int = 64,
        base_channels: int = 64,
        norm: str = "none",
        activation: str = "leaky_relu",
        upsample: str = "transposed",
        output_activation: str = "none",
    ) -> None:
        super().__init__()
        self.in_shape, self.code_dim = tuple(in_shape), code_dim
        if len(self.in_shape) != 3 or self.in_shape[1] != self.in_shape[2] or self.in_shape[1] not in STAGES:
            raise ValueError(
                f"The convolutional autoencoder supports square images of size {sorted(STAGES)} (shape (C, H, W)); "
                f"the data has shape {self.in_shape}. Set data.image_size to one of {sorted(STAGES)}, or use "
                "net/discriminator@model.discriminator=autoencoder_toy for vectors and toy data."
            )
        if upsample not in UPSAMPLES:
            raise ValueError(f"Unknown upsample {upsample!r}; choose one of {UPSAMPLES}.")
        channels = self.in_shape[0]
        end, n_stages = STAGES[self.in_shape[1]]
        bias = norm == "none"  # a norm layer's shift replaces the bias
        encoder: list[nn.Module] = [nn.Conv2d(channels, base_channels, 4, 2, 1), make_activation(activation)]
        width = base_channels
        for _ in range(n_stages - 1):
            encoder += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=bias), *norm2d(norm, width * 2)]
            encoder.append(make_activation(activation))
            width *= 2
        encoder += [nn.Flatten(), nn.Linear(width * end * end, code_dim)]  # (B, code_dim), linear code

        def up(w_in: int, w_out: int, use_bias: bool) -> list[nn.Module]:
            if upsample == "transposed":
                return [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=use_bias)]
            return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(w_in, w_out, 3, 1, 1, bias=use_bias)]

        decoder: list[nn.Module] = [nn.Linear(code_dim, width * end * end), nn.Unflatten(1, (width, end, end))]
        for _ in range(n_stages - 1):
            decoder += [*up(width, width // 2, bias), *norm2d(norm, width // 2), make_activation(activation)]
            width //= 2
        decoder += [*up(width, channels, True), make_activation(output_activation)]  # (B, C, H, W)
        self.encoder, self.decoder = nn.Sequential(*encoder), nn.Sequential(*decoder)
        dcgan_init_(self)
