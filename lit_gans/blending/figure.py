"""GP-GAN's comparison figure: rows of images under column titles (composite | Poisson-only | GP-GAN | ...)."""

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor


def save_figure(rows: Sequence[Sequence[Tensor]], titles: Sequence[str], path: Path, pad: int = 4) -> Path:
    """A PNG of ``rows`` of (3, H, W) images in [0, 1] (each row one size; rows may differ), with ``titles`` above
    the columns. Returns the path."""
    from PIL import Image, ImageDraw

    if not rows or any(len(row) != len(titles) for row in rows):
        raise ValueError(f"every row needs one image per title ({len(titles)}): {[len(r) for r in rows]}")
    width = max(sum(x.shape[-1] + pad for x in row) + pad for row in rows)
    title_height = 16
    height = title_height + sum(max(x.shape[-2] for x in row) + pad for row in rows) + pad
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    left = pad
    for title, image in zip(titles, rows[0]):
        draw.text((left, 2), title, fill="black")
        left += image.shape[-1] + pad
    top = title_height
    for row in rows:
        left = pad
        for image in row:
            array = (image.detach().float().clamp(0, 1).expand(3, -1, -1) * 255).round().to(torch.uint8)
            canvas.paste(Image.fromarray(array.permute(1, 2, 0).cpu().numpy()), (left, top))
            left += image.shape[-1] + pad
        top += max(x.shape[-2] for x in row) + pad
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
