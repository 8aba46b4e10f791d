"""Feature networks F of the projection loss L(x, G(z)) = ‖G(z) − x‖² + λ_f ‖F(G(z)) − F(x)‖² (Zhu et al. 2016,
eq. (3)). The authors use AlexNet's conv4 on photos; digits get our shipped MNIST classifier's conv features
(`lit_gans.metrics.mnist_classifier`, trained on the digits themselves), other data a torchvision backbone from a
weights file the user has (offline: nothing is downloaded). Inputs are images in [-1, 1]; F is frozen."""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gans.metrics.mnist_classifier import load_mnist_classifier

# torchvision backbone -> how many layers of its ``features`` make the mid-level map (conv4 + ReLU in AlexNet,
# the authors' layer; conv4_3 + ReLU in VGG-16)
BACKBONE_LAYERS = {"alexnet": 10, "vgg16": 23}
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
MIN_SIDE = 64  # AlexNet's strides need about this much input


class MNISTFeatures(nn.Module):
    """The conv body of our MNIST classifier up to its second conv block: (B, 1, 28, 28) -> (B, 64, 4, 4)."""

    def __init__(self, weights: str | Path | None = None) -> None:
        super().__init__()
        classifier = load_mnist_classifier(weights)  # a missing file raises ClassifierWeightsError naming the fix
        self.body = classifier.body[:8].eval()  # conv-BN-ReLU-pool x 2
        self.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"The MNIST feature network reads 1x28x28 digits, got {tuple(x.shape[1:])}; use "
                             "feature=torchvision with a backbone's weights for other images, or feature=none.")
        return self.body(x.contiguous())

    def train(self, mode: bool = True) -> "MNISTFeatures":
        return super().train(False)  # BatchNorm keeps its running statistics


class BackboneFeatures(nn.Module):
    """A torchvision ImageNet backbone's mid-level features from ``weights`` (a state_dict file, e.g. torchvision's
    ``alexnet-owt-7be5be79.pth``): grey images are repeated to RGB, small ones upsampled to 64 px."""

    def __init__(self, weights: str | Path, arch: str = "alexnet") -> None:
        super().__init__()
        import torchvision

        if arch not in BACKBONE_LAYERS:
            raise ValueError(f"feature_arch must be one of {sorted(BACKBONE_LAYERS)}, got {arch!r}.")
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"Feature network weights not found: {path}. Download torchvision's {arch} ImageNet weights on a "
                f"machine with internet (torchvision.models.{arch}(weights='DEFAULT') puts them in "
                f"{Path(torch.hub.get_dir()) / 'checkpoints'}) and pass feature_weights=<that .pth>, or project with "
                "feature=none (pixels only) / feature=mnist for digits.")
        net = getattr(torchvision.models, arch)(weights=None)
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.body = net.features[: BACKBONE_LAYERS[arch]].eval()
        self.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        x = (x + 1) / 2
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if min(x.shape[-2:]) < MIN_SIDE:
            x = F.interpolate(x, scale_factor=MIN_SIDE / min(x.shape[-2:]), mode="bilinear", align_corners=False)
        return self.body((x - self.mean) / self.std)


def feature_network(name: str, image_shape: tuple[int, ...], weights: str | Path | None = None,
                    arch: str = "alexnet") -> nn.Module | None:
    """``name``: "none" (pixels only), "mnist" (our classifier; 1x28x28 only), "torchvision" (``arch`` from
    ``weights``), or "auto": mnist for 1x28x28 images, torchvision when ``weights`` is given, else none."""
    if name == "auto":
        name = "mnist" if tuple(image_shape) == (1, 28, 28) else "torchvision" if weights else "none"
    if name == "none":
        return None
    if name == "mnist":
        if tuple(image_shape) != (1, 28, 28):
            raise ValueError(f"feature=mnist reads 1x28x28 digits; this generator makes {image_shape} images. Use "
                             "feature=torchvision feature_weights=<backbone .pth> or feature=none.")
        return MNISTFeatures(weights)
    if name == "torchvision":
        if weights is None:
            raise ValueError("feature=torchvision needs feature_weights=<path to the backbone's ImageNet .pth>.")
        return BackboneFeatures(weights, arch)
    raise ValueError(f"feature must be auto, none, mnist or torchvision, got {name!r}.")
