"""The regularisers of Mode Regularized GANs (Che et al. 2017, "Mode Regularized Generative Adversarial Networks").

An encoder E: x -> z joins the game. With ``d`` a distance in data space and D(·) = sigmoid(logit) the probability of
"real", the paper's Section 3.1 writes the two objectives the encoder and the generator minimise as

    T_E = E_x[λ1 d(x, G∘E(x)) + λ2 log D(G∘E(x))]                       (the regulariser)
    T_G = −E_z[log D(G(z))] + E_x[λ1 d(x, G∘E(x)) + λ2 log D(G∘E(x))]   (the non-saturating G loss + the regulariser)

and D plays the vanilla GAN (maximises E_x log D(x) + E_z log(1 − D(G(z)))).

**The sign of the mode term.** Taken literally, minimising ``+λ2 log D(G∘E(x))`` drives D(G∘E(x)) toward 0: it asks
G and E to make the reconstructions look *fake*. That contradicts the paper's own explanation (Section 3.2, the
mode regulariser): G∘E(x) of an example x of a minor mode lies near that mode, and the term is added "to encourage
G∘E(x) to move towards a nearby mode of the data generating distribution", i.e. toward where D says "real"; it is
also inconsistent with the generator's own term in the same line, −log D(G(z)), which is minimised to make G(z)
look real. The "log D" of T_E is the generator-side adversarial term written the way the paper writes G's
(up to its sign), so we implement it as the generator's non-saturating loss on G∘E(x):

    T_E = λ1 E_x d(x, G∘E(x)) − λ2 E_x log D(G∘E(x))      (what `mode_regularizer` returns)

Third-party ports copy "+ λ2 log D" (or even "+ λ2 D") literally and so push G∘E(x) toward "fake"; the tests check
the direction: one gradient step of E and G on this loss raises D(G∘E(x)), on the literal one lowers it.
The adversarial term is the configured objective's generator loss (``adversarial``; default −log D, the paper's),
so with another objective (least squares, Wasserstein) the term still pushes G∘E(x) toward "real" by that loss.

**MDGAN** (Che et al. 2017, Section 3.3 and Appendix A): the *manifold step* trains a discriminator D_m to separate
x from G∘E(x) (the objective's D loss with G∘E(x) as the fake) and G, E on ``mode_regularizer`` against D_m with
λ2 = 1 (λ d(x, G∘E(x)) − log D_m(G∘E(x))); the *diffusion step* trains a discriminator D_d to separate G∘E(x) (now the
"real" side) from G(z), and G on the objective's generator loss against D_d. Those are the same functions.

Every function returns a scalar to *minimise*; D returns logits (B,), higher meaning "more real".
"""

from collections.abc import Callable

from torch import Tensor

from lit_gans.losses.adversarial import non_saturating_generator_loss

DISTANCES = ("l2", "mse", "l1")


def reconstruction_distance(x: Tensor, reconstruction: Tensor, distance: str = "l2") -> Tensor:
    """d(x, G∘E(x)) per sample (B,): ``l2`` the squared Euclidean distance Σ_i (x_i − x̂_i)² over every pixel /
    coordinate (the paper's pixel-wise L2 metric), ``mse`` its mean over the coordinates (the same up to the factor
    of the data's size: λ1 then weighs a per-pixel error), ``l1`` Σ_i |x_i − x̂_i|.

    Example:
        >>> import torch
        >>> x, r = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])
        >>> [float(reconstruction_distance(x, r, d)[0]) for d in DISTANCES]
        [5.0, 2.5, 3.0]
    """
    if x.shape != reconstruction.shape:
        raise ValueError(f"x {tuple(x.shape)} and its reconstruction {tuple(reconstruction.shape)} must have one shape")
    diff = (x - reconstruction).flatten(1)
    if distance == "l2":
        return diff.pow(2).sum(1)
    if distance == "mse":
        return diff.pow(2).mean(1)
    if distance == "l1":
        return diff.abs().sum(1)
    raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}.")


def mode_regularizer(x: Tensor, reconstruction: Tensor, d_reconstruction: Tensor, lambda1: float, lambda2: float,
                     distance: str = "l2",
                     adversarial: Callable[[Tensor], Tensor] = non_saturating_generator_loss) -> Tensor:
    """The encoder's objective T_E (Che et al. 2017, Section 3.1), with the mode term's sign as the paper means it
    (see the module docstring): λ1 E_x d(x, G∘E(x)) + λ2 · adversarial(D(G∘E(x))), by default
    λ1 E_x d(x, G∘E(x)) − λ2 E_x log D(G∘E(x)).

    Args:
        x: real data (B, ...); reconstruction: G(E(x)) of the same shape (carrying G's and E's graph).
        d_reconstruction: D's logits of the reconstructions (B,).
        lambda1: weight of the geometric regulariser d; lambda2: weight of the mode regulariser.
        distance: "l2" (default), "mse" or "l1" (`reconstruction_distance`).
        adversarial: the generator-side loss on D's logits, minimised to look real (the configured objective's
            ``generator``; default −E log sigmoid(d)).

    Example:
        >>> import torch
        >>> x, r, d = torch.tensor([[1.0, 2.0]]), torch.zeros(1, 2), torch.zeros(1)  # D(G∘E(x)) = ½
        >>> round(float(mode_regularizer(x, r, d, lambda1=0.1, lambda2=1.0)), 4)  # 0.1·5 + log 2
        1.1931
    """
    geometric = reconstruction_distance(x, reconstruction, distance).mean()
    return lambda1 * geometric + lambda2 * adversarial(d_reconstruction)


def mode_regularized_generator_loss(d_fake: Tensor, x: Tensor, reconstruction: Tensor, d_reconstruction: Tensor,
                                    lambda1: float, lambda2: float, distance: str = "l2",
                                    adversarial: Callable[[Tensor], Tensor] = non_saturating_generator_loss) -> Tensor:
    """The generator's objective T_G (Che et al. 2017, Section 3.1): −E_z log D(G(z)) + T_E, i.e. ``adversarial``
    on D's logits of fresh samples G(z) (B,) plus `mode_regularizer`.

    Its gradient with respect to E's parameters is T_E's (the first term does not depend on E), so one step on T_G
    over G's and E's parameters together takes both of the paper's updates from the same weights.

    Example:
        >>> import torch
        >>> x, r, d = torch.tensor([[1.0, 2.0]]), torch.zeros(1, 2), torch.zeros(1)
        >>> round(float(mode_regularized_generator_loss(torch.zeros(1), x, r, d, 0.1, 1.0)), 4)  # log 2 + 1.1931
        1.8863
    """
    return adversarial(d_fake) + mode_regularizer(x, reconstruction, d_reconstruction, lambda1, lambda2, distance,
                                                  adversarial)
