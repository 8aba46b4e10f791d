"""Data modules: torchvision image sets, Stacked MNIST, folders of images, toy Gaussian mixtures, paired
image-to-image sets (the pix2pix folder layout, MNIST edges -> digits) and unpaired ones (the CycleGAN folder
layout, MNIST <-> MNIST-M), images with precomputed text embeddings (StackGAN's CUB / Oxford-102 layout), and
GP-GAN's blending pairs (photo composites offline, scene folders)."""

from lit_gans.data.batched import BatchedTensorDataset
from lit_gans.data.composites import BlendingFolderDataModule, PhotoCompositesDataModule
from lit_gans.data.errors import DatasetNotFoundError
from lit_gans.data.image_folder import ImageFolderDataModule
from lit_gans.data.images import TorchvisionDataModule
from lit_gans.data.mnist_edges import MNISTEdgesDataModule
from lit_gans.data.mnist_mnistm import MNISTMNISTMDataModule
from lit_gans.data.paired import Paired, PairedDataModule
from lit_gans.data.paths import resolve_data_root
from lit_gans.data.stacked_mnist import StackedMNISTDataModule
from lit_gans.data.text_embeddings import TextEmbeddingFolderDataModule
from lit_gans.data.toy import (
    TOY_DISTRIBUTIONS,
    GaussianMixture,
    GaussianMixture1D,
    Grid,
    MixturePairsDataModule,
    ParallelLine,
    Ring,
    ToyDataModule,
)
from lit_gans.data.unpaired import Unpaired, UnpairedDataModule

__all__ = [
    "ParallelLine",
    "TOY_DISTRIBUTIONS",
    "BatchedTensorDataset",
    "BlendingFolderDataModule",
    "DatasetNotFoundError",
    "GaussianMixture",
    "GaussianMixture1D",
    "Grid",
    "ImageFolderDataModule",
    "MNISTEdgesDataModule",
    "MNISTMNISTMDataModule",
    "MixturePairsDataModule",
    "Paired",
    "PairedDataModule",
    "PhotoCompositesDataModule",
    "Ring",
    "StackedMNISTDataModule",
    "TextEmbeddingFolderDataModule",
    "ToyDataModule",
    "TorchvisionDataModule",
    "Unpaired",
    "UnpairedDataModule",
    "resolve_data_root",
]
