"""StackGAN networks (Zhang et al. 2017): conditioning augmentation, the Stage-I and Stage-II generators and the
conditional discriminator of both stages. They know nothing about training (`lit_gans.models.stackgan` does).

Every network reads a *condition*: a text embedding φ_t (B, phi_dim) float, e.g. the authors' char-CNN-RNN
embeddings (phi_dim 1024), or class labels (B,) int64 when built with ``num_classes`` > 0, which a learned
``nn.Embedding(num_classes, phi_dim)`` turns into φ (our MNIST setting; the text encoder of the paper is fixed and
pretrained, a label embedding is learned with the network that owns it).

Layer by layer as the authors' PyTorch code (``code/model.py``): nearest-neighbour ×2 upsampling + 3×3 conv + BN +
ReLU blocks in G, 4×4 stride-2 convs + BN + LeakyReLU(0.2) in D (no BN on D's first layer), residual blocks of two
3×3 convs in Stage-II, N(0, 0.02) init. Sizes are parameters so that 14 → 28 px MNIST and 64 → 256 px CUB share
them.
"""

import math

import torch
from torch import Tensor, nn

from lit_gans.networks.layers import dcgan_init_

CA_ACTIVATIONS = ("relu", "leaky_relu", "none")


class ConditionInput(nn.Module):
    """The condition as the vector φ (B, phi_dim): class labels through a learned embedding (``num_classes`` > 0),
    or a precomputed embedding passed through, its shape checked."""

    def __init__(self, phi_dim: int, num_classes: int = 0) -> None:
        super().__init__()
        self.phi_dim, self.num_classes = phi_dim, num_classes
        self.embed = nn.Embedding(num_classes, phi_dim) if num_classes > 0 else None

    def forward(self, condition: Tensor) -> Tensor:
        if self.embed is not None:
            if condition.dim() != 1 or condition.is_floating_point():
                raise ValueError(f"This network is conditioned on class labels (num_classes={self.num_classes}): it takes "
                                 f"(B,) int64 labels, got a {tuple(condition.shape)} {condition.dtype} tensor. For text "
                                 "embeddings build it with num_classes=0 (model.condition=embedding).")
            return self.embed(condition)
        if condition.dim() != 2 or condition.shape[1] != self.phi_dim or not condition.is_floating_point():
            raise ValueError(f"This network takes (B, {self.phi_dim}) float condition embeddings (phi_dim={self.phi_dim}), "
                             f"got a {tuple(condition.shape)} {condition.dtype} tensor. Set model.phi_dim to the "
                             "embedding file's last dimension, or num_classes > 0 for class labels.")
        return condition


