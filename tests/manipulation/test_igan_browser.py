"""The iGAN web app in a real browser (system Chromium driven by Playwright): a stroke drawn with the mouse on the
page's canvas moves the shown pixels toward the brush colour, the interpolation slider walks from the start image to
the edited one, and a screenshot is kept (``$LIT_GANS_ARTIFACTS/igan_app.png``, else the test's tmp folder); a
sketch-pen stroke and a warp drag, chosen with the page's tool buttons and drawn with the mouse, reach the server
as their constraint types and move the shown image toward them (the sketched edges appear, the dragged region's
content moves); InfoGAN's code pickers and sliders change the image and follow the optimised codes.

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


def mouse_stroke(page: Any, points: list[tuple[float, float]], pause: float = 0.02) -> None:
    """Press the mouse at points[0] of G's 28x28 image ((row, col) pixels), move through the rest, release: the
    pointer events a user's drag makes on the page's canvas."""
    box = page.locator("#canvas").bounding_box()
    s = box["width"] / 28
    at = lambda r, c: (box["x"] + (c + 0.5) * s, box["y"] + (r + 0.5) * s)
    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for r, c in points[1:]:
        page.mouse.move(*at(r, c), steps=2)
        time.sleep(pause)
    page.mouse.up()


def settled(page: Any, constraints: int) -> list[float]:
    """Wait until the page shows the answer to the stroke's "end" (no request in flight): the shown image's values."""
    page.wait_for_function(f"igan.last && igan.last.constraints === {constraints} && !igan.busy && !igan.pending",
                           timeout=60_000)
    page.wait_for_function("document.getElementById('current').complete")
    return page.evaluate(READ, "current")


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


def test_sketch_pen_and_warp_drag_drawn_with_the_mouse_move_the_image_toward_them(server: str) -> None:
    """The sketch pen and the warp tool, picked with the page's radio buttons and drawn with the mouse: each reaches
    the server as its own constraint type (the requests' bodies), changes the candidates, and the shown image moves
    toward it: the sketch energy (edge features under the stroke vs the drawn line's, `sketch_energy`) and the warp
    energy (the dragged square's content at its new place, `warp_energy`) both fall, measured here on the pixels
    the page shows, with the constraint rebuilt from the points the page sent."""
    import torch
    from playwright.sync_api import sync_playwright

    from lit_gans.manipulation import drag, sketch_stroke

    image = lambda values: torch.tensor(values).view(1, 1, 28, 28)
    with sync_playwright() as p:
        browser, page, errors = browser_page(p)
        bodies: list[dict[str, Any]] = []
        page.on("request", lambda r: bodies.append(r.post_data_json) if r.url.endswith("/api/stroke") else None)
        try:
            page.goto(server)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            page.wait_for_function("document.getElementById('current').complete")
            radius = float(page.locator("#radius").input_value())

            # the sketch pen: a vertical line down the middle
            before, candidates = page.evaluate(READ, "current"), page.evaluate("igan.last.candidates")
            page.locator("input[name=tool][value=sketch]").check()
            mouse_stroke(page, [(r, 14) for r in range(6, 22, 2)])
            after = settled(page, 1)
            end = bodies[-1]
            assert end["tool"] == "sketch" and end["phase"] == "end" and len(end["points"]) >= 8
            assert any(b["tool"] == "sketch" and b["phase"] == "move" for b in bodies)  # the live preview ran
            assert page.evaluate("igan.last.candidates") != candidates
            sketch = sketch_stroke((1, 28, 28), end["points"], radius=max(radius - 0.5, 0.5))  # as Session builds it
            e_before, e_after = float(sketch.energy(image(before))), float(sketch.energy(image(after)))
            assert e_after < 0.7 * e_before, (e_before, e_after)  # the sketched edges appear

            # keep the sketched image as the start, then drag a square of it 6 pixels to the right
            page.locator("#commit").click()
            page.wait_for_function("igan.last.constraints === 0 && igan.last.energy[0] === 0")
            page.wait_for_function("document.getElementById('current').complete")
            before, candidates = page.evaluate(READ, "current"), page.evaluate("igan.last.candidates")
            reference, shift = image(before)[0], 6
            grabs = [(r, c) for r in range(6, 22, 3) for c in range(4, 16, 3)]  # the square whose move changes most
            r0, c0 = max(grabs, key=lambda rc: float(drag(reference, rc, (rc[0], rc[1] + shift)).energy(reference[None])))
            page.locator("input[name=tool][value=warp]").check()
            mouse_stroke(page, [(r0, c0 + k) for k in range(shift + 1)])
            after = settled(page, 1)
            end = bodies[-1]
            assert end["tool"] == "warp" and end["phase"] == "end"
            (sr, sc), (er, ec) = end["points"][0], end["points"][-1]
            assert (round(sr), round(sc), round(er), round(ec)) == (r0, c0, r0, c0 + shift)
            assert page.evaluate("igan.last.candidates") != candidates
            warp = drag(reference, (r0, c0), (r0, c0 + shift), radius=max(int(radius * 2), 1))  # as Session builds it
            e_before, e_after = float(warp.energy(image(before))), float(warp.energy(image(after)))
            assert e_after < 0.75 * e_before, (e_before, e_after)  # the region's content moved to where it was dragged
            assert not errors, errors
        finally:
            browser.close()


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


def test_infogan_sliders_follow_the_codes_optimised_with_z(compose_cfg, one_thread, tmp_path: Path) -> None:
    """optimize_codes=true: a colour stroke drawn with the mouse moves InfoGAN's continuous codes with z, and the
    page's code sliders (range the prior's [−r, r]) move to the optimised values."""
    from playwright.sync_api import sync_playwright

    from igan_helpers import TINY_INFOGAN

    ckpt = save_checkpoint(tiny_model(compose_cfg, *TINY_INFOGAN), tmp_path / "run" / "checkpoints" / "last.ckpt")
    with serve(ckpt, "candidates=4", "keep=4", "optimize_codes=true") as url, sync_playwright() as p:
        browser, page, errors = browser_page(p)
        sliders = lambda: [float(page.locator(f"#cont{j}").input_value()) for j in range(2)]
        try:
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert page.locator("#cont0").get_attribute("max") == "1"  # continuous_range
            start = page.evaluate("igan.last.continuous")
            assert sliders() == pytest.approx(start, abs=0.026)  # step 0.05
            # a slider moved by the user (no stroke yet): the shown image takes the code
            page.locator("#cont1").fill("-0.5")
            page.locator("#cont1").dispatch_event("change")
            page.wait_for_function("Math.abs(igan.last.continuous[1] + 0.5) < 1e-6", timeout=30_000)
            start = page.evaluate("igan.last.continuous")
            page.locator("#color").fill("#ffffff")
            mouse_stroke(page, [(12, c) for c in range(8, 20, 2)])
            settled(page, 1)
            codes = page.evaluate("igan.last.continuous")
            assert max(abs(a - b) for a, b in zip(codes, start)) > 0.05  # the edit moved the codes
            assert max(abs(c) for c in codes) <= 1.0
            assert sliders() == pytest.approx(codes, abs=0.026)  # and the sliders followed
            assert page.locator("#cont_value0").inner_text() == f"{codes[0]:.2f}"
            assert not errors, errors
        finally:
            browser.close()
