"""CycleGAN's ResNet generator: shapes for the supported sizes, the authors' layer layout, size errors."""

import pytest
import torch
from torch import nn

from lit_gans.networks import ResnetGenerator
from lit_gans.networks.resnet import ResnetBlock


@pytest.mark.parametrize("size, n_blocks", [(28, 3), (32, 3), (64, 6), (128, 6)])
def test_output_has_the_input_shape_in_tanh_range(size: int, n_blocks: int) -> None:
    g = ResnetGenerator((3, size, size), ngf=8, n_blocks=n_blocks)
    y = g(torch.randn(2, 3, size, size))
    assert y.shape == (2, 3, size, size) and y.abs().max() <= 1


def test_the_authors_layout_9_blocks_reflection_padding_instance_norm_bias() -> None:
    g = ResnetGenerator((3, 256, 256))  # the paper's resnet_9blocks
    blocks = [m for m in g.modules() if isinstance(m, ResnetBlock)]
    assert len(blocks) == 9 and all(b.block[1].in_channels == 256 for b in blocks)
    convs = [m for m in g.modules() if isinstance(m, nn.Conv2d)]
    assert (convs[0].kernel_size, convs[-1].kernel_size) == ((7, 7), (7, 7))
    assert all(c.bias is not None for c in convs)  # instance norm: convs keep their bias
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in g.modules()) == 2 + 2 * 9
    norms = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and not any(n.affine or n.track_running_stats for n in norms)
    assert sum(p.numel() for p in g.parameters()) == 11_378_179  # the authors' netG_A prints 11.378 M
    batch = ResnetGenerator((3, 32, 32), norm="batch", n_blocks=1)
    convs = [m for m in batch.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert all(c.bias is None for c in convs[:-1]) and convs[-1].bias is not None  # batch norm: no bias before it


def test_sizes_not_divisible_by_4_are_refused_naming_the_fix() -> None:
    with pytest.raises(ValueError, match=r"divisible by 4.*30x30.*28 or 32"):
        ResnetGenerator((3, 30, 30))
    g = ResnetGenerator((1, 32, 32), ngf=4, n_blocks=1)
    with pytest.raises(ValueError, match=r"the input \(30x30\)"):
        g(torch.zeros(1, 1, 30, 30))
    assert g(torch.zeros(1, 1, 36, 44)).shape == (1, 1, 36, 44)  # any size divisible by 4 at test time
