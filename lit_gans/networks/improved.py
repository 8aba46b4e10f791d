"""Layers of "Improved Techniques for Training GANs" (Salimans et al. 2016).

``MinibatchDiscrimination`` (Section 3.2) lets D look at a whole batch, so a collapsed generator
(a batch of near-identical samples) is easy to tell apart from data. ``VirtualBatchNorm``
(Section 3.5) normalises each example with the statistics of a fixed reference batch and of the
example itself, so G's output for one z does not depend on the other z's of its batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """f(x) (B, A) -> [f(x), o(x)] (B, A + num_kernels) (Salimans et al. 2016, Section 3.2).

    With the learned tensor T ∈ R^{A×B×C} (B = ``num_kernels``, C = ``kernel_dim``):
    M_i = f(x_i)·T ∈ R^{B×C},  c_b(x_i, x_j) = exp(−‖M_{i,b} − M_{j,b}‖_1),
    o(x_i)_b = Σ_{j=1}^{n} c_b(x_i, x_j).

    The sum runs over the whole batch *including j = i*, as the paper writes it, so every
    o_b ≥ 1 and a batch of n identical samples gives o_b = n exactly. (The authors' released
    code excludes the self term; that shifts o by the constant 1, which the next linear layer's
    bias absorbs, so the two define the same family of discriminators.)

    The batch is whatever this layer is called on: the skeleton scores real and fake batches in
    separate calls, which is the paper's "computed separately for samples from the generator and
    from the training data". Cost and memory are O(n² · B · C).

    T ~ N(0, 0.05²), the scale of the authors' released code (the paper gives none); their code
    also reparametrises T with weight normalisation, a per-kernel bias and a data-dependent
    initialisation, which we leave out.
    """

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5, init_std: float = 0.05) -> None:
        super().__init__()
        self.in_features, self.num_kernels, self.kernel_dim = in_features, num_kernels, kernel_dim
        self.out_features = in_features + num_kernels
        self.T = nn.Parameter(torch.randn(in_features, num_kernels, kernel_dim) * init_std)  # (A, B, C)

    def forward(self, x: Tensor) -> Tensor:
        m = torch.einsum("na,abc->nbc", x, self.T)  # (n, B, C): M_i for every sample
        l1 = (m.unsqueeze(1) - m.unsqueeze(0)).abs().sum(-1)  # (n, n, B): ‖M_{i,b} − M_{j,b}‖_1
        o = torch.exp(-l1).sum(1)  # (n, B): Σ_j c_b(x_i, x_j), j = i included
        return torch.cat([x, o], dim=1)  # (n, A + B)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_kernels={self.num_kernels}, kernel_dim={self.kernel_dim}"


class VirtualBatchNorm(nn.Module):
    """Virtual batch normalisation (Salimans et al. 2016, Section 3.5), per feature of (B, F) or
    per channel of (B, C, H, W), with learned γ (ones) and β (zeros).

    Each example x is normalised with the statistics of a reference batch R (fixed once at the
    start of training) *combined with x itself*, so its output does not depend on the other
    examples of its batch: with N reference examples, per feature (for images the spatial mean of
    x's channel, i.e. each pixel weighs the same as a reference pixel)

        μ_x = (x + N·mean(R)) / (N + 1),   s_x = (x² + N·mean(R²)) / (N + 1),
        y = γ · (x − μ_x) / sqrt(s_x − μ_x² + eps) + β.

    The reference batch itself is normalised with its own statistics, as ordinary batch norm.

    Design. Inside a network the reference statistics are those of R's activations *at this
    layer*, which change with the parameters below it, so they are recomputed by a forward pass of
    R each time the parameters change (the paper's price: two forward passes per step). A layer in
    reference mode (``reference_mode = True``, or ``with reference_pass(net): net(r)`` for all the
    VBN layers of a network) stores mean(R) and mean(R²) of its input and normalises R with them;
    in normal mode it uses the stored statistics. The statistics keep their autograd graph, so in
    training the gradient flows through the reference pass too, as in the paper: run the reference
    pass in the same step as (and before) the pass it serves. Nothing is persisted (not a buffer,
    not in the state_dict): the reference batch itself, a fixed z_ref, is the model's business.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.ones(num_features))  # γ
        self.bias = nn.Parameter(torch.zeros(num_features))  # β
        self.reference_mode = False
        self.ref_mean: Tensor | None = None  # (F,) mean(R) of this layer's input
        self.ref_meansq: Tensor | None = None  # (F,) mean(R²)
        self.ref_size = 0  # N

    def _reduce_dims(self, x: Tensor) -> tuple[int, ...]:
        if x.dim() not in (2, 4) or x.shape[1] != self.num_features:
            raise ValueError(f"VirtualBatchNorm({self.num_features}) expects (B, {self.num_features}) or "
                             f"(B, {self.num_features}, H, W), got {tuple(x.shape)}")
        return (2, 3) if x.dim() == 4 else ()  # per example: spatial mean for images

    def _shape(self, v: Tensor, x: Tensor) -> Tensor:
        return v.view(1, -1, 1, 1) if x.dim() == 4 else v.view(1, -1)  # broadcast over (B, F[, H, W])

    def forward(self, x: Tensor, reference: Tensor | None = None) -> Tensor:
        """Normalise x (B, F) or (B, F, H, W). ``reference`` given: first take its statistics
        (the standalone use: ``vbn(x, reference=r)``)."""
        if reference is not None:
            self.set_reference(reference)
        if self.reference_mode:
            return self.set_reference(x)
        if self.ref_mean is None or self.ref_meansq is None:
            raise RuntimeError("VirtualBatchNorm has no reference statistics: run the reference batch first "
                               "(`with reference_pass(net): net(r)`, or `forward(x, reference=r)`).")
        dims = self._reduce_dims(x)
        new, old = 1.0 / (self.ref_size + 1), self.ref_size / (self.ref_size + 1)
        x_mean = x.mean(dims, keepdim=True) if dims else x  # (B, F[, 1, 1]): the example's own statistics
        x_meansq = (x * x).mean(dims, keepdim=True) if dims else x * x
        mean = new * x_mean + old * self._shape(self.ref_mean, x)
        meansq = new * x_meansq + old * self._shape(self.ref_meansq, x)
        return self._normalise(x, mean, meansq)

    def set_reference(self, r: Tensor) -> Tensor:
        """Store the statistics of the reference batch r (N, F[, H, W]); return r normalised with them."""
        dims = (0, *self._reduce_dims(r))
        self.ref_mean, self.ref_meansq, self.ref_size = r.mean(dims), (r * r).mean(dims), r.shape[0]
        return self._normalise(r, self._shape(self.ref_mean, r), self._shape(self.ref_meansq, r))

    def _normalise(self, x: Tensor, mean: Tensor, meansq: Tensor) -> Tensor:
        # var = E[x²] − E[x]² (clamped: rounding can make it slightly negative)
        var = (meansq - mean * mean).clamp_min(0.0)
        return (x - mean) / torch.sqrt(var + self.eps) * self._shape(self.weight, x) + self._shape(self.bias, x)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


@contextmanager
def reference_pass(module: nn.Module) -> Iterator[None]:
    """Put every ``VirtualBatchNorm`` in ``module`` in reference mode: ``with reference_pass(g): g(z_ref)``
    stores each layer's reference statistics (through the current parameters); afterwards each
    layer normalises with them."""
    layers = [m for m in module.modules() if isinstance(m, VirtualBatchNorm)]
    for m in layers:
        m.reference_mode = True
    try:
        yield
    finally:
        for m in layers:
            m.reference_mode = False


class VirtualBatchNormGenerator(nn.Module):
    """A generator whose BatchNorm layers become ``VirtualBatchNorm`` (Salimans et al. 2016, Section 3.5).

    Every ``BatchNorm1d``/``BatchNorm2d`` of ``generator`` is replaced by a VBN layer of the same width and
    eps; a reference batch z_ref of ``reference_size`` latents is drawn once (seeded, from the model's prior)
    and kept as a buffer, so checkpoints carry it. Each forward first passes z_ref through the network (every
    VBN layer takes its statistics from it, through the current parameters), then z: G(z)_i depends on
    z_i and z_ref only, never on the rest of its batch, at the paper's price of a second forward pass.
    For generators fed z alone (not InfoGAN's codes or class labels, whose reference values we'd have to invent).
    """

    def __init__(self, generator: nn.Module, reference_size: int = 64, latent_distribution: str = "normal", seed: int = 0) -> None:
        super().__init__()
        if reference_size < 2:
            raise ValueError(f"reference_size must be >= 2 (the reference batch's own statistics), got {reference_size}.")
        replaced = _swap_batch_norm(generator)
        if not replaced:
            raise ValueError(f"{type(generator).__name__} has no BatchNorm layer for virtual batch norm to replace; "
                             "build it with batch norm (e.g. batch_norm: true).")
        self.inner, self.num_vbn_layers = generator, replaced
        self.latent_dim, self.out_shape = generator.latent_dim, getattr(generator, "out_shape", None)
        gen = torch.Generator().manual_seed(seed)
        shape = (reference_size, generator.latent_dim)
        if latent_distribution == "uniform":
            z_ref = torch.rand(shape, generator=gen) * 2 - 1
        elif latent_distribution == "normal":
            z_ref = torch.randn(shape, generator=gen)
        else:
            raise ValueError(f"latent_distribution must be 'normal' or 'uniform', got {latent_distribution!r}.")
        self.register_buffer("z_ref", z_ref)  # (N, latent_dim)

    def forward(self, z: Tensor) -> Tensor:
        with reference_pass(self.inner):
            self.inner(self.z_ref)
        return self.inner(z)


def _swap_batch_norm(module: nn.Module) -> int:
    """Replace every BatchNorm1d/2d below ``module`` by a VirtualBatchNorm in place; return how many."""
    count = 0
    for name, child in module.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            setattr(module, name, VirtualBatchNorm(child.num_features, eps=child.eps))
            count += 1
        else:
            count += _swap_batch_norm(child)
    return count
