"""The iGAN web app (`python app.py ckpt_path=...`): a FastAPI server around one `Session` and a single static page
(plain HTML + JavaScript canvas, ``static/igan.html``).

Why FastAPI and not Gradio: the paper's interface updates the image *while* a stroke is drawn. That needs the raw
pointer events of a canvas (down / move / up with coordinates) sent as they happen, one request in flight at a
time; Gradio's ImageEditor / Sketchpad report a finished layer image on change rather than a stream of stroke
points, and the warp drag (start and end point of a drag) has no component at all. A ~300-line page with a canvas
does all three tools directly, and the server stays a thin JSON layer over `Session` (which the fast tests call
without any web stack). FastAPI + uvicorn are an optional extra: ``pip install -e ".[app]"``.

Endpoints (JSON; images as PNG data URLs, and ``values``: the shown image's pixels in [-1, 1] as nested lists):
GET /api/state, POST /api/stroke {tool, points [[row, col], ...], phase move|end, color [..], radius},
POST /api/pick {index}, POST /api/commit, /api/undo, /api/restart, /api/random,
POST /api/condition {label} | {categorical, continuous}, POST /api/project (multipart file "photo").
"""

import base64
import io
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lit_gans.manipulation.session import Session, View

STATIC = Path(__file__).resolve().parent / "static"
MISSING = ('The iGAN web app needs FastAPI and uvicorn (an optional extra): pip install -e ".[app]" '
           "(or: pip install fastapi uvicorn python-multipart).")


def require_app_extra() -> None:
    """A clear error naming the install command when the app's extra is missing."""
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401  (FastAPI's form / upload parser)
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise ImportError(f"{MISSING} ({err})") from err


def png(image: Tensor) -> str:
    """(C, H, W) in [-1, 1] -> a PNG data URL (grey or RGB), pixels rounded like `lit_gans.sampling.to_uint8_nhwc`."""
    from PIL import Image

    x = ((image.detach().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    array = x[0].numpy() if x.shape[0] == 1 else x.permute(1, 2, 0).numpy()
    buffer = io.BytesIO()
    Image.fromarray(array, "L" if x.shape[0] == 1 else "RGB").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def view_json(view: View) -> dict[str, Any]:
    return {"image": png(view.image), "start": png(view.start), "candidates": [png(c) for c in view.candidates],
            "energy": view.energy, "frames": [png(f) for f in view.frames], "picked": view.picked,
            "seconds": view.seconds, "constraints": view.constraints, "condition": view.condition,
            "photo": png(view.photo) if view.photo is not None else None,
            "values": view.image.tolist(), "info": view.info, "continuous": view.continuous}


def read_upload(data: bytes, shape: tuple[int, int, int]) -> Tensor:
    """Uploaded image bytes -> (C, H, W) in [-1, 1] at G's shape: converted to grey / RGB and resized (bicubic,
    antialiased) as `project.py resize=true convert=true` would."""
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2 import functional as TF

    c, h, w = shape
    try:
        with Image.open(io.BytesIO(data)) as image:
            x = TF.pil_to_tensor(image.convert("L" if c == 1 else "RGB"))
    except UnidentifiedImageError as err:
        raise ValueError("The upload is not an image PIL can read (PNG, JPG, BMP, WebP, ...).") from err
    if tuple(x.shape[-2:]) != (h, w):
        x = TF.resize(x, [h, w], InterpolationMode.BICUBIC, antialias=True)
    return x.to(torch.float32).div(127.5).sub(1.0)


def create_app(session: Session) -> Any:
    """The FastAPI application serving the page and the session's events."""
    require_app_extra()
    from typing import Annotated

    from fastapi import Body, FastAPI, File, HTTPException, UploadFile
    from fastapi.responses import HTMLResponse

    Json = Annotated[dict[str, Any], Body()]

    app = FastAPI(title="lit_gans iGAN")
    page = (STATIC / "igan.html").read_text()

    def call(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return view_json(fn(*args, **kwargs))
        except ValueError as err:  # bad input from the page: a 400 naming the problem
            raise HTTPException(status_code=400, detail=str(err)) from err

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    @app.get("/api/state")
    def state() -> dict[str, Any]:
        return {"config": session.describe(), **view_json(session.view())}

    @app.post("/api/stroke")
    def stroke(body: Json) -> dict[str, Any]:
        if "points" not in body or "tool" not in body:
            raise HTTPException(status_code=400, detail="a stroke needs 'tool' (color|sketch|warp) and 'points'.")
        return call(session.stroke, body["tool"], body["points"], body.get("phase", "end"), body.get("color"),
                    float(body.get("radius", 1.5)))

    @app.post("/api/pick")
    def pick(body: Json) -> dict[str, Any]:
        return call(session.pick, int(body.get("index", 0)))

    def no_body(fn: Any) -> Any:
        return lambda: call(fn)

    for name in ("commit", "undo", "restart", "random"):  # session methods without arguments
        app.add_api_route(f"/api/{name}", no_body(getattr(session, name)), methods=["POST"])

    @app.post("/api/condition")
    def condition(body: Json) -> dict[str, Any]:
        return call(session.set_condition, body.get("label"), body.get("categorical"), body.get("continuous"))

    @app.post("/api/project")
    def project_photo(photo: Annotated[UploadFile, File()]) -> dict[str, Any]:
        try:
            x = read_upload(photo.file.read(), session.space.image_shape)
        except ValueError as err:
            raise HTTPException(status_code=400, detail=str(err)) from err
        return call(session.upload, x)

    return app


def build_session(cfg: Any) -> Session:
    """app.py's session from its config: the checkpoint read as data (`lit_gans.checkpoints` allow-list), G's
    conditions (label / codes), the editor settings, the projection's feature network and, when it exists, the
    encoder P that project.py trained (uploads then use the hybrid projection)."""
    from lit_gans.checkpoints import read_checkpoint
    from lit_gans.manipulation.cli import default_encoder_path, latent_space
    from lit_gans.manipulation.editing import EditSettings
    from lit_gans.manipulation.features import feature_network
    from lit_gans.manipulation.projection import load_encoder
    from lit_gans.sampling import model_from_checkpoint

    path = Path(cfg.ckpt_path)
    ckpt = read_checkpoint(path)  # refused before anything is built if it names foreign code
    model = model_from_checkpoint(ckpt, path).to(cfg.device)
    space = latent_space(model, cfg)
    settings = EditSettings(candidates=cfg.candidates, keep=cfg.keep, iterations=cfg.iterations, lr=cfg.lr,
                            lambda_s=cfg.lambda_s)
    encoder_path = Path(cfg.encoder_ckpt) if cfg.get("encoder_ckpt") else default_encoder_path(path, space)
    encoder = load_encoder(encoder_path, space) if encoder_path.is_file() else None
    if cfg.get("encoder_ckpt") and encoder is None:
        raise FileNotFoundError(f"encoder_ckpt={encoder_path} does not exist (train one: project.py train_encoder=true).")
    features = feature_network(cfg.feature, space.image_shape, cfg.get("feature_weights"), cfg.get("feature_arch", "alexnet"))
    return Session(space, settings, live_iterations=cfg.live_iterations, frames=cfg.frames, encoder=encoder,
                   features=features.to(space.device) if features is not None else None,
                   feature_weight=cfg.feature_weight, projection_steps=cfg.projection_steps, restarts=cfg.restarts,
                   seed=cfg.seed)
