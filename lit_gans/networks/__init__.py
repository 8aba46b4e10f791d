"""Generator and discriminator networks. They know nothing about training."""

from lit_gans.networks.affine import AffineGenerator
from lit_gans.networks.alae import MappedGenerator, MappingNetwork, PixelNorm
from lit_gans.networks.autoencoder import ConvAutoencoder, MLPAutoencoder
from lit_gans.networks.dae import CodeDAE
from lit_gans.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from lit_gans.networks.discogan import DiscoGANDiscriminator, DiscoGANGenerator
from lit_gans.networks.gpgan import BlendingCritic, BlendingGenerator
from lit_gans.networks.encoder import ConvEncoder, JointDiscriminator, MLPEncoder
from lit_gans.networks.improved import MinibatchDiscrimination, VirtualBatchNorm, VirtualBatchNormGenerator, reference_pass
from lit_gans.networks.infogan import InfoGANDiscriminator, InfoGANGenerator
from lit_gans.networks.lapgan import (
    ClassPlane,
    LaplacianLevelDiscriminator,
    LaplacianLevelGenerator,
    LaplacianPyramidGenerator,
    OneHotConditioned,
)
from lit_gans.networks.layers import BatchNormStatistics, Maxout, has_batch_norm
from lit_gans.networks.mlp import MLPDiscriminator, MLPGenerator
from lit_gans.networks.pix2pix import PatchDiscriminator, UNetGenerator, receptive_field
from lit_gans.networks.resnet import ResnetGenerator
from lit_gans.networks.shift import ParallelLineGenerator
from lit_gans.networks.stackgan import (
    ConditioningAugmentation,
    StackGANDiscriminator,
    StackGANStage1Generator,
    StackGANStage2Generator,
)
from lit_gans.networks.vaegan import VAEGANDecoder, VAEGANDiscriminator, VAEGANEncoder

__all__ = [
    "BlendingCritic",
    "BlendingGenerator",
    "MappedGenerator",
    "MappingNetwork",
    "PixelNorm",
    "ParallelLineGenerator",
    "AffineGenerator",
    "ConditioningAugmentation",
    "CodeDAE",
    "ConvAutoencoder",
    "ConvEncoder",
    "JointDiscriminator",
    "MLPEncoder",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DiscoGANDiscriminator",
    "DiscoGANGenerator",
    "InfoGANDiscriminator",
    "InfoGANGenerator",
    "ClassPlane",
    "LaplacianLevelDiscriminator",
    "LaplacianLevelGenerator",
    "LaplacianPyramidGenerator",
    "OneHotConditioned",
    "MLPAutoencoder",
    "MLPDiscriminator",
    "MinibatchDiscrimination",
    "MLPGenerator",
    "BatchNormStatistics",
    "Maxout",
    "PatchDiscriminator",
    "ResnetGenerator",
    "StackGANDiscriminator",
    "StackGANStage1Generator",
    "StackGANStage2Generator",
    "UNetGenerator",
    "receptive_field",
    "VirtualBatchNorm",
    "VirtualBatchNormGenerator",
    "VAEGANDecoder",
    "VAEGANDiscriminator",
    "VAEGANEncoder",
    "has_batch_norm",
    "reference_pass",
]
