"""Instance noise (Sønderby et al. 2017, "Amortised MAP Inference for Image Super-resolution", Section 3.2;
Arjovsky & Bottou 2017, "Towards Principled Methods for Training GANs", Section 3).

Adding N(0, σ²) to every sample the discriminator sees, real and fake, makes the two distributions
overlap, so D cannot separate them perfectly and G's gradient stays informative; σ is annealed to 0
so that the model still fits the clean data in the end.
"""

import math
from typing import Any

import torch
from torch import Tensor

SCHEDULES = ("constant", "linear", "exponential")
EXPONENTIAL_FLOOR = 0.01  # the exponential schedule reaches 1 % of σ at anneal_steps, then switches off


def instance_noise_std(step: int, sigma: float, anneal_steps: int, schedule: str = "linear") -> float:
    """σ_t after ``step`` optimizer steps: "linear" σ(1 − t/N), "exponential" σ·0.01^(t/N), both 0 from
    t = N on; "constant" σ forever.

    Example:
        >>> instance_noise_std(50, 0.2, 100, "linear"), instance_noise_std(100, 0.2, 100, "exponential")
        (0.1, 0.0)
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"instance noise schedule must be one of {SCHEDULES}, got {schedule!r}.")
    if schedule == "constant":
        return float(sigma)
    if step >= anneal_steps:
        return 0.0
    fraction = step / anneal_steps
    if schedule == "linear":
        return float(sigma) * (1.0 - fraction)
    return float(sigma) * math.pow(EXPONENTIAL_FLOOR, fraction)


def add_instance_noise(samples: Any, std: float) -> Any:
    """``samples`` with N(0, std²) added to its images: a tensor, or every image-shaped tensor field of a
    NamedTuple batch (`Labeled` images, both of Cramér's generator batches; labels, codes and the noise z that
    made the fakes untouched, also when z has the data's shape)."""
    if std == 0:
        return samples
    if isinstance(samples, Tensor):
        return samples + std * torch.randn_like(samples)
    shape = samples.images.shape
    return samples._replace(**{
        name: value + std * torch.randn_like(value)
        for name, value in samples._asdict().items()
        if name != "z" and isinstance(value, Tensor) and value.shape == shape and value.is_floating_point()
    })
