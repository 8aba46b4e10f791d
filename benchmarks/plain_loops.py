"""The plain PyTorch scripts `quality_per_minute.py` races our defaults against, written as people write them.

Each is the whole training program of a common reference, with its own networks, optimiser settings and data
pipeline (torchvision MNIST through ``ToTensor`` + ``Normalize(0.5, 0.5)`` and a shuffling ``DataLoader``,
as the tutorials do), and no framework:

- ``tutorial_dcgan``: the ~40-line DCGAN of the common tutorials for 28 px: G z (100, N(0, I)) -> Linear to
  256 x 7 x 7 -> 128 x 14 x 14 -> 1 x 28 x 28 with BatchNorm and ReLU, tanh; D 1 -> 64 -> 128 (+BN) x 7 x 7 ->
  Linear, LeakyReLU(0.2); N(0, 0.02) init; Adam(2e-4, β (0.5, 0.999)); batch 64; the non-saturating loss with
  BCE-with-logits; one G forward per batch serves the D step (detached) and the G step.
- ``pytorch_gan_wgan_gp``: the PyTorch-GAN collection's ``wgan_gp.py`` setting: MLP G 100 -> 128 -> 256 -> 512
  -> 1024 -> 784 (BatchNorm1d(·, 0.8) from the second block, LeakyReLU(0.2), tanh), MLP critic 784 -> 512 -> 256
  -> 1 (LeakyReLU(0.2)), Adam(2e-4, β (0.5, 0.999)), batch 64, n_critic 5, λ = 10; the critic steps on every
  batch and G on every 5th (``i % n_critic == 0``). One change from that script: the critic's fakes are drawn
  under ``no_grad`` (the script back-propagates the critic loss into G too and then discards it), which only
  makes this baseline faster.
- ``wgan_paper_mlp``: the WGAN paper's MLP generator (4 hidden layers of 512 ReLU units; Figures 3 and 7) against
  a DCGAN critic without sigmoid (the paper keeps its BatchNorm), RMSProp(5e-5), c = 0.01, n_critic = 5, batch 64.
- ``tutorial_lsgan``: ``tutorial_dcgan`` with the least-squares loss, as LSGAN tutorials write it (D's raw output,
  MSE to targets 1 / 0, G to 1: Mao et al.'s a, b, c = 0, 1, 1).
- ``pytorch_gan_infogan``: the PyTorch-GAN collection's ``infogan.py`` for 28 px: G (62 N(0, I) noise + one-hot
  of 10 classes + 2 codes U(-1, 1)) -> Linear to 128 x 7 x 7 -> BN, two nearest-upsample + 3x3 conv blocks
  (BatchNorm(·, 0.8), LeakyReLU(0.2)) -> 3x3 conv, tanh; D four stride-2 3x3 conv blocks 16-32-64-128 (LeakyReLU,
  Dropout2d(0.25), BatchNorm(·, 0.8) from the second) -> 128 x 2 x 2, with linear heads for validity, the class
  logits and the codes; least-squares adversarial loss, λ_cat 1, λ_con 0.1, Adam(2e-4, β (0.5, 0.999)) for G, D
  and the info step (which updates G and all of D), batch 64; N(0, 0.02) init. One change from that script: its
  class head ends in a softmax before ``CrossEntropyLoss`` (a double softmax); ours gives the logits, which only
  makes this baseline stronger.

A loop calls ``tick(G, d_steps, g_steps)`` after every batch; the caller snapshots G there and stops the loop
(returns False) when the budget is spent.
"""

from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

LATENT_DIM = 100
INFOGAN_NOISE, INFOGAN_CLASSES, INFOGAN_CODES = 62, 10, 2
Tick = Callable[[nn.Module, int, int], bool]  # (G, d steps so far, g steps so far) -> keep going?


def mnist_loader(root: str | Path, batch_size: int) -> DataLoader:
    """MNIST in [-1, 1] as the tutorials load it (PIL -> tensor per image, in the main process)."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    data = datasets.MNIST(str(root), train=True, download=False, transform=transform)
    return DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True)


def normal_init_(module: nn.Module) -> None:
    """The DCGAN initialisation: conv / linear weights N(0, 0.02), BatchNorm scale N(1, 0.02), shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def tutorial_dcgan_generator() -> nn.Module:
    g = nn.Sequential(
        nn.Linear(LATENT_DIM, 256 * 7 * 7, bias=False), nn.BatchNorm1d(256 * 7 * 7), nn.ReLU(True),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh(),
    )
    normal_init_(g)
    return g


def tutorial_dcgan_discriminator() -> nn.Module:
    d = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1),
    )
    normal_init_(d)
    return d


