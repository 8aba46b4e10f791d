"""Editing with constraints (Zhu et al. 2016, Section 4): candidates, λ_s, the live Editor."""

import pytest
import torch
from torch.testing import assert_close

from igan_helpers import TINY_MLP, tiny_model
from lit_gans.manipulation import ColorStroke, EditSettings, Editor, LatentSpace, SketchStroke, Warp, brush, edit
from lit_gans.manipulation.editing import constraint_energy, stroke_region


@pytest.fixture
def space(compose_cfg, one_thread) -> LatentSpace:
    return LatentSpace(tiny_model(compose_cfg, "model=gan", *TINY_MLP))


def _z0(space: LatentSpace) -> torch.Tensor:
    return space.sample(1, generator=torch.Generator().manual_seed(0)) * 0.5


def test_without_constraints_the_start_is_the_best_candidate(space: LatentSpace) -> None:
    z0 = _z0(space)
    result = edit(space, z0, [], EditSettings(candidates=8, keep=4, iterations=5))
    assert result.z.shape == (4, 8) and result.images.shape == (4, 1, 28, 28)
    assert_close(result.z[0], z0[0])  # λ_s‖z − z0‖² = 0 there, and its gradient too
    assert (result.total[1:] > 0).all() and (result.total.diff() >= 0).all()  # ranked


def test_a_colour_stroke_pulls_the_brush_pixels_while_lambda_s_holds_z(space: LatentSpace) -> None:
    z0 = _z0(space)
    mask = brush((28, 28), [(12, 12), (12, 15)], radius=1.5)
    # a colour G can make there: the mean under the brush of the sample farthest from z0's (a random tiny G cannot
    # paint every colour everywhere; a trained one cannot either)
    candidates = space(space.sample(64, generator=torch.Generator().manual_seed(9)))[:, 0]
    means = (candidates * mask).flatten(1).sum(1) / mask.sum()
    start = (space(z0)[0, 0] * mask).sum() / mask.sum()
    color = means[(means - start).abs().argmax()].detach()
    stroke = ColorStroke(mask, color.view(1))
    before = stroke.energy(space(z0)).item()
    distances, energies = [], []
    for lambda_s in (100.0, 1.0, 0.0):
        result = edit(space, z0, [stroke], EditSettings(candidates=8, keep=4, iterations=60, lambda_s=lambda_s))
        distances.append((result.z[0] - z0[0]).norm().item())
        energies.append(result.energy[0].item())
    reached = stroke.energy(candidates[(means - start).abs().argmax()][None, None]).item()
    # free to move, the brush pixels take the colour: better than the sample the colour came from
    assert energies[-1] < min(0.6 * before, reached), (before, reached, energies)
    assert distances[0] < distances[1] <= distances[2] + 1e-6, distances  # ‖z − z0‖ grows as λ_s falls
    assert energies[0] >= energies[1] >= energies[2] - 1e-6, energies
    assert distances[0] < 0.5 * distances[2]  # a large λ_s holds z near z0


def test_the_editor_is_incremental_for_live_updates(space: LatentSpace) -> None:
    z0 = _z0(space)
    editor = Editor(space, z0, EditSettings(candidates=6, keep=3))
    editor.add(ColorStroke(brush((28, 28), [(14, 4), (14, 24)], radius=2), torch.tensor([-1.0])))
    first = editor.step(1)
    later = [editor.step(3) for _ in range(4)]
    assert later[-1].total[0] < first.total[0]
    assert first.images.shape == (3, 1, 28, 28) and first.seconds < 5
    path = editor.interpolation(later[-1].z[0], steps=5)
    assert_close(path[0], space(z0)[0])
    assert_close(path[-1], space(later[-1].z[:1])[0])
    editor.clear()
    editor.reset()
    assert_close(editor.step(0).z[0], z0[0])


def test_sketch_and_warp_constraints_are_met_by_their_own_image(space: LatentSpace) -> None:
    image = space(_z0(space))[0].detach()
    region = stroke_region(image[0] > 0, radius=1)
    warp_mask = torch.zeros(28, 28)
    warp_mask[10:16, 10:16] = 1.0
    met = [SketchStroke(region, image), Warp(warp_mask, image, (0, 0))]
    assert_close(constraint_energy(image[None], met), torch.zeros(1))
    moved = Warp(warp_mask, image, (3, -2))
    assert moved.energy(image[None]) > 0
    from lit_gans.manipulation.energies import shift_image

    target = shift_image(image, 3, -2)
    assert_close(moved.energy(target[None]), torch.zeros(1))


def test_ui_helpers_build_strokes_and_drags() -> None:
    from lit_gans.manipulation import drag, sketch_stroke

    pen = sketch_stroke((1, 28, 28), [(5, 5), (5, 15)], radius=0.5, margin=1)
    assert pen.sketch[0, 5, 5:16].eq(1).all() and pen.sketch[0, 10].eq(-1).all() and pen.mask.sum() == 3 * 13
    assert_close(pen.energy(pen.sketch[None]), torch.zeros(1))
    reference = torch.rand(1, 28, 28)
    move = drag(reference, (10, 10), (12, 7), radius=2)
    assert move.shift == (2, -3) and move.mask.sum() == 25
    from lit_gans.manipulation.energies import shift_image

    assert_close(move.energy(shift_image(reference, 2, -3)[None]), torch.zeros(1))
