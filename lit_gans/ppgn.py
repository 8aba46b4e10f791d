"""The PPGN sampler (Nguyen et al. 2017, "Plug & Play Generative Networks", Eq. 11) in a generator's code space.

One step moves the code h of a generator G (x = G(h)) by

    h <- h + ε1 (R(h) − h) + ε2 ∂log p(y = c | G(h))/∂h + N(0, ε3²)

where R is a denoising autoencoder of h (R(h) − h ∝ ∂log p(h)/∂h, Alain & Bengio 2014: the learned prior) and
p(y | x) an image classifier (the "condition network"; ours: `lit_gans.metrics.mnist_classifier`). Everything here
is pure: G, R and the classifier come in as callables, so any unconditional generator of the collection can be G.

The authors' sampler (github.com/Evolving-AI-Lab/ppgn, ``sampler.py``) differs from the bare formula in three ways,
each an option here (`PPGNSettings`):
  * ``step_size``: it rescales the whole update to a mean absolute value of ``lr`` per step,
    h += lr · d_h / mean|d_h|, so ε1, ε2, ε3 only weigh the three terms against each other (None: the bare formula);
  * ``box``: it clips h to the range of real codes after every step ([0, 30] for their ReLU fc6);
  * ``condition="authors"``: its class gradient back-propagates (1 − p_c) from the class logit alone, i.e.
    ∂log p_c/∂logit_c, dropping the −p_j terms of the other logits; "log_softmax" (default) is Eq. 11's exact
    ∂log p(y = c | G(h))/∂h.

Scaling the authors' preset to our codes (ε1 = 1e-5, ε2 = 1, ε3 = 1e-17, lr = 1, 200 steps, from their
``1_class_conditional_sampling.sh``): ε1, ε2, ε3 are relative weights once the step is normalised, so they carry over
unchanged; the step length and the clipping box do not, since their fc6 code lives in [0, 30] and ours in a box of
width w (z ~ U[-1, 1]: w = 2; z ~ N(0, I): [−3, 3], w = 6; the joint model's ReLU features: [0, max over real
codes]). We keep the step *relative to the box*: lr_ours = lr_authors · w / 30 (one step moves the code by 1/30 of
its range on average, as theirs does), and clip to our box. `scaled_step_size` is that rule.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

CONDITIONS = ("log_softmax", "authors")
AUTHORS_CODE_RANGE = 30.0  # fc6 of CaffeNet, clipped to [0, 30] by the authors' sampler
AUTHORS_STEP_SIZE = 1.0  # lr = lr_end = 1 in 1_class_conditional_sampling.sh


@dataclass(frozen=True)
class PPGNSettings:
    """The sampler's parameters.

    Attributes:
        eps1: weight of the prior term R(h) − h.
        eps2: weight of the condition term ∂log p(y = c | G(h))/∂h.
        eps3: standard deviation of the Gaussian noise added every step.
        steps: number of steps of the chain.
        step_size: None: the bare update of Eq. 11; a float: the authors' normalised step (mean |Δh| = step_size).
        condition: "log_softmax" (Eq. 11) or "authors" ((1 − p_c)·∂logit_c/∂h, their sampler's gradient).
    """

    eps1: float
    eps2: float
    eps3: float
    steps: int = 200
    step_size: float | None = None
    condition: str = "log_softmax"

    def __post_init__(self) -> None:
        if min(self.eps1, self.eps2, self.eps3) < 0:
            raise ValueError(f"ε1, ε2, ε3 must be >= 0, got {self.eps1}, {self.eps2}, {self.eps3}.")
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}.")
        if self.step_size is not None and self.step_size <= 0:
            raise ValueError(f"step_size must be > 0 (or None for the bare update), got {self.step_size}.")
        if self.condition not in CONDITIONS:
            raise ValueError(f"condition must be one of {CONDITIONS}, got {self.condition!r}.")


# The two named settings of the seed. Both use the authors' released sampling values (1_class_conditional_sampling.sh,
# which samples their noiseless joint PPGN-h generator; the published tables); the two models differ in how G and the
# DAE were *trained* (noise on h or not, `PPGNJoint.noise_std`), not in the sampler. step_size is the authors' lr = 1
# before scaling to a code box (`scaled_step_size`).
PRESETS: dict[str, PPGNSettings] = {
    "noiseless_joint_ppgn_h": PPGNSettings(eps1=1e-5, eps2=1.0, eps3=1e-17, steps=200, step_size=AUTHORS_STEP_SIZE,
                                           condition="authors"),
    "joint_ppgn_h": PPGNSettings(eps1=1e-5, eps2=1.0, eps3=1e-17, steps=200, step_size=AUTHORS_STEP_SIZE,
                                 condition="authors"),
    # Eq. 11 as printed, no normalisation: what `ppgn_step` computes with step_size=None (tests, analysis)
    "formula": PPGNSettings(eps1=1e-5, eps2=1.0, eps3=1e-17, steps=200, step_size=None),
}


def preset(name: str, **overrides: Any) -> PPGNSettings:
    """A named preset with some fields replaced (None values are ignored), e.g. ``preset("joint_ppgn_h", steps=50)``."""
    if name not in PRESETS:
        raise ValueError(f"Unknown PPGN preset {name!r}; choose one of {sorted(PRESETS)}.")
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})


def scaled_step_size(step_size: float, box: tuple[float, float]) -> float:
    """The authors' step (mean |Δh| per step on fc6 in [0, 30]) scaled to a code living in ``box``: the same
    fraction of the code's range per step."""
    low, high = box
    if not high > low:
        raise ValueError(f"The code box must have high > low, got {box}.")
    return step_size * (high - low) / AUTHORS_CODE_RANGE


def class_log_prob(logits: Tensor, target: Tensor, condition: str = "log_softmax") -> Tensor:
    """The per-sample objective whose gradient is the ε2 term, (B,).

    "log_softmax": log p(y = c | x) = log_softmax(logits)[c] (Eq. 11).
    "authors": (1 − p_c)·logit_c with p_c held constant: its gradient is (1 − p_c)·∂logit_c, the authors' one-hot
    back-propagation of ∂log p_c/∂logit_c through the class logit only.
    """
    if condition == "log_softmax":
        return F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    if condition == "authors":
        logit = logits.gather(1, target[:, None]).squeeze(1)
        p = F.softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        return (1 - p).detach() * logit
    raise ValueError(f"condition must be one of {CONDITIONS}, got {condition!r}.")


def condition_gradient(h: Tensor, decode: Callable[[Tensor], Tensor], classify: Callable[[Tensor], Tensor],
                       target: Tensor, condition: str = "log_softmax") -> tuple[Tensor, Tensor]:
    """∂log p(y = c | G(h))/∂h (B, d) through G and the classifier, and p(y = c | G(h)) (B,) at the current h."""
    with torch.enable_grad():
        h = h.detach().requires_grad_(True)
        logits = classify(decode(h))  # (B, K)
        objective = class_log_prob(logits, target, condition)
        (grad,) = torch.autograd.grad(objective.sum(), h)  # samples are independent: the sum's gradient is per sample
    prob = F.softmax(logits.detach(), dim=1).gather(1, target[:, None]).squeeze(1)
    return grad, prob


def ppgn_step(h: Tensor, decode: Callable[[Tensor], Tensor], denoise: Callable[[Tensor], Tensor],
              classify: Callable[[Tensor], Tensor], target: Tensor, settings: PPGNSettings,
              box: tuple[float, float] | None = None, noise: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One step of Eq. 11 on codes h (B, d); returns the new codes and p(y = c | G(h)) before the step (B,).

    Args:
        decode: G, h -> images. denoise: R, h -> h (the DAE). classify: images -> logits (B, K).
        target: the requested class c of each sample (B,) int64.
        box: clip the codes into [low, high] after the step (the authors' [0, 30]); None: no clipping.
        noise: the N(0, I) draw scaled by ε3 (B, d); None draws one.
    """
    with torch.no_grad():
        prior = denoise(h) - h if settings.eps1 > 0 else torch.zeros_like(h)  # ∝ ∂log p(h)/∂h (Alain & Bengio 2014)
    if settings.eps2 > 0:
        cond, prob = condition_gradient(h, decode, classify, target, settings.condition)
    else:
        cond = torch.zeros_like(h)
        with torch.no_grad():
            prob = F.softmax(classify(decode(h)), dim=1).gather(1, target[:, None]).squeeze(1)
    noise = torch.randn_like(h) if noise is None else noise
    update = settings.eps1 * prior + settings.eps2 * cond + settings.eps3 * noise  # (B, d)
    if settings.step_size is not None:  # the authors' sampler: mean |Δh| = step_size (per sample)
        scale = update.abs().mean(dim=1, keepdim=True)
        update = torch.where(scale > 0, settings.step_size * update / scale.clamp_min(torch.finfo(h.dtype).tiny),
                             torch.zeros_like(update))
    h = h.detach() + update
    if box is not None:
        h = h.clamp(*box)
    return h, prob


@dataclass
class Chain:
    """What `ppgn_chain` returns: the final codes (B, d) and images, the images of every ``record_every``-th step
    (list of (B, ...) tensors, step 0 = the start), those steps, and p(y = c | G(h)) of every step (steps + 1, B)."""

    codes: Tensor
    images: Tensor
    frames: list[Tensor]
    frame_steps: list[int]
    probs: Tensor


@torch.no_grad()
def ppgn_chain(h: Tensor, decode: Callable[[Tensor], Tensor], denoise: Callable[[Tensor], Tensor],
               classify: Callable[[Tensor], Tensor], target: Tensor, settings: PPGNSettings,
               box: tuple[float, float] | None = None, record_every: int = 0,
               generator: torch.Generator | None = None) -> Chain:
    """Run ``settings.steps`` steps from codes h (B, d) toward the classes ``target`` (B,).

    ``record_every`` k > 0 keeps G(h) of steps 0, k, 2k, ... and the last (the chain's strip). ``generator`` (CPU)
    makes the ε3 noise reproducible.
    """
    if target.shape != h.shape[:1]:
        raise ValueError(f"target must hold one class per code: {tuple(h.shape[:1])}, got {tuple(target.shape)}.")
    frames, frame_steps, probs = [], [], []
    for i in range(settings.steps):
        if record_every > 0 and i % record_every == 0:
            frames.append(decode(h))
            frame_steps.append(i)
        noise = torch.randn(h.shape, generator=generator).to(h) if generator is not None else None
        h, prob = ppgn_step(h, decode, denoise, classify, target, settings, box=box, noise=noise)
        probs.append(prob)
    images = decode(h)
    probs.append(F.softmax(classify(images), dim=1).gather(1, target[:, None]).squeeze(1))
    if record_every > 0:
        frames.append(images)
        frame_steps.append(settings.steps)
    return Chain(h, images, frames, frame_steps, torch.stack(probs))


# ----- sampling from a trained PPGN (sample.py mode=ppgn, benchmarks) ---------------------------------------------
PPGN_INTERFACE = ("decode", "denoise", "code_box", "start_codes")


def check_ppgn_model(model: Any) -> None:
    """A model the sampler can walk: G (``decode``), R (``denoise``), its code box and where chains start."""
    missing = [name for name in PPGN_INTERFACE if not hasattr(model, name)]
    if missing:
        raise ValueError(f"mode=ppgn needs a PPGN checkpoint (a generator with its learned prior R); "
                         f"{type(model).__name__} has no {', '.join(missing)}. Train the DAE of a trained unconditional G "
                         "first: python train.py model=ppgn_dae model.generator_ckpt=<run>/checkpoints/last.ckpt, "
                         "or the joint model: python train.py model=ppgn_joint.")


def load_condition_network(path: str | None, image_shape: tuple[int, ...], device: Any = "cpu") -> torch.nn.Module:
    """The condition network p(y | x): our MNIST classifier (the shipped weights, or ``path``), for 28x28 digits."""
    from lit_gans.metrics.mnist_classifier import load_mnist_classifier  # raises ClassifierWeightsError naming the fix

    if tuple(image_shape) != (1, 28, 28):
        raise ValueError(f"The condition network is our MNIST classifier, which reads (1, 28, 28) digits; this generator "
                         f"makes {tuple(image_shape)} images. PPGN here steers MNIST generators (data=mnist runs).")
    return load_mnist_classifier(path, device=device)


def ppgn_samples(model: Any, classes: list[int], n: int, settings: PPGNSettings, classifier: torch.nn.Module,
                 record_every: int = 0, generator: torch.Generator | None = None) -> dict[str, Any]:
    """n chains per requested class from the model's start codes; returns ``images`` (N, C, H, W) in [-1, 1],
    ``labels`` (N,) the requested classes, ``codes`` (N, d) the final h, ``start_codes`` (N, d), ``prob``
    (N,) the classifier's p(y = c | G(h)) at the end, ``probs`` (steps + 1, N), and the chain's ``frames``
    (list of (N, C, H, W)) at ``frame_steps``. The authors' step size is scaled to the model's code box
    (`scaled_step_size`)."""
    check_ppgn_model(model)
    num_classes = getattr(classifier, "num_classes", 10)
    if not classes or any(not 0 <= int(c) < num_classes for c in classes):
        raise ValueError(f"class must be one or more of 0..{num_classes - 1}, got {classes}.")
    box = model.code_box()
    if settings.step_size is not None:
        settings = replace(settings, step_size=scaled_step_size(settings.step_size, box))
    device = next(model.parameters()).device
    target = torch.tensor([int(c) for c in classes for _ in range(n)], dtype=torch.long, device=device)
    start = model.start_codes(len(target), generator=generator).to(device)
    chain = ppgn_chain(start, model.decode, model.denoise, classifier, target, settings, box=box,
                       record_every=record_every, generator=generator)
    return {"images": chain.images, "labels": target, "codes": chain.codes, "start_codes": start,
            "prob": chain.probs[-1], "probs": chain.probs, "frames": chain.frames, "frame_steps": chain.frame_steps}