def pytorch_gan_generator() -> nn.Module:
    def block(n_in: int, n_out: int, normalize: bool = True) -> list[nn.Module]:
        return [nn.Linear(n_in, n_out), *([nn.BatchNorm1d(n_out, 0.8)] if normalize else []), nn.LeakyReLU(0.2, True)]

    return nn.Sequential(*block(LATENT_DIM, 128, normalize=False), *block(128, 256), *block(256, 512),
                         *block(512, 1024), nn.Linear(1024, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))


def pytorch_gan_critic() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.LeakyReLU(0.2, True), nn.Linear(512, 256),
                         nn.LeakyReLU(0.2, True), nn.Linear(256, 1))


def wgan_paper_mlp_generator() -> nn.Module:
    layers: list[nn.Module] = []
    width = LATENT_DIM
    for _ in range(4):
        layers += [nn.Linear(width, 512), nn.ReLU(True)]
        width = 512
    return nn.Sequential(*layers, nn.Linear(512, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))


def infogan_generator() -> nn.Module:
    g = nn.Sequential(
        nn.Linear(INFOGAN_NOISE + INFOGAN_CLASSES + INFOGAN_CODES, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)),
        nn.BatchNorm2d(128), nn.Upsample(scale_factor=2),
        nn.Conv2d(128, 128, 3, 1, 1), nn.BatchNorm2d(128, 0.8), nn.LeakyReLU(0.2, True), nn.Upsample(scale_factor=2),
        nn.Conv2d(128, 64, 3, 1, 1), nn.BatchNorm2d(64, 0.8), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 1, 3, 1, 1), nn.Tanh(),
    )
    normal_init_(g)
    return g


class InfoGANDiscriminator(nn.Module):
    """PyTorch-GAN's InfoGAN D for 28 px: a conv trunk and three linear heads (validity, class logits, codes)."""

    def __init__(self) -> None:
        super().__init__()

        def block(n_in: int, n_out: int, bn: bool = True) -> list[nn.Module]:
            return [nn.Conv2d(n_in, n_out, 3, 2, 1), nn.LeakyReLU(0.2, True), nn.Dropout2d(0.25),
                    *([nn.BatchNorm2d(n_out, 0.8)] if bn else [])]

        self.trunk = nn.Sequential(*block(1, 16, bn=False), *block(16, 32), *block(32, 64), *block(64, 128),
                                   nn.Flatten())  # 28 -> 14 -> 7 -> 4 -> 2
        self.adv, self.aux, self.latent = (nn.Linear(128 * 2 * 2, n) for n in (1, INFOGAN_CLASSES, INFOGAN_CODES))
        normal_init_(self)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        h = self.trunk(x)
        return self.adv(h), self.aux(h), self.latent(h)


def gaussian_noise(n: int, gen: torch.Generator | None = None) -> Tensor:
    return torch.randn(n, LATENT_DIM, generator=gen)


