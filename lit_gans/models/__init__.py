"""One LightningModule per variant family; ``base.AdversarialModule`` is the shared skeleton."""

from lit_gans.models.alae import ALAE
from lit_gans.models.base import AdversarialModule
from lit_gans.models.bigan import ALI, BiGAN
from lit_gans.models.conditional import ACGAN, CGAN
from lit_gans.models.cramer import CramerGAN
from lit_gans.models.cyclegan import CycleGAN, TranslationGAN
from lit_gans.models.discogan import DiscoGAN
from lit_gans.models.dualgan import DualGAN
from lit_gans.models.energy import BEGAN, EBGAN
from lit_gans.models.fgan import FGAN
from lit_gans.models.gan import DCGAN, GAN
from lit_gans.models.gpgan import BlendingGAN
from lit_gans.models.infogan import InfoGAN
from lit_gans.models.lapgan import LAPGAN
from lit_gans.models.mrgan import MDGAN, MRGAN
from lit_gans.models.pix2pix import Pix2Pix
from lit_gans.models.ppgn import PPGNDAE
from lit_gans.models.ppgn_joint import PPGNJoint
from lit_gans.models.stackgan import StackGAN
from lit_gans.models.unrolled import UnrolledGAN
from lit_gans.models.vae import VAE
from lit_gans.models.vaegan import VAEGAN
from lit_gans.models.wgan import WGAN, WGANGP

__all__ = [
    "ACGAN", "AdversarialModule", "ALAE", "ALI", "BEGAN", "BiGAN", "BlendingGAN", "CGAN", "CramerGAN", "CycleGAN",
    "DCGAN", "DiscoGAN", "DualGAN", "EBGAN", "FGAN", "GAN", "InfoGAN", "LAPGAN", "MDGAN", "MRGAN", "Pix2Pix",
    "PPGNDAE", "PPGNJoint", "StackGAN", "TranslationGAN", "UnrolledGAN", "VAE", "VAEGAN", "WGAN", "WGANGP",
]
