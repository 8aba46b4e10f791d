"""Fully connected generator and discriminator (Goodfellow et al. 2014; toy 2-D data)."""

import math
from collections.abc import Sequence

from torch import Tensor, nn

from lit_gans.networks.improved import MinibatchDiscrimination
from lit_gans.networks.layers import Maxout, apply_init_, make_activation, make_linear


class MLPGenerator(nn.Module):
    """z (B, latent_dim) -> sample (B, *out_shape).

    The GAN lecture's MNIST generator is 100 -> 1200 -> 1200 -> 784 with ReLU and a Sigmoid
    output; we default to Tanh because our images are scaled to [-1, 1] (same shape of map).
    ``equalized_lr`` builds every Linear as an `EqualizedLinear` (ALAE's and StyleGAN's layers), slowed by
    ``lr_multiplier``.
    """

    def __init__(
        self,
        latent_dim: int,
        out_shape: Sequence[int],
        hidden: Sequence[int] = (1200, 1200),
        activation: str = "relu",
        output_activation: str = "tanh",
        batch_norm: bool = False,
        init: str = "default",
        init_gain: float = 1.0,
        equalized_lr: bool = False,
        lr_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        self.latent_dim, self.out_shape = latent_dim, tuple(out_shape)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            layers.append(make_linear(width, h, equalized_lr, lr_multiplier))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(make_activation(activation))
            width = h
        layers += [make_linear(width, math.prod(self.out_shape), equalized_lr, lr_multiplier), make_activation(output_activation)]
        self.net = nn.Sequential(*layers)
        apply_init_(self, init, init_gain)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(-1, *self.out_shape)


class MLPDiscriminator(nn.Module):
    """x (B, *in_shape) -> score (B,): a logit for GAN losses, a critic value for WGAN;
    with ``out_features`` K > 1, features (B, K) (the Cramér GAN critic h).

    ``activation="maxout"`` with ``maxout_pieces`` and ``dropout`` gives the original GAN's
    MNIST discriminator (Goodfellow et al. 2014: 240 maxout units x 5 pieces, dropout).
    ``layer_norm`` is the BatchNorm-free normalisation WGAN-GP allows in a critic.
    ``minibatch_kernels`` B > 0 inserts minibatch discrimination (Salimans et al. 2016; B kernels
    of dimension ``minibatch_kernel_dim``) before the last Linear; the features of
    ``features_and_score`` stay the last hidden layer, before it. 0 (default) leaves it out.
    ``input_scale`` multiplies the input first (the Unrolled GAN ring notebook's 1/4, which brings the
    radius-2 ring to about [-0.5, 0.5]); ``init``/``init_gain``, ``equalized_lr``/``lr_multiplier`` as in
    :class:`MLPGenerator`.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        hidden: Sequence[int] = (512, 256),
        activation: str = "leaky_relu",
        dropout: float = 0.0,
        maxout_pieces: int = 5,
        layer_norm: bool = False,
        out_features: int = 1,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        input_scale: float = 1.0,
        init: str = "default",
        init_gain: float = 1.0,
        equalized_lr: bool = False,
        lr_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        self.in_shape, self.out_features, self.input_scale = tuple(in_shape), out_features, float(input_scale)
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(self.in_shape)
        for h in hidden:
            if activation == "maxout":
                layers.append(Maxout(width, h, maxout_pieces))
            else:
                layers += [make_linear(width, h, equalized_lr, lr_multiplier)] + ([nn.LayerNorm(h)] if layer_norm else [])
                layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        self.feature_dim = width
        head: list[nn.Module] = []  # the layers after the features: [minibatch discrimination,] Linear
        if minibatch_kernels > 0:
            head.append(MinibatchDiscrimination(width, minibatch_kernels, minibatch_kernel_dim))
            width = head[-1].out_features  # [f(x), o(x)]
        head.append(make_linear(width, out_features, equalized_lr, lr_multiplier))
        self.net = nn.Sequential(*layers, *head)  # flat, so the default keeps its state_dict keys
        self._head = len(head)
        apply_init_(self, init, init_gain)

    def _out(self, y: Tensor) -> Tensor:
        return y.squeeze(1) if self.out_features == 1 else y  # (B,) or (B, K)

    def _scaled(self, x: Tensor) -> Tensor:
        return x if self.input_scale == 1.0 else x * self.input_scale

    def forward(self, x: Tensor) -> Tensor:
        return self._out(self.net(self._scaled(x)))

    def features_and_score(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The last hidden layer (B, feature_dim) and the score (B,), from one pass."""
        h = self.net[: -self._head](self._scaled(x))
        return h, self._out(self.net[-self._head :](h))
