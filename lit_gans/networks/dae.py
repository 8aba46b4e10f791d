"""A denoising autoencoder of codes h (B, d) -> (B, d): the learned prior R of PPGN-h (Nguyen et al. 2017)."""

from collections.abc import Sequence

from torch import Tensor, nn

from lit_gans.networks.layers import make_activation


class CodeDAE(nn.Module):
    """h (B, dim) -> R(h) (B, dim), fully connected with a linear output (codes are unbounded).

    The paper's DAE of fc6 is 4096-2048-1024-500-1024-2048-4096 (seven fully connected layers, Section 3.3): its
    500-unit bottleneck suits a code near a low-dimensional manifold. Our default code, G's z, fills its whole
    space (N(0, I) or U[-1, 1]^d), so the configs keep the hidden widths >= dim.
    """

    def __init__(self, dim: int, hidden: Sequence[int] = (512, 512), activation: str = "relu") -> None:
        super().__init__()
        self.dim = dim
        layers: list[nn.Module] = []
        width = dim
        for h in hidden:
            layers += [nn.Linear(width, h), make_activation(activation)]
            width = h
        layers.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, h: Tensor) -> Tensor:
        if h.dim() != 2 or h.shape[1] != self.dim:
            raise ValueError(f"CodeDAE takes codes (B, {self.dim}), got {tuple(h.shape)}.")
        return self.net(h)
