"""InfoGAN's continuous codes optimised jointly with z (`LatentSpace(..., optimize_codes=True)`): the optimised
vector is [z, c_cont], the codes kept in their prior's box [−r, r]; edits and projections move them and do better
than z alone; the session reports them (the web page's sliders follow them) and sets them; the encoder P predicts them."""

import pytest
import torch
from torch.testing import assert_close

from igan_helpers import TINY_INFOGAN, TINY_MLP, tiny_model
from lit_gans.manipulation import ColorStroke, EditSettings, LatentSpace, brush, edit, optimize
from lit_gans.manipulation.projection import load_encoder, save_encoder, train_encoder
from lit_gans.manipulation.session import Session


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny untrained (calibrated) InfoGAN: 4-d z, Cat(10), two Unif(−0.8, 0.8) codes (a range ≠ z's box)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from helpers import CONF

    def compose_cfg(*overrides: str):
        GlobalHydra.instance().clear()
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
            cfg = compose("train", overrides=[*overrides, f"paths.output_dir={tmp_path_factory.mktemp('run')}"])
        GlobalHydra.instance().clear()
        return cfg

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield tiny_model(compose_cfg, *TINY_INFOGAN, "model.continuous_range=0.8")
    torch.set_num_threads(threads)


def test_the_vector_is_z_then_the_codes_each_in_its_prior_box(model) -> None:
    fixed, joint = LatentSpace(model, codes=([3], [0.5, -0.25])), LatentSpace(model, codes=([3], [0.5, -0.25]), optimize_codes=True)
    assert (fixed.dim, joint.dim, joint.latent_dim, joint.code_dim) == (4, 6, 4, 2)
    z = fixed.sample(3, generator=torch.Generator().manual_seed(0))
    v = joint.extend(z)
    assert_close(v[:, 4:], torch.tensor([[0.5, -0.25]]).expand(3, -1))
    assert_close(joint(v), fixed(z))  # G reads the tail as the continuous codes; z alone reads the fixed ones
    assert_close(joint(z), fixed(z))
    assert_close(joint(joint.with_continuous(v, [0.1, 0.2])), LatentSpace(model, codes=([3], [0.1, 0.2]))(z))
    # the box: z in [−1, 1] (uniform prior), the codes in [−0.8, 0.8] (Unif(−r, r), r = continuous_range)
    huge = torch.full((1, 6), 50.0)
    assert_close(joint.from_param(huge), torch.tensor([[1.0] * 4 + [0.8] * 2]))
    assert_close(joint.from_param(joint.to_param(joint.clip(v))), joint.clip(v))
    assert joint.clip(torch.full((1, 6), 5.0))[0, 4:].max() <= 0.8
    prior = joint.sample(2000, generator=torch.Generator().manual_seed(1))[:, 4:]
    assert prior.abs().max() <= 0.8 and prior.abs().max() > 0.75  # Unif(−0.8, 0.8), as in training
    with pytest.raises(ValueError, match="latent vectors have 4"):
        joint(torch.zeros(1, 5))


def test_optimize_codes_needs_continuous_codes(compose_cfg, one_thread) -> None:
    with pytest.raises(ValueError, match="optimize_codes=true needs an InfoGAN"):
        LatentSpace(tiny_model(compose_cfg, "model=gan", *TINY_MLP), optimize_codes=True)


def test_an_edit_moves_the_codes_and_meets_the_stroke_better_than_z_alone(model) -> None:
    fixed, joint = LatentSpace(model), LatentSpace(model, optimize_codes=True)
    z0 = fixed.sample(1, generator=torch.Generator().manual_seed(0)) * 0.5
    stroke = ColorStroke(brush((28, 28), [(12, 10), (12, 17)], radius=1.5), torch.tensor([1.0]))
    settings = EditSettings(candidates=8, keep=8)
    alone, jointly = edit(fixed, z0, [stroke], settings), edit(joint, z0, [stroke], settings)
    assert alone.z.shape == (8, 4) and jointly.z.shape == (8, 6)
    start = stroke.energy(fixed(z0)).item()
    assert jointly.energy[0] < alone.energy[0] < start  # both lower it; with the codes free, lower still
    codes = jointly.z[:, 4:]
    assert (codes[0] - torch.zeros(2)).abs().max() > 0.1  # the best candidate's codes moved from the start's (0, 0)
    assert codes.abs().max() <= 0.8  # and stayed in the prior's range
    assert_close(jointly.images, joint(jointly.z))


def test_projection_recovers_the_codes_of_an_image_made_with_other_codes(model) -> None:
    fixed, joint = LatentSpace(model), LatentSpace(model, optimize_codes=True)
    truth = joint.sample(3, generator=torch.Generator().manual_seed(3))
    x = joint(truth).detach()
    gen = lambda: torch.Generator().manual_seed(1)
    alone = optimize(fixed, x, steps=40, restarts=2, generator=gen())
    jointly = optimize(joint, x, steps=40, restarts=2, generator=gen())
    assert jointly.z.shape == (3, 6)
    assert (jointly.mse < 1e-3).all() and (alone.mse > 5 * jointly.mse).all(), (alone.mse, jointly.mse)
    assert_close(jointly.z[:, 4:], truth[:, 4:], atol=0.05, rtol=0)


def test_the_session_reports_and_sets_the_optimised_codes(model) -> None:
    session = Session(LatentSpace(model, codes=([2], [0.0, 0.0]), optimize_codes=True),
                      EditSettings(candidates=4, keep=4, iterations=10))
    config = session.describe()
    assert config["optimize_codes"] is True and config["code_range"] == pytest.approx(0.8)
    start = session.view().continuous
    assert start == config["continuous"] and len(start) == 2
    view = session.stroke("color", [(12.0, 10.0), (12.0, 17.0)], "end", color=[1.0])
    shown = session.result.z[0, 4:].tolist()
    assert view.continuous == pytest.approx(shown) and view.continuous != pytest.approx(start)  # the sliders follow
    assert view.condition == f"codes [2] / {[round(c, 3) for c in shown]}"
    # a slider moved: the start's and the shown image's codes take the value (the next search starts there)
    view = session.set_condition(categorical=[2], continuous=[0.5, -0.5])
    assert_close(session.editor.z0[0, 4:], torch.tensor([0.5, -0.5]))
    view = session.commit()
    assert session.space.codes[0].tolist() == [2] and len(view.continuous) == 2


def test_the_encoder_predicts_the_codes_too(model, tmp_path) -> None:
    joint = LatentSpace(model, optimize_codes=True)
    encoder, _ = train_encoder(joint, steps=2, batch_size=8, channels=(4, 8), fc=16)
    out = encoder.z(joint(joint.sample(5, generator=torch.Generator().manual_seed(0))))
    assert out.shape == (5, 6) and out[:, 4:].abs().max() <= 0.8
    path = save_encoder(encoder, tmp_path / "p.pt")
    assert load_encoder(path, joint).code_dim == 2
    with pytest.raises(ValueError, match="optimize_codes=false"):
        load_encoder(path, LatentSpace(model))


def test_the_first_start_keeps_the_codes_given_and_a_random_start_draws_them(model) -> None:
    session = Session(LatentSpace(model, codes=([1], [0.5, -0.25]), optimize_codes=True), EditSettings(candidates=2, keep=2))
    assert session.view().continuous == pytest.approx([0.5, -0.25])
    drawn = session.random().continuous
    assert drawn != pytest.approx([0.5, -0.25]) and max(abs(c) for c in drawn) <= 0.8
