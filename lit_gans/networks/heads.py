"""Heads on discriminator features: InfoGAN's Q network and AC-GAN's class head."""

from torch import Tensor, nn

from lit_gans.networks.layers import dcgan_init_

Q_INITS = ("default", "normal")


class QHead(nn.Module):
    """Q(c | x) of InfoGAN (Chen et al. 2016, Appendix C: FC 128-BN-lReLU, then the outputs) on
    discriminator features (B, in_features).

    Returns the categorical logits of all categorical codes side by side (B, sum(categories)),
    the means (B, num_continuous) of the factored Gaussian over continuous codes, and their log
    variances (B, num_continuous) or None when the variance is fixed to 1 (the paper's MNIST
    setting: "simply treating it as a factored Gaussian is sufficient").

    ``leaky_slope``: 0.1 (the paper's Table 1) or 0.01 (the authors' code). ``init``: "default"
    (PyTorch's) or "normal" (N(0, 0.02) weights, N(1, 0.02) BN scales: the authors' code).
    """

    def __init__(self, in_features: int, categories: list[int], num_continuous: int, hidden: int = 128,
                 learn_variance: bool = False, leaky_slope: float = 0.1, init: str = "default") -> None:
        if init not in Q_INITS:
            raise ValueError(f"Q's init must be one of {Q_INITS}, got {init!r}.")
        super().__init__()
        self.categories, self.num_continuous, self.learn_variance = list(categories), num_continuous, learn_variance
        out = sum(self.categories) + num_continuous * (2 if learn_variance else 1)
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden, bias=False), nn.BatchNorm1d(hidden), nn.LeakyReLU(leaky_slope, True),
            nn.Linear(hidden, out),
        )
        if init == "normal":
            dcgan_init_(self)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        out = self.net(features)
        k, c = sum(self.categories), self.num_continuous
        log_var = out[:, k + c:] if self.learn_variance else None
        return out[:, :k], out[:, k:k + c], log_var
