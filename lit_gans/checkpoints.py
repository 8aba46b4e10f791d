"""Reading our checkpoints with errors that name the fix."""

from pathlib import Path
from typing import Any

import torch


def read_checkpoint(path: str | Path, map_location: str = "cpu") -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of a lit_gans checkpoint (plain containers and tensors only)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={path} does not exist. Point it at <run>/checkpoints/last.ckpt.")
    try:
        # mmap: the resume check reads only hyper_parameters, then Lightning loads the file itself
        return torch.load(path, map_location=map_location, weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means the same thing here
        raise RuntimeError(
            f"ckpt_path={path} is not a readable lit_gans checkpoint ({type(err).__name__}: {err}). "
            "It may be truncated or corrupt; pick another checkpoint from the run's checkpoints/ folder."
        ) from err
