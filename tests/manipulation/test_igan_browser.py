"""The iGAN web app in a real browser (system Chromium driven by Playwright): a stroke drawn with the mouse on the
page's canvas moves the shown pixels toward the brush colour, the interpolation slider walks from the start image to
the edited one, and a screenshot is kept (``$LIT_GANS_ARTIFACTS/igan_app.png``, else the test's tmp folder).

Marked ``browser``; skipped when Chromium or the app extra (``pip install -e ".[app]"`` + playwright) is missing.
.ci/run installs both."""

import contextlib
import importlib.util
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import compose_config
from igan_helpers import save_checkpoint, tiny_model

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
MISSING = [m for m in ("fastapi", "uvicorn", "python_multipart", "playwright") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH (apt-get install chromium)"),
    pytest.mark.skipif(bool(MISSING), reason=f'{MISSING} missing: pip install -e ".[app]" playwright'),
]

# the page's shown image (or any <img>) as grey values in [-1, 1], read back through a canvas
READ = """(id) => { const img = document.getElementById(id), c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight; const x = c.getContext('2d');
  x.drawImage(img, 0, 0); const d = x.getImageData(0, 0, c.width, c.height).data, out = [];
  for (let i = 0; i < d.length; i += 4) out.push(d[i] / 127.5 - 1); return out; }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def under(values: list[float], points: list[tuple[int, int]]) -> float:
    """Mean of a 28x28 image's values on the brush (radius 1.5) along the horizontal segment of ``points``."""
    import torch

    from lit_gans.manipulation import brush

    mask = brush((28, 28), points, 1.5)
    return float((torch.tensor(values).view(28, 28) * mask).sum() / mask.sum())


@contextlib.contextmanager
def serve(ckpt: Path | str, *overrides: str) -> Iterator[str]:
    """app.py's session and FastAPI app on ``ckpt``, served by uvicorn on a free port: yields the page's address."""
    import uvicorn

    from lit_gans.manipulation.webapp import build_session, create_app

    port = free_port()
    cfg = compose_config("app", f"ckpt_path={ckpt}", f"port={port}", *overrides)
    server = uvicorn.Server(uvicorn.Config(create_app(build_session(cfg)), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started, "the app did not start"
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(compose_cfg, one_thread, tmp_path: Path) -> Iterator[str]:
    """The app on a tiny calibrated checkpoint (an MLP G with a 100-d z, as DCGAN's: an 8-d z cannot paint a
    15-pixel stroke), or on ``$LIT_GANS_APP_CKPT`` (the README's screenshot: a trained DCGAN)."""
    ckpt = os.environ.get("LIT_GANS_APP_CKPT") or save_checkpoint(
        tiny_model(compose_cfg, "model=gan", "model.latent_dim=100", "model.generator.hidden=[64,64]"),
        tmp_path / "run" / "checkpoints" / "last.ckpt")
    with serve(ckpt, "candidates=8", "keep=8", "projection_steps=20", "restarts=1") as url:
        yield url


def browser_page(p: Any) -> tuple[Any, Any, list[str]]:
    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1040, "height": 450})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))  # any uncaught JavaScript error fails the test
    return browser, page, errors


def test_a_mouse_stroke_edits_the_image_and_the_slider_interpolates(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    artifacts = Path(os.environ.get("LIT_GANS_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page, errors = browser_page(p)
        try:
            page.goto(server)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            page.wait_for_function("document.getElementById('current').complete")
            row, cols = 10, (6, 21)
            points = [(row, cols[0]), (row, cols[1])]
            before = page.evaluate(READ, "current")
            target = -1.0 if under(before, points) > 0 else 1.0  # paint the opposite of what is there
            page.locator("#color").fill("#000000" if target < 0 else "#ffffff")  # the page's own colour picker
            box = page.locator("#canvas").bounding_box()
            s = box["width"] / 28
            at = lambda r, c: (box["x"] + (c + 0.5) * s, box["y"] + (r + 0.5) * s)
            page.mouse.move(*at(row, cols[0]))
            page.mouse.down()
            for c in range(cols[0] + 1, cols[1] + 1):  # pointer moves: live updates while drawing
                page.mouse.move(*at(row, c), steps=2)
                time.sleep(0.02)
            page.mouse.up()
            page.wait_for_function("igan.last && igan.last.constraints === 1 && !igan.busy && !igan.pending",
                                   timeout=60_000)
            page.wait_for_function("document.getElementById('current').complete")
            after = page.evaluate(READ, "current")
            requests = page.evaluate("igan.requests")
            gap_before, gap_after = abs(under(before, points) - target), abs(under(after, points) - target)
            assert gap_after < gap_before - 0.2, (gap_before, gap_after)  # the pixels under the stroke moved toward it
            assert requests >= 3  # the state, at least one live "move" while drawing, and the "end"
            assert page.evaluate("igan.last.candidates.length") == 8

            # the slider: its first frame is the start image, its last the edited one
            start = page.evaluate(READ, "start")
            page.locator("#slider").fill("0")
            page.wait_for_function("document.getElementById('interp').complete")
            first = page.evaluate(READ, "interp")
            page.locator("#slider").fill(page.evaluate("document.getElementById('slider').max"))
            page.wait_for_function("document.getElementById('interp').complete")
            last = page.evaluate(READ, "interp")
            page.locator("#slider").fill("4")
            page.wait_for_function("document.getElementById('interp').complete")
            middle = page.evaluate(READ, "interp")
            assert max(abs(a - b) for a, b in zip(first, start)) < 1e-6
            assert max(abs(a - b) for a, b in zip(last, after)) < 1e-6
            assert first != last and middle not in (first, last)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(artifacts / "igan_app.png"))

            # a candidate clicked is shown; an uploaded photo is projected and becomes the start
            page.locator("#candidates img").nth(2).click()
            page.wait_for_function("igan.last.picked === 2")
            photo = tmp_path / "photo.png"
            from PIL import Image

            Image.new("RGB", (56, 56), (255, 255, 255)).save(photo)
            page.locator("#photo").set_input_files(str(photo))
            page.locator("#project").click()
            page.wait_for_function("igan.last.photo !== null && igan.last.constraints === 0", timeout=60_000)
            assert page.evaluate("igan.last.info.method") == "optimize"
            assert page.locator("#photo_box").is_visible()
            assert not errors, errors
        finally:
            browser.close()
    assert (artifacts / "igan_app.png").stat().st_size > 1000


def test_infogan_code_pickers_and_sliders_change_the_image(compose_cfg, one_thread, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ckpt = save_checkpoint(tiny_model(compose_cfg, "model=infogan"), tmp_path / "run" / "checkpoints" / "last.ckpt")
    with serve(ckpt, "candidates=4", "keep=4") as url, sync_playwright() as p:
        browser, page, errors = browser_page(p)
        try:
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert page.locator("#cat0 option").count() == 10 and page.locator("#cont1").count() == 1
            before = page.evaluate("igan.last.image")
            page.locator("#cat0").select_option("5")
            page.wait_for_function("igan.last.condition.startsWith('codes [5]')")
            after = page.evaluate("igan.last.image")
            page.locator("#cont0").fill("1.5")
            page.locator("#cont0").dispatch_event("change")
            page.wait_for_function("igan.last.condition === 'codes [5] / [1.5, 0.0]'")
            assert before != after != page.evaluate("igan.last.image")
            assert not errors, errors
        finally:
            browser.close()
