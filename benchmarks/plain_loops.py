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


GENERATORS: dict[str, Callable[[], nn.Module]] = {
    "tutorial_dcgan": tutorial_dcgan_generator,
    "pytorch_gan_wgan_gp": pytorch_gan_generator,
    "wgan_paper_mlp": wgan_paper_mlp_generator,
}


def train_tutorial_dcgan(root: Path, tick: Tick) -> nn.Module:
    g, d = tutorial_dcgan_generator(), tutorial_dcgan_discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
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


LOOPS: dict[str, Callable[[Path, Tick], nn.Module]] = {
    "tutorial_dcgan": train_tutorial_dcgan,
    "pytorch_gan_wgan_gp": train_pytorch_gan_wgan_gp,
    "wgan_paper_mlp": train_wgan_paper_mlp,
}
