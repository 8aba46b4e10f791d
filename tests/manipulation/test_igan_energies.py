"""iGAN's energies (lit_gans.manipulation.energies): exact values on tiny tensors, zero when met."""

import torch
from torch.testing import assert_close

from lit_gans.manipulation.editing import brush, stroke_region
from lit_gans.manipulation.energies import (
    color_energy,
    edge_features,
    latent_distance,
    reconstruction_loss,
    shift_image,
    sketch_energy,
    warp_energy,
)


def test_color_energy_is_the_brush_area_normalised_squared_error() -> None:
    images = torch.tensor([[[[0.0, 0.5], [1.0, -1.0]]], [[[1.0, 1.0], [1.0, 1.0]]]])  # (2, 1, 2, 2)
    mask = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    # image 0: ((0 - 1)² + (0.5 - 1)²) / 2 = 0.625; image 1 is white under the brush: 0
    assert_close(color_energy(images, mask, torch.tensor([1.0])), torch.tensor([0.625, 0.0]))
    rgb = torch.zeros(1, 3, 2, 2)
    rgb[0, 0] = 1.0  # pure red
    red, blue = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 1.0])
    assert_close(color_energy(rgb, mask, red), torch.tensor([0.0]))
    assert_close(color_energy(rgb, mask, blue), torch.tensor([2.0 / 3.0]))  # per pixel (1 + 1) / 3 channels


def test_reconstruction_loss_adds_the_weighted_feature_mse() -> None:
    x, y = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    double = torch.nn.Flatten()  # features = the pixels themselves
    assert_close(reconstruction_loss(y, x), torch.tensor([0.25]))
    assert_close(reconstruction_loss(y, x, double, feature_weight=0.5), torch.tensor([0.25 + 0.5 * 0.25]))


def test_edge_features_see_a_vertical_edge_in_the_horizontal_gradient_bin() -> None:
    step = torch.full((1, 1, 6, 6), -1.0)
    step[..., 3:] = 1.0  # dark | bright, a vertical edge: the gradient points along x (bin 0)
    f = edge_features(step, cell=1)
    assert f.shape == (1, 4, 6, 6)
    assert f[0, 0, :, 2:4].min() > 0.4 and f[0, 2, :, 2:4].max() < 1e-5  # bin 2 (gradient along y) is empty
    assert edge_features(torch.zeros(1, 1, 6, 6)).max() < 1e-5  # a flat image has no edges


def test_sketch_energy_is_zero_when_the_edges_match_and_positive_otherwise() -> None:
    image = torch.full((1, 1, 12, 12), -1.0)
    image[..., 4:8, 5:7] = 1.0  # a short white bar
    mask = stroke_region(image[0, 0] > 0, radius=2)
    assert_close(sketch_energy(image, mask, image[0]), torch.zeros(1))
    moved = torch.roll(image, 3, dims=-1)
    assert sketch_energy(moved, mask, image[0]) > 0.01
    # outside the mask nothing counts: a change far from the stroke leaves the energy at zero
    far = image.clone()
    far[..., 0, 11] = 1.0
    assert_close(sketch_energy(far, mask, image[0]), torch.zeros(1))
    # relative to the strokes' own edges: an image without edges under the mask scores exactly 1
    assert_close(sketch_energy(torch.full_like(image, 0.3), mask, image[0]), torch.ones(1))


def test_warp_energy_is_zero_when_the_region_sits_at_its_new_place() -> None:
    reference = torch.arange(16.0).view(1, 4, 4) / 16
    mask = torch.zeros(4, 4)
    mask[0:2, 0:2] = 1.0  # the top-left 2x2 block ...
    shift = (1, 2)  # ... dragged one row down, two columns right
    moved = shift_image(reference, 1, 2)
    assert_close(moved[0, 1:3, 2:4], reference[0, 0:2, 0:2])
    assert_close(warp_energy(moved[None], mask, reference, shift), torch.zeros(1))
    # the unmoved reference: dest block (rows 1-2, cols 2-3) holds 6, 7, 10, 11 / 16 instead of 0, 1, 4, 5 / 16
    expected = ((torch.tensor([6.0, 7.0, 10.0, 11.0]) - torch.tensor([0.0, 1.0, 4.0, 5.0])) / 16).pow(2).mean()
    assert_close(warp_energy(reference[None], mask, reference, shift), expected.view(1))


def test_latent_distance_and_masks() -> None:
    assert_close(latent_distance(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])), torch.tensor([5.0]))
    line = brush((5, 5), [(2, 0), (2, 4)], radius=0.5)
    assert line[2].tolist() == [1.0] * 5 and line.sum() == 5
    assert stroke_region(line, radius=1).sum() == 15  # rows 1-3
