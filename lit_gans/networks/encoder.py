"""Encoders E: x -> z and the joint discriminator D(x, z) of BiGAN / ALI (Donahue et al. 2017; Dumoulin et al. 2017).

The encoders return a flat code of ``out_features`` numbers; a stochastic encoder (ALI's q(z|x)) is built with
twice the latent size and the model reads the halves as (μ, log σ). The joint discriminator scores (x, z) pairs:
an x branch (any of our discriminators that exposes ``features_and_score``, e.g. the MLP or the 28-px conv net),
an optional z branch, and a joint stack on their concatenation.
"""

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lit_gans.networks.layers import apply_init_, make_activation, make_linear


def _per_layer(flag: bool | Sequence[bool], n: int, name: str) -> list[bool]:
    """One bool for every hidden layer (a single bool applies to all)."""
    flags = [bool(flag)] * n if isinstance(flag, bool) else [bool(f) for f in flag]
    if len(flags) != n:
        raise ValueError(f"{name} needs one flag per hidden layer ({n}), got {list(flags)}.")
    return flags


class MLPEncoder(nn.Module):
    """x (B, *in_shape) -> code (B, out_features).

    BiGAN's permutation-invariant MNIST encoder (the authors' ``mnist_mlp``): 784 -> FC 1024, LReLU ->
    FC 1024, BatchNorm, LReLU -> a linear code (``batch_norm=[false, true]``). The last layer is linear:
    the code is unconstrained (the prior's support is not enforced; a tanh would pin it inside U[-1, 1]).
    ``output_activation`` (default "none") follows the last layer: ALAE's MNIST encoder (the authors' ``EncoderFC``)
    ends with LeakyReLU(0.2), like its mapping network F, so E(x) and F(z) live in the same kind of space.
    ``equalized_lr`` / ``lr_multiplier``: equalised-learning-rate layers, as in :class:`MLPGenerator`.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        out_features: int,
        hidden: Sequence[int] = (1024, 1024),
        activation: str = "leaky_relu",
        batch_norm: bool | Sequence[bool] = (False, True),
        init: str = "default",
        init_gain: float = 1.0,
        output_activation: str = "none",
        equalized_lr: bool = False,
        lr_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        self.in_shape, self.out_features = tuple(in_shape), int(out_features)
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(self.in_shape)
        for h, bn in zip(hidden, _per_layer(batch_norm, len(hidden), "MLPEncoder.batch_norm")):
            layers += [make_linear(width, h, equalized_lr, lr_multiplier)] + ([nn.BatchNorm1d(h)] if bn else [])
            layers.append(make_activation(activation))
            width = h
        layers.append(make_linear(width, self.out_features, equalized_lr, lr_multiplier))
        if output_activation != "none":  # (none: the state_dict keys of the default stay as they were)
            layers.append(make_activation(output_activation))
        self.net = nn.Sequential(*layers)
        apply_init_(self, init, init_gain)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ConvEncoder(nn.Module):
    """x (B, C, H, W) -> code (B, out_features): BiGAN's ``convnet_28`` (the authors' conv MNIST encoder):
    conv 5x5 stride 2 (64), LReLU -> conv 5x5 stride 2 (128), BN, LReLU -> FC 1024, BN, LReLU -> linear code.
    Any square image whose side is divisible by 4 (28 -> 14 -> 7)."""

    def __init__(
        self,
        in_shape: Sequence[int],
        out_features: int,
        channels: Sequence[int] = (64, 128),
        fc: int = 1024,
        kernel_size: int = 5,
        activation: str = "leaky_relu",
    ) -> None:
        super().__init__()
        shape = tuple(in_shape)
        if len(shape) != 3 or shape[1] != shape[2] or shape[1] % 2 ** len(channels):
            raise ValueError(f"ConvEncoder takes square (C, H, W) images with a side divisible by {2 ** len(channels)}, "
                             f"got {shape}. For vectors and toy data use net/encoder@model.encoder=toy (an MLP).")
        self.in_shape, self.out_features = shape, int(out_features)
        layers: list[nn.Module] = []
        c = shape[0]
        for i, out in enumerate(channels):
            layers.append(nn.Conv2d(c, out, kernel_size, stride=2, padding=kernel_size // 2))
            if i > 0:  # no BN on the input layer (DCGAN's rule; the authors' convnet_28)
                layers.append(nn.BatchNorm2d(out))
            layers.append(make_activation(activation))
            c = out
        side = shape[1] // 2 ** len(channels)
        layers += [nn.Flatten(), nn.Linear(c * side * side, fc), nn.BatchNorm1d(fc), make_activation(activation),
                   nn.Linear(fc, self.out_features)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class JointDiscriminator(nn.Module):
    """D(x, z) -> score (B,) of a pair: higher means "a data pair (x, E(x))" rather than "a generated pair (G(z), z)".

    Args:
        x_net: the x branch, a discriminator exposing ``features_and_score`` and ``feature_dim`` (MLPDiscriminator,
            DCGANDiscriminator, InfoGANDiscriminator): its features (B, feature_dim) enter the joint stack; its own
            score head is not used (and gets no gradient).
        latent_dim: size of z.
        z_hidden: the z branch's hidden layers (empty: z enters the joint stack as it is).
        hidden: the joint stack's hidden layers on [features(x), branch(z)]. With one layer this is BiGAN's MNIST D
            (the authors' ``mnist_mlp`` with z as the condition): FC(h_x) + FC(z) -> BN -> LReLU -> FC 1, since a
            linear layer on the concatenation is the sum of one on each part.
        batch_norm: BatchNorm in the z branch and joint stack's hidden layers.
        input_dropout: dropout on x and on z before the branches (ALI: 0.2); dropout: after each hidden layer of
            the z branch and the joint stack.
    """

    def __init__(
        self,
        x_net: nn.Module,
        latent_dim: int,
        z_hidden: Sequence[int] = (),
        hidden: Sequence[int] = (1024,),
        activation: str = "leaky_relu",
        batch_norm: bool = True,
        input_dropout: float = 0.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not hasattr(x_net, "features_and_score") or not hasattr(x_net, "feature_dim"):
            raise ValueError(f"The joint discriminator's x branch must expose features_and_score and feature_dim "
                             f"(MLPDiscriminator, DCGANDiscriminator, InfoGANDiscriminator), got {type(x_net).__name__}.")
        self.x_net, self.latent_dim = x_net, int(latent_dim)
        self.input_dropout = nn.Dropout(input_dropout) if input_dropout > 0 else nn.Identity()

        def stack(width: int, sizes: Sequence[int]) -> tuple[list[nn.Module], int]:
            layers: list[nn.Module] = []
            for h in sizes:
                layers += [nn.Linear(width, h)] + ([nn.BatchNorm1d(h)] if batch_norm else []) + [make_activation(activation)]
                layers += [nn.Dropout(dropout)] if dropout > 0 else []
                width = h
            return layers, width

        z_layers, z_width = stack(self.latent_dim, z_hidden)
        self.z_net = nn.Sequential(*z_layers)
        joint, width = stack(x_net.feature_dim + z_width, hidden)
        self.joint = nn.Sequential(*joint, nn.Linear(width, 1))

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        if z.shape != (len(x), self.latent_dim):
            raise ValueError(f"D(x, z) needs z of shape (B, {self.latent_dim}) beside x (B, ...), got {tuple(z.shape)} "
                             f"and {tuple(x.shape)}.")
        features = self.x_net.features_and_score(self.input_dropout(x))[0].flatten(1)  # (B, feature_dim)
        h = torch.cat([features, self.z_net(self.input_dropout(z))], dim=1)
        return self.joint(h).squeeze(1)  # (B,)
