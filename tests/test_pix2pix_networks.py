"""pix2pix's U-Net and PatchGAN: shapes for every supported size, size errors, the 70x70 receptive field measured
through the gradient, and the authors' parameter counts."""

import pytest
import torch
from torch import nn

from lit_gans.networks import PatchDiscriminator, UNetGenerator, receptive_field
from lit_gans.networks.pix2pix import patch_count, unet_depth


@pytest.mark.parametrize("size, depth", [(28, 2), (32, 5), (64, 6), (128, 7), (256, 8), (512, 8)])
def test_unet_depth_and_skip_shapes_for_each_size(size: int, depth: int) -> None:
    g = UNetGenerator((1, size, size), out_channels=3, ngf=2)
    assert g.depth == unet_depth(size) == depth
    shapes = []
    for down in g.downs:
        down.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
    with torch.no_grad():
        y = g.eval()(torch.zeros(1, 1, size, size))
    assert y.shape == (1, 3, size, size)
    for i, shape in enumerate(shapes):  # level i: width ngf·min(2^i, 8), sides halved i + 1 times
        assert shape == (1, 2 * min(2**i, 8), size >> (i + 1), size >> (i + 1))
    # each decoder level reads its skip beside the level below: twice the width, except the innermost
    assert [up[1].in_channels for up in g.ups] == [2 * s[1] for s in shapes[:-1]] + [shapes[-1][1]]


def test_unet_wiring_is_the_authors_unet_256() -> None:
    g = UNetGenerator((3, 256, 256))
    assert sum(p.numel() for p in g.parameters()) == 54_413_955  # their log: "Total number of parameters : 54.414 M"
    dropout = [i for i, up in enumerate(g.ups) if any(isinstance(m, nn.Dropout) for m in up)]
    assert dropout == [4, 5, 6]  # the three 512-channel decoder levels outside the innermost
    assert not any(isinstance(m, nn.BatchNorm2d) for m in g.downs[0]) and not any(isinstance(m, nn.BatchNorm2d) for m in g.downs[7])
    assert isinstance(g.ups[0][-1], nn.Tanh)
    assert all(conv.bias is None for conv in g.downs.modules() if isinstance(conv, nn.Conv2d))  # batch norm: no bias
    instance = UNetGenerator((3, 256, 256), norm="instance")
    assert all(conv.bias is not None for conv in instance.downs.modules() if isinstance(conv, nn.Conv2d))


@pytest.mark.parametrize("size", [30, 27, 2 * 3 * 5])
def test_sizes_a_unet_cannot_take_are_refused_naming_the_fix(size: int) -> None:
    with pytest.raises(ValueError, match=r"data.crop_size"):
        UNetGenerator((3, size, size), depth=3)
    g = UNetGenerator((1, 32, 32), ngf=2)
    with pytest.raises(ValueError, match=r"divisible by 2\^5 = 32; the input \(48x32\).*32 or 64"):
        g(torch.zeros(1, 1, 48, 32))


def test_an_odd_size_has_no_unet_and_a_size_with_few_factors_of_2_is_refused_unless_asked_for() -> None:
    with pytest.raises(ValueError, match="divisible by 2"):
        UNetGenerator((1, 27, 27))
    with pytest.raises(ValueError, match=r"stops after 1 levels at a 143x143 bottleneck.*depth=1"):
        UNetGenerator((1, 286, 286))  # the authors' load size, not their crop
    assert UNetGenerator((1, 260, 260), ngf=2, depth=2).depth == 2


@pytest.mark.parametrize("n_layers, field", [(0, 1), (1, 16), (2, 34), (3, 70), (4, 142)])
def test_patchgan_receptive_field_formula(n_layers: int, field: int) -> None:
    assert receptive_field(PatchDiscriminator(2, ndf=2, n_layers=n_layers)) == field  # 1, 16, 70: Section 4.4's


def test_the_3_layer_patchgan_sees_70x70_pixels_measured_through_the_gradient() -> None:
    """One output cell's gradient with respect to the input is non-zero on exactly a 70x70 window."""
    torch.manual_seed(0)
    d = PatchDiscriminator(2, ndf=4, n_layers=3).double().eval()  # running statistics: no batch coupling
    x = torch.randn(1, 2, 160, 160, dtype=torch.float64, requires_grad=True)
    out = d(x)
    assert out.shape[-1] == patch_count(160, 3) == 18
    out[0, 0, 9, 9].backward()
    touched = x.grad.abs().sum(dim=(0, 1)) > 0
    rows, cols = touched.any(dim=1).nonzero().flatten(), touched.any(dim=0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70
    assert touched.sum() == 70 * 70


def test_patchgan_output_map_and_the_authors_parameter_count() -> None:
    d = PatchDiscriminator(6)
    assert sum(p.numel() for p in d.parameters()) == 2_768_705  # their log: 2.769 M (input 3 + output 3 channels)
    with torch.no_grad():
        assert d.eval()(torch.zeros(1, 6, 256, 256)).shape == (1, 1, 30, 30)  # Section 3.2.2: a 30x30 map
