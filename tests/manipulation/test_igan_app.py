"""The iGAN web app without a browser: the `Session` the page drives (strokes live and finished, picking, the
interpolation, undo, uploads, conditions) and the FastAPI endpoints over it (skipped without the app extra)."""

import importlib.util
import io
from pathlib import Path

import pytest
import torch
from helpers import ROOT, compose_config
from igan_helpers import TINY_MLP, tiny_model
from torch.testing import assert_close

from lit_gans.manipulation import EditSettings, LatentSpace, brush
from lit_gans.manipulation.session import Session

FAST = EditSettings(candidates=8, keep=4, iterations=25)
has_app_extra = all(importlib.util.find_spec(m) for m in ("fastapi", "uvicorn", "python_multipart", "httpx"))


@pytest.fixture
def session(compose_cfg, one_thread) -> Session:
    return Session(LatentSpace(tiny_model(compose_cfg, "model=gan", *TINY_MLP)), FAST, frames=5)


def under(image: torch.Tensor, points: list[tuple[float, float]], radius: float = 1.5) -> torch.Tensor:
    mask = brush(tuple(image.shape[-2:]), points, radius)
    return (image[0] * mask).sum() / mask.sum()


def test_a_finished_colour_stroke_moves_the_shown_pixels_toward_its_colour(session: Session) -> None:
    points = [(10.0, 8.0), (10.0, 18.0)]
    start = session.view()
    target = -1.0 if under(start.image, points) > 0 else 1.0  # the far end of the range from what is there
    view = session.stroke("color", points, "end", [target])
    assert abs(under(view.image, points) - target) < abs(under(start.image, points) - target) - 0.2
    assert view.constraints == 1 and len(view.candidates) == FAST.keep
    assert (session.result.total.diff() >= 0).all()  # ranked by energy + λ_s‖z − z0‖², best first
    assert_close(view.start, start.image)  # G(z0) is where the slider starts ...
    assert_close(view.frames[0], view.start, atol=1e-5, rtol=0)
    assert_close(view.frames[-1], view.image, atol=1e-5, rtol=0)  # ... and the edited image where it ends
    assert view.frames.shape == (5, 1, 28, 28)


def test_live_moves_preview_the_stroke_without_keeping_it(session: Session) -> None:
    points = [(14.0, 6.0), (14.0, 12.0)]
    target = -1.0 if under(session.view().image, points) > 0 else 1.0
    first = session.stroke("color", points[:1], "move", [target])
    gaps = [abs(under(first.image, points) - target)]
    for _ in range(6):  # one Adam step per pointer move
        gaps.append(abs(under(session.stroke("color", points, "move", [target]).image, points) - target))
    assert session.view().constraints == 0 and len(session.done) == 0  # the stroke in progress is not kept
    assert gaps[-1] < gaps[0]
    assert session.stroke("color", points, "end", [target]).constraints == 1
    assert session.undo().constraints == 0


def test_pick_shows_another_candidate_and_the_slider_ends_there(session: Session) -> None:
    session.stroke("color", [(5.0, 5.0), (5.0, 20.0)], "end", [1.0])
    view = session.pick(2)
    assert view.picked == 2
    assert_close(view.image, session.result.images[2].cpu())
    assert_close(view.frames[-1], view.image, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="candidate must be in 0..3"):
        session.pick(4)


def test_sketch_and_warp_strokes_and_bad_input(session: Session) -> None:
    assert session.stroke("sketch", [(4.0, 4.0), (20.0, 20.0)], "move").constraints == 0
    assert session.stroke("sketch", [(4.0, 4.0), (20.0, 20.0)], "end").constraints == 1
    shown = session.view().image
    session.stroke("warp", [(14.0, 14.0), (14.0, 16.0)], "move")
    session.stroke("warp", [(14.0, 14.0), (14.0, 18.0)], "move")
    warp = session.drawing
    assert warp.shift == (0, 4)
    assert_close(warp.reference, shown)  # the image when the drag began, not the preview since
    assert session.stroke("warp", [(14.0, 14.0), (14.0, 18.0)], "end").constraints == 2
    with pytest.raises(ValueError, match="tool must be one of"):
        session.stroke("eraser", [(1.0, 1.0)])
    with pytest.raises(ValueError, match="at least one point"):
        session.stroke("color", [])
    with pytest.raises(ValueError, match="color needs 1 value"):
        session.stroke("color", [(1.0, 1.0)], color=[0.1, 0.2])
    assert session.restart().constraints == 0


def test_an_rgb_colour_on_a_grey_generator_is_its_luma(session: Session) -> None:
    stroke = session.constraint("color", [(3.0, 3.0)], [1.0, -1.0, -1.0])
    assert_close(stroke.color, torch.tensor([0.299 - 0.587 - 0.114]))


