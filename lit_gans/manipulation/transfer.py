"""Edit transfer (Zhu et al. 2016, Section 5): carry the change along the generated sequence G(z0) -> G(z1) to the
user's photo, so that the photo itself (not G's approximation of it) is edited.

Between consecutive frames I_t, I_{t+1} the seed's energy

    ∬ ‖I_{t+1}(x, y) − A(x, y) · [I_t(x + u, y + v); 1]‖² + σ_s (‖∇u‖² + ‖∇v‖²) + σ_c ‖∇A‖²  dx dy

(written in the "pull" direction: each pixel of the next frame says where in this frame it comes from, which is
what warping the photo forward needs) is solved in two alternating parts:

- motion (u, v): scikit-image's TV-L1 optical flow (`skimage.registration.optical_flow_tvl1`, a maintained
  implementation of Zach et al. 2007 / Wedel et al. 2009) between I_{t+1} and the colour-corrected A·I_t. Its
  regulariser is total variation, not the seed's quadratic σ_s‖∇u‖², which keeps motion boundaries sharp; on
  28-px images both are solved in milliseconds. Flow is estimated on the grey images.
- colour A (C × (C+1) per pixel; 3 × 4 for RGB): local least squares of I_{t+1} against the warped [I_t; 1] over
  a Gaussian window (σ = ``color_sigma`` px) with a ridge pulling A towards the identity. The window plays the part
  of σ_c‖∇A‖² (A varies slowly); with a large window A is one global map. This closed form is exact for a global
  A and is solved in torch.

The photo is then advanced frame by frame, photo_{t+1}(x) = A_t(x) · [photo_t(x + flow_t(x)); 1], the flows
composed so that each output frame samples the photo once (`transfer`).
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class Flow:
    """Motion (2, H, W) as (row, col) displacements (``motion[:, y, x]``: where pixel (y, x) of the next frame is
    read from in this one, relative) and colour maps (H, W, C, C + 1)."""

    motion: Tensor
    color: Tensor


def _grey(image: Tensor) -> np.ndarray:
    return image.mean(0).detach().cpu().double().numpy()


def warp(image: Tensor, motion: Tensor) -> Tensor:
    """image (C, H, W) sampled at (y + motion[0], x + motion[1]), bilinear, borders replicated."""
    c, h, w = image.shape
    rows, cols = torch.meshgrid(torch.arange(h, dtype=image.dtype), torch.arange(w, dtype=image.dtype), indexing="ij")
    y, x = rows + motion[0].to(image.dtype), cols + motion[1].to(image.dtype)
    grid = torch.stack([2 * x / max(w - 1, 1) - 1, 2 * y / max(h - 1, 1) - 1], dim=-1)[None]  # (1, H, W, 2) as (x, y)
    return F.grid_sample(image[None], grid, mode="bilinear", padding_mode="border", align_corners=True)[0]


def apply_color(image: Tensor, color: Tensor) -> Tensor:
    """A(x) · [image(x); 1]: image (C, H, W), color (H, W, C, C + 1) -> (C, H, W)."""
    x = torch.cat([image, torch.ones_like(image[:1])]).permute(1, 2, 0)[..., None]  # (H, W, C + 1, 1)
    return (color.to(image.dtype) @ x)[..., 0].permute(2, 0, 1)


def _blur(x: Tensor, sigma: float) -> Tensor:
    """Gaussian blur of (N, H, W) maps, borders replicated."""
    if sigma <= 0:
        return x
    r = max(1, int(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    x = F.conv2d(F.pad(x[:, None], (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    return x[:, 0]


def estimate_color(source: Tensor, target: Tensor, sigma: float = 4.0, ridge: float = 1e-3) -> Tensor:
    """The per-pixel affine A (H, W, C, C + 1) with target ≈ A · [source; 1], local least squares over a Gaussian
    window (``sigma`` px; ``float('inf')`` for one global map) + ridge·‖A − [I | 0]‖²."""
    c, h, w = source.shape
    x = torch.cat([source, torch.ones_like(source[:1])]).double()  # (C + 1, H, W)
    y = target.double()
    xx = (x[:, None] * x[None]).reshape(-1, h, w)  # (C+1)², H, W
    yx = (y[:, None] * x[None]).reshape(-1, h, w)  # C·(C+1), H, W
    if np.isinf(sigma):
        xx, yx = xx.mean((1, 2), keepdim=True).expand(-1, h, w), yx.mean((1, 2), keepdim=True).expand(-1, h, w)
    else:
        xx, yx = _blur(xx, sigma), _blur(yx, sigma)
    xx = xx.permute(1, 2, 0).reshape(h, w, c + 1, c + 1)
    yx = yx.permute(1, 2, 0).reshape(h, w, c, c + 1)
    identity = torch.eye(c, c + 1, dtype=torch.float64)
    a = torch.linalg.solve(xx + ridge * torch.eye(c + 1, dtype=torch.float64), (yx + ridge * identity).transpose(-1, -2))
    return a.transpose(-1, -2).to(source.dtype)


def _standardised(image: Tensor) -> Tensor:
    return (image - image.mean()) / image.std().clamp_min(1e-6)


def estimate_flow(frame: Tensor, next_frame: Tensor, rounds: int = 3, color_sigma: float = 4.0, ridge: float = 1e-3,
                  attachment: float = 15.0, tightness: float = 0.3) -> Flow:
    """Motion + colour between two frames (C, H, W): next_frame(x) ≈ A(x) · [frame(x + motion(x)); 1].

    Alternates ``rounds`` times: TV-L1 flow between the next frame and the colour-corrected frame (the first round
    compares standardised grey images, as no colour map is known yet), then the colour map given the motion.
    ``attachment`` / ``tightness`` are TV-L1's data weight and coupling (scikit-image's defaults are 15 and 0.3)."""
    from skimage.registration import optical_flow_tvl1

    frame, next_frame = frame.detach().cpu(), next_frame.detach().cpu()  # scikit-image works on CPU arrays
    corrected = frame
    motion = torch.zeros(2, *frame.shape[-2:], dtype=frame.dtype)
    color = torch.eye(frame.shape[0], frame.shape[0] + 1, dtype=frame.dtype).expand(*frame.shape[-2:], -1, -1)
    for i in range(rounds):
        reference, moving = (_standardised(next_frame), _standardised(frame)) if i == 0 else (next_frame, corrected)
        flow = optical_flow_tvl1(_grey(reference), _grey(moving), attachment=attachment, tightness=tightness)
        motion = torch.from_numpy(flow).to(frame.dtype)  # (2, H, W): (row, col)
        color = estimate_color(warp(frame, motion), next_frame, color_sigma, ridge)
        corrected = apply_color(frame, color)  # A (slowly varying) applied in this frame's coordinates
    return Flow(motion, color)


def compose(affine: Tensor, inner: Tensor) -> Tensor:
    """Per-pixel affine maps (H, W, C, C + 1): x -> affine · [inner · [x; 1]; 1]."""
    lin, off = affine[..., :-1], affine[..., -1:]
    return torch.cat([lin @ inner[..., :-1], lin @ inner[..., -1:] + off], dim=-1)


def transfer(photo: Tensor, sequence: Tensor, **options: float) -> Tensor:
    """The photo (C, H, W) carried along ``sequence`` (T, C, H, W), e.g. G(z0) -> G(z1): (T, C, H, W), frame 0 the
    photo itself. ``options`` go to `estimate_flow`.

    The frame-to-frame flows are composed, so each output samples the photo once (resampling frame after frame
    would blur it T times): with photo_k(x) = C_k(x) · [photo(x + M_k(x)); 1], the step k -> k+1 of motion m and
    colour A gives M_{k+1}(x) = m(x) + M_k(x + m(x)) and C_{k+1}(x) = A(x) ∘ C_k(x + m(x))."""
    photo, sequence = photo.detach().cpu(), sequence.detach().cpu()  # the flow is solved on the CPU (scikit-image)
    c, h, w = photo.shape
    motion = torch.zeros(2, h, w, dtype=photo.dtype)
    color = torch.eye(c, c + 1, dtype=photo.dtype).expand(h, w, -1, -1).contiguous()
    frames = [photo]
    for a, b in zip(sequence[:-1], sequence[1:]):
        step = estimate_flow(a, b, **options)
        motion = step.motion + warp(motion, step.motion)
        moved = warp(color.reshape(h, w, -1).permute(2, 0, 1), step.motion).permute(1, 2, 0).reshape(h, w, c, c + 1)
        color = compose(step.color, moved)
        frames.append(apply_color(warp(photo, motion), color).clamp(-1, 1))
    return torch.stack(frames)