def infogan_noise(n: int, gen: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(G's input, the class labels, the continuous codes): z ~ N(0, I), classes uniform, codes U(-1, 1)."""
    labels = torch.randint(0, INFOGAN_CLASSES, (n,), generator=gen)
    codes = torch.rand(n, INFOGAN_CODES, generator=gen) * 2 - 1
    z = torch.randn(n, INFOGAN_NOISE, generator=gen)
    return torch.cat([z, F.one_hot(labels, INFOGAN_CLASSES).float(), codes], 1), labels, codes


def infogan_noise_for_class(n: int, k: int, gen: torch.Generator | None = None) -> Tensor:
    """`infogan_noise` with every sample's class set to k (the script's categorical code, for code accuracy)."""
    x, _, _ = infogan_noise(n, gen)
    x[:, INFOGAN_NOISE:INFOGAN_NOISE + INFOGAN_CLASSES] = F.one_hot(torch.full((n,), k), INFOGAN_CLASSES).float()
    return x


# script -> G's input for n samples of code value k, for the scripts with a categorical code
CLASS_NOISE: dict[str, Callable[[int, int, torch.Generator], Tensor]] = {
    "pytorch_gan_infogan": infogan_noise_for_class,
}

# script -> (its generator, G's input for n samples): what the scorer needs to sample a snapshot
GENERATORS: dict[str, tuple[Callable[[], nn.Module], Callable[[int, torch.Generator], Tensor]]] = {
    "tutorial_dcgan": (tutorial_dcgan_generator, gaussian_noise),
    "tutorial_lsgan": (tutorial_dcgan_generator, gaussian_noise),
    "pytorch_gan_wgan_gp": (pytorch_gan_generator, gaussian_noise),
    "wgan_paper_mlp": (wgan_paper_mlp_generator, gaussian_noise),
    "pytorch_gan_infogan": (infogan_generator, lambda n, gen: infogan_noise(n, gen)[0]),
}


def train_tutorial_dcgan(root: Path, tick: Tick, criterion: nn.Module | None = None) -> nn.Module:
    g, d = tutorial_dcgan_generator(), tutorial_dcgan_discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = criterion or nn.BCEWithLogitsLoss()
    steps = 0
    while True:
        for real, _ in mnist_loader(root, 64):
            n = len(real)
            ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
            fake = g(torch.randn(n, LATENT_DIM))
            opt_d.zero_grad()
            loss_d = bce(d(real), ones) + bce(d(fake.detach()), zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = bce(d(fake), ones)
            loss_g.backward()
            opt_g.step()
            steps += 1
            if not tick(g, steps, steps):
                return g


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    alpha = torch.rand(len(real), 1, 1, 1)
    x = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def train_pytorch_gan_wgan_gp(root: Path, tick: Tick) -> nn.Module:
    g, d = pytorch_gan_generator(), pytorch_gan_critic()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_steps = g_steps = 0
    while True:
        for i, (real, _) in enumerate(mnist_loader(root, 64)):
            z = torch.randn(len(real), LATENT_DIM)
            with torch.no_grad():
                fake = g(z)
            opt_d.zero_grad()
            loss_d = -d(real).mean() + d(fake).mean() + 10 * gradient_penalty(d, real, fake)
            loss_d.backward()
            opt_d.step()
            d_steps += 1
            if i % 5 == 0:
                opt_g.zero_grad()
                loss_g = -d(g(z)).mean()
                loss_g.backward()
                opt_g.step()
                g_steps += 1
            if not tick(g, d_steps, g_steps):
                return g


def train_wgan_paper_mlp(root: Path, tick: Tick) -> nn.Module:
    g = wgan_paper_mlp_generator()
    d = nn.Sequential(  # the DCGAN critic for 28 px, no sigmoid
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
        nn.Conv2d(128, 1, 7, 1, 0), nn.Flatten(),
    )
    normal_init_(d)
    opt_g = torch.optim.RMSprop(g.parameters(), lr=5e-5)
    opt_d = torch.optim.RMSprop(d.parameters(), lr=5e-5)
    d_steps = g_steps = 0
    while True:
        for i, (real, _) in enumerate(mnist_loader(root, 64)):
            with torch.no_grad():
                fake = g(torch.randn(len(real), LATENT_DIM))
            opt_d.zero_grad()
            loss_d = -d(real).mean() + d(fake).mean()
            loss_d.backward()
            opt_d.step()
            for p in d.parameters():
                p.data.clamp_(-0.01, 0.01)
            d_steps += 1
            if (i + 1) % 5 == 0:
                opt_g.zero_grad()
                loss_g = -d(g(torch.randn(len(real), LATENT_DIM))).mean()
                loss_g.backward()
                opt_g.step()
                g_steps += 1
            if not tick(g, d_steps, g_steps):
                return g


def train_tutorial_lsgan(root: Path, tick: Tick) -> nn.Module:
    return train_tutorial_dcgan(root, tick, criterion=nn.MSELoss())


def train_pytorch_gan_infogan(root: Path, tick: Tick) -> nn.Module:
    g, d = infogan_generator(), InfoGANDiscriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_info = torch.optim.Adam([*g.parameters(), *d.parameters()], lr=2e-4, betas=(0.5, 0.999))
    mse, ce = nn.MSELoss(), nn.CrossEntropyLoss()
    steps = 0
    while True:
        for real, _ in mnist_loader(root, 64):
            n = len(real)
            ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
            opt_g.zero_grad()
            fake = g(infogan_noise(n)[0])
            loss_g = mse(d(fake)[0], ones)
            loss_g.backward()
            opt_g.step()
            opt_d.zero_grad()
            loss_d = (mse(d(real)[0], ones) + mse(d(fake.detach())[0], zeros)) / 2
            loss_d.backward()
            opt_d.step()
            opt_info.zero_grad()
            noise, labels, codes = infogan_noise(n)
            _, class_logits, code_pred = d(g(noise))
            loss_info = ce(class_logits, labels) + 0.1 * mse(code_pred, codes)
            loss_info.backward()
            opt_info.step()
            steps += 1
            if not tick(g, steps, steps):
                return g


LOOPS: dict[str, Callable[[Path, Tick], nn.Module]] = {
    "tutorial_dcgan": train_tutorial_dcgan,
    "tutorial_lsgan": train_tutorial_lsgan,
    "pytorch_gan_infogan": train_pytorch_gan_infogan,
    "pytorch_gan_wgan_gp": train_pytorch_gan_wgan_gp,
    "wgan_paper_mlp": train_wgan_paper_mlp,
}