def test_upload_projects_the_photo_and_edits_start_from_it(session: Session) -> None:
    z_true = session.space.sample(1, generator=torch.Generator().manual_seed(5))
    photo = session.space(z_true)[0].detach()
    session.projection_steps, session.restarts = 30, 2
    view = session.upload(photo)
    assert view.info["method"] == "optimize" and view.info["mse"] < 1e-3
    assert abs(float((view.start - photo).pow(2).mean()) - view.info["mse"]) < 1e-5  # the start is the projection
    assert_close(view.photo, photo)
    with pytest.raises(ValueError, match="28x28"):
        session.upload(torch.zeros(1, 14, 14))


def test_class_and_infogan_codes_change_the_generator(compose_cfg, one_thread) -> None:
    cgan = Session(LatentSpace(tiny_model(compose_cfg, "model=cgan", "model.latent_dim=8"), label=1), FAST)
    assert cgan.describe()["kind"] == "label" and cgan.describe()["num_classes"] == 10
    before = cgan.view().image
    after = cgan.set_condition(label=7)
    assert after.condition == "label 7" and not torch.allclose(before, after.image)
    with pytest.raises(ValueError, match="label must be in 0..9"):
        cgan.set_condition(label=10)
    info = Session(LatentSpace(tiny_model(compose_cfg, "model=infogan")), FAST)
    described = info.describe()
    assert described["kind"] == "code" and described["categories"] == [10] and len(described["continuous"]) == 2
    view = info.set_condition(categorical=[4], continuous=[0.5, -1.0])
    assert view.condition == "codes [4] / [0.5, -1.0]"
    with pytest.raises(ValueError, match="unconditional"):
        Session(LatentSpace(tiny_model(compose_cfg, "model=gan", *TINY_MLP)), FAST).set_condition(label=1)


# ----- the HTTP layer ------------------------------------------------------------------------------
@pytest.mark.skipif(not has_app_extra, reason='the app extra is missing: pip install -e ".[app]"')
def test_endpoints_serve_the_page_and_drive_the_session(session: Session) -> None:
    from fastapi.testclient import TestClient
    from PIL import Image

    from lit_gans.manipulation.webapp import create_app

    client = TestClient(create_app(session))
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="canvas"' in page.text
    state = client.get("/api/state").json()
    assert state["config"]["image_shape"] == [1, 28, 28] and state["config"]["kind"] == "unconditional"
    assert state["image"].startswith("data:image/png;base64,") and len(state["frames"]) == 5
    points = [[10, 8], [10, 18]]
    target = -1.0 if under(torch.tensor(state["values"]), points) > 0 else 1.0
    moved = client.post("/api/stroke", json={"tool": "color", "points": points, "phase": "move", "color": [target]}).json()
    assert moved["constraints"] == 0
    done = client.post("/api/stroke", json={"tool": "color", "points": points, "phase": "end", "color": [target]}).json()
    assert done["constraints"] == 1 and len(done["candidates"]) == FAST.keep
    assert abs(under(torch.tensor(done["values"]), points) - target) < abs(under(torch.tensor(state["values"]), points) - target)
    assert client.post("/api/pick", json={"index": 1}).json()["picked"] == 1
    assert client.post("/api/undo").json()["constraints"] == 0
    bad = client.post("/api/stroke", json={"tool": "eraser", "points": points})
    assert bad.status_code == 400 and "tool must be one of" in bad.json()["detail"]
    assert client.post("/api/stroke", json={"points": points}).status_code == 400
    assert "unconditional" in client.post("/api/condition", json={"label": 1}).json()["detail"]
    session.projection_steps, session.restarts = 20, 1
    buffer = io.BytesIO()
    Image.new("RGB", (56, 56), (200, 10, 10)).save(buffer, "PNG")  # colour and twice G's size: converted, resized
    projected = client.post("/api/project", files={"photo": ("x.png", buffer.getvalue(), "image/png")}).json()
    assert projected["info"]["method"] == "optimize" and projected["photo"].startswith("data:image/png")
    junk = client.post("/api/project", files={"photo": ("x.png", b"not an image", "image/png")})
    assert junk.status_code == 400 and "not an image" in junk.json()["detail"]


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from lit_gans.manipulation import webapp

    real = builtins.__import__

    def no_fastapi(name: str, *args, **kwargs):
        if name == "fastapi":
            raise ImportError("No module named 'fastapi'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fastapi)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[app\]"'):
        webapp.require_app_extra()


def test_app_py_builds_its_session_from_a_checkpoint(compose_cfg, tmp_path: Path) -> None:
    """app.py's config -> session: the checkpoint through the safe loader, the class from the command line."""
    from igan_helpers import save_checkpoint

    from lit_gans.manipulation.webapp import build_session

    ckpt = save_checkpoint(tiny_model(compose_cfg, "model=cgan", "model.latent_dim=8"), tmp_path / "run" / "checkpoints" / "last.ckpt")
    session = build_session(compose_config("app", f"ckpt_path={ckpt}", "label=3", "candidates=4", "keep=2"))
    assert session.space.describe() == "label 3" and session.encoder is None
    assert session.features is not None  # 1x28x28: our MNIST classifier's features for uploads
    assert len(session.view().candidates) == 2
    assert (ROOT / "app.py").is_file()
