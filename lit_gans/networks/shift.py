"""The generator of the WGAN paper's Example 1 (Arjovsky et al. 2017): g_θ(z) = (θ, z), a vertical
line whose only parameter is its horizontal shift θ."""

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class ParallelLineGenerator(nn.Module):
    """z (B, 1) in [-1, 1] -> (θ, (z + 1) / 2) (B, 2) with a single learnable θ.

    The paper draws Z ~ U[0, 1]; the models' uniform prior is U[-1, 1] (``latent_distribution:
    uniform``), so z is mapped affinely onto [0, 1] and the samples are exactly P_θ of Example 1.
    """

    def __init__(self, latent_dim: int = 1, out_shape: Sequence[int] = (2,), theta: float = 1.0) -> None:
        super().__init__()
        if latent_dim != 1 or tuple(out_shape) != (2,):
            raise ValueError(f"ParallelLineGenerator maps z (B, 1) to points (B, 2): set model.latent_dim=1 and use "
                             f"data=parallel_lines, got latent_dim={latent_dim}, out_shape={tuple(out_shape)}.")
        self.theta = nn.Parameter(torch.tensor(float(theta)))

    def forward(self, z: Tensor) -> Tensor:
        height = (z + 1) / 2  # (B, 1) in [0, 1]
        return torch.cat([self.theta.expand_as(height), height], dim=1)  # (B, 2)
