"""Edit transfer (Zhu et al. 2016, Section 5): motion (u, v) + colour (A, C × (C+1)) between frames."""

import torch
from torch.testing import assert_close

from lit_gans.manipulation import estimate_color, estimate_flow, transfer
from lit_gans.manipulation.transfer import apply_color, warp

A = torch.tensor([[0.9, 0.1, 0.0, 0.1], [0.0, 0.8, 0.1, -0.05], [0.05, 0.0, 1.1, 0.0]])


def _texture(channels: int, side: int = 40, seed: int = 0) -> torch.Tensor:
    noise = torch.rand(1, channels, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return torch.nn.functional.avg_pool2d(noise, 5, 1, 2)[0]  # smooth enough for optical flow


def test_a_known_shift_and_3x4_colour_map_are_recovered() -> None:
    frame = _texture(3)
    shifted = torch.roll(frame, shifts=(2, -1), dims=(1, 2))  # next(y, x) = frame(y − 2, x + 1)
    following = apply_color(shifted, A.expand(40, 40, 3, 4))
    flow = estimate_flow(frame, following)
    inner = flow.motion[:, 8:-8, 8:-8].flatten(1)  # away from the wrapped border
    assert_close(inner.median(1).values, torch.tensor([-2.0, 1.0]), atol=0.1, rtol=0)
    assert ((inner - torch.tensor([[-2.0], [1.0]])).abs() < 0.5).float().mean() > 0.9
    assert_close(flow.color[8:-8, 8:-8].flatten(0, 1).median(0).values, A, atol=0.03, rtol=0)


def test_global_colour_fit_is_exact_without_motion() -> None:
    frame = _texture(3, 16)
    assert_close(estimate_color(frame, apply_color(frame, A.expand(16, 16, 3, 4)), float("inf"), ridge=1e-9)[0, 0], A,
                 atol=1e-4, rtol=0)
    grey = _texture(1, 16)
    gain = torch.tensor([[0.5, 0.2]])  # C = 1: A is 1 x 2 (gain, offset)
    assert_close(estimate_color(grey, 0.5 * grey + 0.2, float("inf"), ridge=1e-9)[3, 5], gain, atol=1e-4, rtol=0)


def test_the_photo_is_carried_along_the_generated_sequence() -> None:
    generated = _texture(3, 40, seed=1)
    photo = _texture(3, 40, seed=2)  # another image with the same motion and colour change applied to it
    steps = [generated, apply_color(torch.roll(generated, (1, 0), (1, 2)), A.expand(40, 40, 3, 4))]
    frames = transfer(photo, torch.stack(steps))
    assert frames.shape == (2, 3, 40, 40)
    assert_close(frames[0], photo)
    expected = apply_color(torch.roll(photo, (1, 0), (1, 2)), A.expand(40, 40, 3, 4))
    err = (frames[1] - expected)[:, 8:-8, 8:-8].abs()
    assert err.mean() < 0.03, err.mean()


def test_warp_reads_the_displaced_pixel() -> None:
    image = torch.arange(25.0).view(1, 5, 5)
    motion = torch.zeros(2, 5, 5)
    motion[1] = 1.0  # read one column to the right
    assert_close(warp(image, motion)[0, :, :4], image[0, :, 1:])


def test_composed_flows_carry_the_photo_over_several_frames() -> None:
    """Two steps of one-pixel shifts and a gain: the last frame is the photo moved two pixels with both gains."""
    generated = _texture(1, 40, seed=3)
    photo = _texture(1, 40, seed=4)
    one = torch.roll(generated, (1, 0), (1, 2)) * 0.8 + 0.1
    two = torch.roll(one, (1, 0), (1, 2)) * 0.8 + 0.1
    frames = transfer(photo, torch.stack([generated, one, two]))
    expected = torch.roll(photo, (2, 0), (1, 2)) * 0.64 + 0.18
    assert (frames[2] - expected)[:, 8:-8, 8:-8].abs().mean() < 0.02
