"""The history of generated images the discriminators learn from (Shrivastava et al. 2017, Section 2.3; CycleGAN,
Zhu et al. 2017, Section 4: "we update the discriminators using a history of generated images rather than the
ones produced by the latest generators ... an image buffer that stores the 50 previously created images").

As the authors' ``util/image_pool.py``, image by image: while the pool has fewer than ``size`` images, the new
image is stored and returned; once full, with probability ½ a stored image (uniformly chosen) is returned and the
new one takes its place, otherwise the new image is returned and the pool is unchanged. ``size = 0`` returns the
batch itself. The draws use torch's global CPU generator (seeded by the run, restored on resume: the authors' use
Python's ``random``); `state_dict` holds the stored images, so a checkpoint resumes the pool exactly.
"""

import torch
from torch import Tensor


class ImagePool:
    """A pool of up to ``size`` detached images (C, H, W).

    Example:
        >>> pool = ImagePool(2)
        >>> x = torch.zeros(2, 1, 1, 1)
        >>> torch.equal(pool.query(x), x), len(pool)
        (True, 2)
    """

    def __init__(self, size: int = 50) -> None:
        if size < 0:
            raise ValueError(f"the image pool size must be >= 0, got {size}.")
        self.size = size
        self.images: list[Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: Tensor) -> Tensor:
        """(B, C, H, W) new images -> (B, C, H, W): each the new image or a stored one it replaced (see module)."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif float(torch.rand(())) > 0.5:
                i = int(torch.randint(self.size, ()))
                stored = self.images[i].to(image.device)
                self.images[i] = image.clone()
                out.append(stored)
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Tensor | int]:
        """The stored images as one (N, C, H, W) tensor (N <= size; empty (0,) before the first query)."""
        images = torch.stack([x.cpu() for x in self.images]) if self.images else torch.empty(0)
        return {"size": self.size, "images": images}

    def load_state_dict(self, state: dict[str, Tensor | int]) -> None:
        if int(state["size"]) != self.size:
            raise ValueError(f"the checkpoint's image pool holds up to {state['size']} images, this model's "
                             f"{self.size}: resume with the same model.pool_size.")
        self.images = [x.clone() for x in state["images"]] if len(state["images"]) else []
