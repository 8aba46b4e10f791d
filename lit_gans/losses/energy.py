"""Energy-based objectives with an autoencoder discriminator: EBGAN (Zhao et al. 2017) and
BEGAN (Berthelot et al. 2017).

Sign convention: the discriminator's output here is an *energy* of shape (B,), the per-sample
reconstruction error of its autoencoder: **lower means more real** (the opposite of logits and
critic scores) and it is non-negative. Every function returns a scalar to *minimise*, except
``reconstruction_energy`` (per-sample energies), ``began_k_update`` (the next k_t) and
``began_convergence`` (a measure to log).
"""

import torch
import torch.nn.functional as F
from torch import Tensor

ENERGY_NORMS = ("l2", "l1")


def reconstruction_energy(x: Tensor, recon: Tensor, norm: str = "l2") -> Tensor:
    """Per-sample reconstruction error (B,), averaged over every other dimension.

    ``"l2"``: mean squared error, EBGAN's D(x) = ‖Dec(Enc(x)) − x‖ (Zhao et al. 2017, Section 2.3)
    in its mean-squared form. ``"l1"``: mean absolute error, BEGAN's L(v) = |v − D(v)|^η with η = 1
    (Berthelot et al. 2017, Section 3.1; the paper also allows η = 2, i.e. "l2").
    A mean rather than a sum keeps the scale independent of the image size, so the EBGAN margin and
    the BEGAN losses are in units of "error per pixel".

    Example:
        >>> x, recon = torch.zeros(2, 1, 2, 2), torch.tensor([[1.0, 1, 1, 1], [2, 0, 0, 0]]).view(2, 1, 2, 2)
        >>> reconstruction_energy(x, recon).tolist(), reconstruction_energy(x, recon, "l1").tolist()
        ([1.0, 1.0], [1.0, 0.5])
    """
    if norm not in ENERGY_NORMS:
        raise ValueError(f"Unknown energy norm {norm!r}; choose one of {ENERGY_NORMS}.")
    if x.shape != recon.shape:
        raise ValueError(f"A reconstruction must have the input's shape: {tuple(recon.shape)} vs {tuple(x.shape)}.")
    diff = (recon - x).flatten(1)  # (B, D)
    return diff.pow(2).mean(1) if norm == "l2" else diff.abs().mean(1)


# ----- EBGAN ------------------------------------------------------------------------------------
def energy_margin_discriminator_loss(e_real: Tensor, e_fake: Tensor, margin: float) -> Tensor:
    """L_D = D(x) + [m − D(G(z))]⁺ (Zhao et al. 2017, eq. (1)), averaged over the batch.

    The hinge is applied to each fake sample's energy *before* averaging: a fake above the margin
    contributes nothing, however low the others are (a hinge on the batch-mean energy would let one
    very high-energy fake hide the rest). D lowers the energy of real data and raises that of fakes
    up to m.

    Example:
        >>> float(energy_margin_discriminator_loss(torch.tensor([0.5, 1.5]), torch.tensor([3.0, 0.0]), margin=2.0))
        2.0
    """
    return e_real.mean() + F.relu(margin - e_fake).mean()


def energy_generator_loss(e_fake: Tensor) -> Tensor:
    """L_G = D(G(z)) (Zhao et al. 2017, eq. (2)): G lowers the energy of its samples."""
    return e_fake.mean()


def pulling_away_term(codes: Tensor) -> Tensor:
    """EBGAN's repelling regularizer on a batch of encoder codes S (N, s) (Zhao et al. 2017, Section 2.4):

        f_PT(S) = 1/(N(N−1)) Σ_i Σ_{j≠i} (S_iᵀ S_j / (‖S_i‖ ‖S_j‖))²

    the mean *squared* cosine similarity over ordered pairs of distinct samples: 0 when the codes
    are pairwise orthogonal, 1 when they all point the same way (or opposite ways). Each code is
    normalised over its own features (dim 1), not over the batch; a zero code counts as orthogonal
    to everything. Added (weight 0.1) to the generator's loss on the codes of its batch, never to
    the discriminator's. A batch of one sample has no pairs: 0.

    Example:
        >>> round(float(pulling_away_term(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))), 4)  # cos² = ½ both ways
        0.5
    """
    n = codes.shape[0]
    if n < 2:
        return codes.new_zeros(())
    unit = F.normalize(codes.flatten(1), dim=1)  # (N, s), rows of norm 1
    cos2 = (unit @ unit.T).pow(2)  # (N, N)
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=codes.device)
    return cos2[off_diagonal].sum() / (n * (n - 1))


# ----- BEGAN ------------------------------------------------------------------------------------
def began_discriminator_loss(l_real: Tensor, l_fake: Tensor, k: Tensor | float | None = None) -> Tensor:
    """L_D = L(x) − k_t · L(G(z_D)) (Berthelot et al. 2017, Section 3.4).

    ``k`` is the equilibrium controller's state k_t in [0, 1] (see `began_k_update`); it is not
    differentiated. With k_t = 0 (the start) D only learns to reconstruct real data.
    """
    if k is None:
        raise ValueError("The BEGAN discriminator loss needs the controller state k_t, which the BEGAN model "
                         "keeps: use model=began (loss=began only works with it).")
    k = torch.as_tensor(k, dtype=l_real.dtype, device=l_real.device).detach()
    return l_real.mean() - k * l_fake.mean()


def began_generator_loss(l_fake: Tensor) -> Tensor:
    """L_G = L(G(z_G)) (Berthelot et al. 2017, Section 3.4)."""
    return l_fake.mean()


def began_k_update(k: Tensor | float, l_real: Tensor, l_fake: Tensor, gamma: float, lambda_k: float) -> Tensor:
    """k_{t+1} = clamp(k_t + λ_k (γ L(x) − L(G(z_G))), 0, 1) (Berthelot et al. 2017, Section 3.4).

    A proportional controller keeping E[L(G(z))] = γ E[L(x)]: when fakes are reconstructed too well
    (L(G(z)) < γ L(x)) k grows and D pushes their error up harder. Gradients never flow through it.
    The paper uses λ_k = 0.001 and k_0 = 0; γ is the diversity ratio (0.5 by default here).
    Computed in at least float32: steps of λ_k · (…) ~ 1e-5 vanish in a float16/bfloat16 k (mixed precision).

    Example:
        >>> round(float(began_k_update(0.1, torch.tensor([2.0]), torch.tensor([0.5]), 0.5, 0.01)), 4)
        0.105
    """
    dtype = torch.promote_types(torch.promote_types(l_real.dtype, l_fake.dtype), torch.float32)
    l_real, l_fake = l_real.detach().to(dtype).mean(), l_fake.detach().to(dtype).mean()
    k = torch.as_tensor(k, device=l_real.device).detach().to(dtype)
    return (k + lambda_k * (gamma * l_real - l_fake)).clamp(0.0, 1.0)


def began_convergence(l_real: Tensor, l_fake: Tensor, gamma: float) -> Tensor:
    """M_global = L(x) + |γ L(x) − L(G(z_G))| (Berthelot et al. 2017, Section 3.4.1): falls as the
    model converges (good reconstructions of real data, fakes at the equilibrium γ)."""
    l_real = l_real.mean()
    return l_real + (gamma * l_real - l_fake.mean()).abs()
