"""Small building blocks shared by the networks."""

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
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
    if init != "default" and any(isinstance(m, EqualizedLinear) for m in module.modules()):
        raise ValueError(f"init={init!r} does not apply to equalised-learning-rate layers (their N(0, 1) weights are "
                         "scaled at run time); use init=default with equalized_lr=true.")
    if init == "orthogonal":
        orthogonal_init_(module, gain)


def has_batch_norm(module: nn.Module) -> bool:
    """True if any submodule is a BatchNorm layer (incompatible with per-sample penalties)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


BATCH_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class BatchNormStatistics(nn.Module):
    """A second set of running statistics for the batch norms of ``network``, for a network that reads inputs from two
    distributions (MRGAN's G: prior codes z and encoder codes E(x)). Inside ``swapped_into(network)`` its layers use
    and (in training) update these buffers instead of their own, so each input distribution keeps its own statistics
    and eval mode normalises each as training did. Buffers, so checkpoints hold them and resume exactly."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.layers = [name for name, m in network.named_modules()
                       if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
        for name in self.layers:
            for buffer in BATCH_NORM_BUFFERS:
                self.register_buffer(self.buffer_name(name, buffer), getattr(network.get_submodule(name), buffer).clone())

    @staticmethod
    def buffer_name(layer: str, buffer: str) -> str:
        return f"{layer.replace('.', '__')}__{buffer}"

    def network_keys(self) -> dict[str, str]:
        """Our buffer name -> the network's state-dict key of the same statistic (e.g. ``net.1.running_mean``)."""
        return {self.buffer_name(layer, b): f"{layer}.{b}" for layer in self.layers for b in BATCH_NORM_BUFFERS}

    @contextmanager
    def swapped_into(self, network: nn.Module) -> Iterator[None]:
        layers = [network.get_submodule(name) for name in self.layers]
        own = [[getattr(layer, b) for b in BATCH_NORM_BUFFERS] for layer in layers]
        for name, layer in zip(self.layers, layers, strict=True):
            for b in BATCH_NORM_BUFFERS:
                setattr(layer, b, getattr(self, self.buffer_name(name, b)))  # batch norm updates these in place
        try:
            yield
        finally:
            for layer, buffers in zip(layers, own, strict=True):
                for b, tensor in zip(BATCH_NORM_BUFFERS, buffers, strict=True):
                    setattr(layer, b, tensor)


LEAKY_RELU_GAIN = math.sqrt(2 / (1 + 0.2**2))  # He's gain for LeakyReLU(0.2)


class EqualizedLinear(nn.Module):
    """A Linear layer with the equalised learning rate (Karras et al. 2018, ProGAN, Section 4.1), as ALAE's and
    StyleGAN's code build every layer (ALAE's ``lreq.Linear``): the parameter is drawn N(0, 1/lr_multiplier²) and
    scaled at run time by c = gain/√fan_in · lr_multiplier, the bias by lr_multiplier. At initialisation the layer is
    He-initialised; under Adam (invariant to the scale of a gradient) each weight then moves c·lr per step instead of
    lr: the learning rate is per-layer "equalised", and ``lr_multiplier`` (StyleGAN's lrmul; ALAE's F and D: 0.1)
    slows a network down by that factor. The state-dict keys are a Linear's (``weight``, ``bias``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, gain: float = LEAKY_RELU_GAIN,
                 lr_multiplier: float = 1.0) -> None:
        super().__init__()
        if lr_multiplier <= 0:
            raise ValueError(f"lr_multiplier must be > 0, got {lr_multiplier}.")
        self.in_features, self.out_features, self.lr_multiplier = in_features, out_features, float(lr_multiplier)
        self.weight_scale = gain / math.sqrt(in_features) * self.lr_multiplier
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / self.lr_multiplier)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        bias = self.bias * self.lr_multiplier if self.bias is not None else None
        return F.linear(x, self.weight * self.weight_scale, bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, lr_multiplier={self.lr_multiplier}"


def make_linear(in_features: int, out_features: int, equalized_lr: bool = False, lr_multiplier: float = 1.0) -> nn.Module:
    """``nn.Linear``, or an `EqualizedLinear` (with ``lr_multiplier``) when ``equalized_lr``."""
    if equalized_lr:
        return EqualizedLinear(in_features, out_features, lr_multiplier=lr_multiplier)
    if lr_multiplier != 1.0:
        raise ValueError("lr_multiplier scales an equalised-learning-rate layer; set equalized_lr=true as well.")
    return nn.Linear(in_features, out_features)