class ConditioningAugmentation(nn.Module):
    """φ -> (ĉ, μ(φ), log σ²(φ)) (Zhang et al. 2017, Section 3.1): a fully connected layer gives μ and the log of
    the diagonal variance; ĉ = μ + σ ⊙ ε, ε ~ N(0, I), by reparameterisation, so a few captions become a smooth
    neighbourhood of conditions. ``activation`` after the layer: "relu" as the authors' PyTorch code (``CA_NET``),
    "leaky_relu" as their TensorFlow code, "none" the plain affine map. ``eps`` may be given (tests, sampling with
    a seeded generator)."""

    def __init__(self, phi_dim: int, c_dim: int, activation: str = "relu") -> None:
        super().__init__()
        if activation not in CA_ACTIVATIONS:
            raise ValueError(f"ca_activation must be one of {CA_ACTIVATIONS}, got {activation!r}.")
        self.c_dim = c_dim
        self.fc = nn.Linear(phi_dim, 2 * c_dim)
        self.act = {"relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(0.2), "none": nn.Identity()}[activation]

    def forward(self, phi: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        mean, log_var = self.act(self.fc(phi)).chunk(2, dim=1)  # (B, c_dim) each
        eps = torch.randn_like(mean) if eps is None else eps
        return mean + (0.5 * log_var).exp() * eps, mean, log_var


def up_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """×2 nearest upsampling, 3×3 conv, BN, ReLU (the authors' ``upBlock``)."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(True))


class ResBlock(nn.Module):
    """x + (3×3 conv, BN, ReLU, 3×3 conv, BN)(x), then ReLU (He et al. 2016; the authors' ``ResBlock``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(True),
                                   nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.block(x))


def _doublings(small: int, large: int, what: str) -> int:
    ratio = large / small
    n = round(math.log2(ratio)) if ratio >= 1 else -1
    if n < 0 or small * 2**n != large:
        raise ValueError(f"{what}: {large} px must be {small} px times a power of two; choose sizes like 7 -> 14 -> 28 "
                         "(MNIST) or 4 -> 64 -> 256 (CUB).")
    return n


class StackGANStage1Generator(nn.Module):
    """G0(z, φ) -> (s0, μ, log σ²) (Section 3.2): [z, ĉ0] through a fully connected layer to a
    ``base_channels`` × start_size² map (BN, ReLU), ×2 upsampling blocks halving the channels up to
    ``image_size``, a 3×3 conv to ``channels`` and tanh. CUB: z 100, c 128, 1024 × 4² -> 64 px."""

    def __init__(self, latent_dim: int = 100, phi_dim: int = 1024, c_dim: int = 128, num_classes: int = 0,
                 base_channels: int = 1024, start_size: int = 4, image_size: int = 64, channels: int = 3,
                 ca_activation: str = "relu") -> None:
        super().__init__()
        n_up = _doublings(start_size, image_size, "StackGAN Stage-I image_size vs start_size")
        if base_channels % 2**n_up:
            raise ValueError(f"base_channels={base_channels} must be divisible by 2^{n_up} (halved at each upsampling).")
        self.latent_dim, self.image_size, self.channels = latent_dim, image_size, channels
        self.start = (base_channels, start_size)
        self.condition = ConditionInput(phi_dim, num_classes)
        self.ca = ConditioningAugmentation(phi_dim, c_dim, ca_activation)
        self.fc = nn.Sequential(nn.Linear(latent_dim + c_dim, base_channels * start_size**2, bias=False),
                                nn.BatchNorm1d(base_channels * start_size**2), nn.ReLU(True))
        self.up = nn.Sequential(*(up_block(base_channels // 2**i, base_channels // 2 ** (i + 1)) for i in range(n_up)))
        self.to_image = nn.Sequential(nn.Conv2d(base_channels // 2**n_up, channels, 3, 1, 1, bias=False), nn.Tanh())
        dcgan_init_(self)

    def forward(self, z: Tensor, condition: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        c_hat, mean, log_var = self.ca(self.condition(condition), eps)
        h = self.fc(torch.cat([z, c_hat], dim=1)).view(len(z), self.start[0], self.start[1], self.start[1])
        return self.to_image(self.up(h)), mean, log_var  # (B, C, image_size, image_size), (B, c_dim) x 2


class StackGANStage2Generator(nn.Module):
    """G(s0, φ) -> (s, μ, log σ²) (Section 3.3): no noise (s0 carries it); a downsampling encoder of the
    Stage-I image (3×3 conv + ReLU, then ``n_down`` 4×4 stride-2 convs + BN + ReLU doubling the channels), ĉ
    spatially replicated and concatenated, a 3×3 joint conv, ``n_residual`` residual blocks and ×2 upsampling
    blocks halving the channels up to ``image_size``, 3×3 conv, tanh. Its own conditioning augmentation (the
    authors' ``STAGE2_G.ca_net``). CUB: 64 -> 16 (n_down 2, base 128 -> 512 channels), 4 residual blocks, 256 px."""

    def __init__(self, phi_dim: int = 1024, c_dim: int = 128, num_classes: int = 0, base_channels: int = 128,
                 in_size: int = 64, image_size: int = 256, channels: int = 3, n_down: int = 2, n_residual: int = 4,
                 ca_activation: str = "relu") -> None:
        super().__init__()
        if in_size % 2**n_down:
            raise ValueError(f"StackGAN Stage-II: the {in_size} px Stage-I image cannot be halved {n_down} times (n_down).")
        n_up = n_down + _doublings(in_size, image_size, "StackGAN Stage-II image_size vs in_size")
        width = base_channels * 2**n_down
        if width % 2**n_up:
            raise ValueError(f"base_channels * 2^n_down = {width} must be divisible by 2^{n_up} (halved at each upsampling).")
        self.in_size, self.image_size, self.channels = in_size, image_size, channels
        self.condition = ConditionInput(phi_dim, num_classes)
        self.ca = ConditioningAugmentation(phi_dim, c_dim, ca_activation)
        down: list[nn.Module] = [nn.Conv2d(channels, base_channels, 3, 1, 1, bias=False), nn.ReLU(True)]
        for i in range(n_down):
            down += [nn.Conv2d(base_channels * 2**i, base_channels * 2 ** (i + 1), 4, 2, 1, bias=False),
                     nn.BatchNorm2d(base_channels * 2 ** (i + 1)), nn.ReLU(True)]
        self.encoder = nn.Sequential(*down)
        self.joint = nn.Sequential(nn.Conv2d(width + c_dim, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True))
        self.residual = nn.Sequential(*(ResBlock(width) for _ in range(n_residual)))
        self.up = nn.Sequential(*(up_block(width // 2**i, width // 2 ** (i + 1)) for i in range(n_up)))
        self.to_image = nn.Sequential(nn.Conv2d(width // 2**n_up, channels, 3, 1, 1, bias=False), nn.Tanh())
        dcgan_init_(self)

    def forward(self, stage1: Tensor, condition: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        if tuple(stage1.shape[1:]) != (self.channels, self.in_size, self.in_size):
            raise ValueError(f"Stage-II reads ({self.channels}, {self.in_size}, {self.in_size}) Stage-I images, got "
                             f"{tuple(stage1.shape[1:])}: its in_size must be the Stage-I generator's image_size.")
        c_hat, mean, log_var = self.ca(self.condition(condition), eps)
        h = self.encoder(stage1)  # (B, width, in_size / 2^n_down, ...)
        h = self.joint(torch.cat([h, c_hat[:, :, None, None].expand(-1, -1, *h.shape[2:])], dim=1))
        return self.to_image(self.up(self.residual(h))), mean, log_var


class StackGANDiscriminator(nn.Module):
    """D(x, φ) -> logits (B,) of both stages (Sections 3.2-3.3): ``n_down`` 4×4 stride-2 convs (no BN on the first,
    then BN; LeakyReLU 0.2) doubling from ``base_channels``; if that ends wider than 8 × base, 3×3 convs halve it
    back (the authors' Stage-II D: 256 px -> 4², 32·64 -> 16·64 -> 8·64 channels). The condition is compressed to
    ``cond_dim`` (N_d = 128) by a fully connected layer (+ LeakyReLU; a label embedding for class labels),
    replicated over the final map and concatenated; a 3×3 conv (BN, LeakyReLU) and a conv over the whole map give
    the logit. No sigmoid: the losses take logits (the authors' sigmoid + BCE is the same loss)."""

    def __init__(self, image_size: int = 64, channels: int = 3, base_channels: int = 64, n_down: int = 4,
                 phi_dim: int = 1024, cond_dim: int = 128, num_classes: int = 0) -> None:
        super().__init__()
        self.image_size, self.channels = image_size, channels
        layers: list[nn.Module] = []
        size, width = image_size, channels
        for i in range(n_down):
            out = base_channels * 2**i
            layers += [nn.Conv2d(width, out, 4, 2, 1, bias=False), *([nn.BatchNorm2d(out)] if i else []), nn.LeakyReLU(0.2, True)]
            size, width = (size + 2 - 4) // 2 + 1, out
        if size < 1:
            raise ValueError(f"StackGAN D: {image_size} px cannot be halved {n_down} times; lower n_down.")
        while width > base_channels * 8:
            layers += [nn.Conv2d(width, width // 2, 3, 1, 1, bias=False), nn.BatchNorm2d(width // 2), nn.LeakyReLU(0.2, True)]
            width //= 2
        self.encode = nn.Sequential(*layers)
        self.final_size = size
        if num_classes > 0:
            self.compress: nn.Module = nn.Embedding(num_classes, cond_dim)
        else:
            self.compress = nn.Sequential(ConditionInput(phi_dim), nn.Linear(phi_dim, cond_dim), nn.LeakyReLU(0.2, True))
        self.num_classes = num_classes
        self.logits = nn.Sequential(nn.Conv2d(width + cond_dim, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width),
                                    nn.LeakyReLU(0.2, True), nn.Conv2d(width, 1, size))
        dcgan_init_(self)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        if tuple(x.shape[1:]) != (self.channels, self.image_size, self.image_size):
            raise ValueError(f"This StackGAN D scores ({self.channels}, {self.image_size}, {self.image_size}) images, got "
                             f"{tuple(x.shape[1:])}.")
        if self.num_classes and (condition.dim() != 1 or condition.is_floating_point()):
            raise ValueError(f"This D is conditioned on class labels: it takes (B,) int64 labels, got {tuple(condition.shape)}.")
        h = self.encode(x)  # (B, width, s, s)
        c = self.compress(condition)[:, :, None, None].expand(-1, -1, *h.shape[2:])
        return self.logits(torch.cat([h, c], dim=1)).flatten()  # (B,)
