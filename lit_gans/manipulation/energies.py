"""The energies iGAN minimises over z, as pure functions of images (Zhu et al. 2016, Sections 3.2 and 4).

Images are (B, C, H, W) in [-1, 1]; masks are (H, W) or (B, H, W) with 1 where the constraint acts. Every energy
returns one value per image (B,) so that batched candidates / restarts are ranked independently, and is 0 exactly
when its constraint is met.

    projection   L(x, G(z)) = ‖G(z) − x‖² / n + λ_f ‖F(G(z)) − F(x)‖² / m        (eq. (3): pixel + feature loss)
    editing      Σ_g ‖f_g(G(z)) − v_g‖² + λ_s ‖z − z0‖²                            (eq. (6))
      colour     f = the pixels under the brush, v = the brush colour; MSE normalised by the brush area
      sketch     f = oriented edge features (HOG-like) near the stroke, v = those of the drawn strokes (relative error)
      warp       f = the pixels of the destination region, v = the source region of the image being warped
"""

import torch
import torch.nn.functional as F
from torch import Tensor

EDGE_ORIENTATIONS = 4  # orientation bins of the edge features (HOG's are 9 over 8x8 cells; 28 px images need fewer)


def _per_image(x: Tensor) -> Tensor:
    return x.flatten(1).mean(1)


def _mask(mask: Tensor, like: Tensor) -> Tensor:
    """(H, W) or (B, H, W) -> (B or 1, 1, H, W) float on like's device."""
    mask = mask.to(like.device, like.dtype)
    return mask[None, None] if mask.dim() == 2 else mask[:, None]


def reconstruction_loss(generated: Tensor, target: Tensor, features: torch.nn.Module | None = None,
                        feature_weight: float = 0.0, target_features: Tensor | None = None) -> Tensor:
    """Eq. (3) of Zhu et al.: per-pixel MSE + feature_weight · MSE of ``features`` (B,). The authors' setting is
    pixel MSE + 0.002 × AlexNet conv4 MSE; ``target_features`` saves recomputing F(x) at every iteration."""
    loss = _per_image((generated - target) ** 2)
    if features is not None and feature_weight > 0:
        ft = features(target) if target_features is None else target_features
        loss = loss + feature_weight * _per_image((features(generated) - ft) ** 2)
    return loss


def color_energy(images: Tensor, mask: Tensor, color: Tensor) -> Tensor:
    """Colour strokes: Σ_p M_p ‖x_p − c‖² / (C · Σ_p M_p), the squared error of the pixels under the brush to its
    colour ``color`` (C,) (or a per-pixel colour image (C, H, W)), normalised by the brush area (B,)."""
    m = _mask(mask, images)
    c = color.to(images.device, images.dtype)
    c = c.view(1, -1, 1, 1) if c.dim() == 1 else c.view(1, *c.shape[-3:])
    area = m.flatten(1).sum(1).clamp_min(1e-8) * images.shape[1]
    return (m * (images - c) ** 2).flatten(1).sum(1) / area


def edge_features(images: Tensor, orientations: int = EDGE_ORIENTATIONS, cell: int = 3) -> Tensor:
    """HOG-like edge features (B, orientations, H, W): Sobel gradients of the grey image, their magnitude split
    softly into unsigned orientation bins (cos² weights), pooled over ``cell``×``cell`` neighbourhoods (the
    tolerance of HOG's cells: an edge one pixel off still matches)."""
    grey = images.mean(1, keepdim=True)
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=images.device, dtype=images.dtype) / 8
    kernel = torch.stack([kx, kx.T])[:, None]  # (2, 1, 3, 3): d/dx, d/dy
    g = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernel)
    gx, gy = g[:, :1], g[:, 1:]
    magnitude = (gx ** 2 + gy ** 2 + 1e-12).sqrt()
    angle = torch.atan2(gy, gx)  # unsigned orientation: θ and θ + π fall in the same bin (cos² is π-periodic)
    centres = torch.arange(orientations, device=images.device, dtype=images.dtype) * torch.pi / orientations
    weights = torch.cos(angle - centres.view(1, -1, 1, 1)) ** 2  # Σ_k cos²(θ − kπ/K) = K/2
    hist = magnitude * weights * (2.0 / orientations)
    return F.avg_pool2d(hist, cell, stride=1, padding=cell // 2, count_include_pad=False)


def sketch_energy(images: Tensor, mask: Tensor, sketch: Tensor, orientations: int = EDGE_ORIENTATIONS) -> Tensor:
    """Sketch strokes: the masked squared error between the edge features of G(z) and those of ``sketch``
    (C, H, W), the strokes drawn on a blank image, relative to the strokes' own edge energy under the mask (B,):
    Σ_p M_p ‖f(G(z))_p − f(s)_p‖² / Σ_p M_p ‖f(s)_p‖². ``mask`` is the stroke's neighbourhood (e.g. the strokes
    dilated), so edges must appear on the stroke and nowhere else near it. The relative scale makes 0 "the edges
    match" and 1 "no edges there" whatever the feature scale: our Sobel-based features are ~40x smaller in square
    than pixel values, so a plain MSE (the authors' HOG MSE, weight 0.2) barely registered against λ_s."""
    target = edge_features(sketch.to(images.device, images.dtype).view(1, *sketch.shape[-3:]), orientations)
    m = _mask(mask, images)
    scale = (m * target ** 2).flatten(1).sum(1).clamp_min(1e-8)
    return (m * (edge_features(images, orientations) - target) ** 2).flatten(1).sum(1) / scale


def shift_image(image: Tensor, dy: int, dx: int, fill: float = 0.0) -> Tensor:
    """image (..., H, W) moved by (dy, dx) whole pixels, what leaves the frame dropped, ``fill`` entering."""
    out = torch.full_like(image, fill)
    h, w = image.shape[-2:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = image[..., ys, xs]
    return out


def warp_energy(images: Tensor, mask: Tensor, reference: Tensor, shift: tuple[int, int]) -> Tensor:
    """Warping: a region ``mask`` (H, W) of ``reference`` (C, H, W) dragged by ``shift`` = (dy, dx) pixels; the MSE
    between G(z) on the destination region and the reference's source pixels moved there, normalised by its area."""
    dy, dx = int(shift[0]), int(shift[1])
    moved = shift_image(reference.to(images.device, images.dtype).view(1, *reference.shape[-3:]), dy, dx)
    return color_energy(images, shift_image(mask.to(images.dtype), dy, dx), moved[0])


def latent_distance(z: Tensor, z0: Tensor) -> Tensor:
    """‖z − z0‖² per latent (B,): the edit's term λ_s‖z − z0‖² that keeps the result near the start."""
    return ((z - z0) ** 2).flatten(1).sum(1)
