"""Small building blocks shared by the networks."""

from torch import Tensor, nn

ACTIVATIONS: dict[str, type[nn.Module] | None] = {
    "relu": nn.ReLU,
    "leaky_relu": None,  # built with slope 0.2 below (the DCGAN paper's slope)
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "none": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """``"relu" | "leaky_relu" | "elu" | "tanh" | "sigmoid" | "none"`` -> module."""
    if name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}.")
    return nn.LeakyReLU(0.2) if name == "leaky_relu" else ACTIVATIONS[name]()


class Maxout(nn.Module):
    """Maxout unit (Goodfellow et al. 2013): max over ``pieces`` affine maps, as in the
    original GAN's MNIST discriminator."""

    def __init__(self, in_features: int, out_features: int, pieces: int) -> None:
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        y = self.linear(x).view(-1, self.out_features, self.pieces)  # (B, out, pieces)
        return y.max(dim=-1).values


def dcgan_init_(module: nn.Module) -> None:
    """DCGAN weight init (Radford et al. 2016, Section 4): N(0, 0.02) weights; norm scales
    N(1, 0.02) and zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nn.GroupNorm, nn.LayerNorm)):
            if m.weight is not None:
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)


INITS = ("default", "orthogonal")


def orthogonal_init_(module: nn.Module, gain: float = 1.0) -> None:
    """Orthogonal weights (Saxe et al. 2014) scaled by ``gain`` and zero biases for every Linear:
    TF-slim's ``orthogonal_initializer(gain)`` with its zero bias, the init of the Unrolled GAN
    authors' ring notebook (gain 0.8)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.orthogonal_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def apply_init_(module: nn.Module, init: str, gain: float = 1.0) -> None:
    """``"default"`` keeps PyTorch's initialisation; ``"orthogonal"`` applies :func:`orthogonal_init_`."""
    if init not in INITS:
        raise ValueError(f"Unknown init {init!r}; choose one of {INITS}.")
    if init == "orthogonal":
        orthogonal_init_(module, gain)


def has_batch_norm(module: nn.Module) -> bool:
    """True if any submodule is a BatchNorm layer (incompatible with per-sample penalties)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
