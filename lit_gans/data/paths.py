"""Where datasets live on disk."""

import os
from pathlib import Path

DATA_DIR_ENV = "LIT_GANS_DATA_DIR"


def resolve_data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Return `root` if given, else `$LIT_GANS_DATA_DIR` if set, else `./data`.

    `~` is expanded and the path made absolute, so error messages name an unambiguous folder and
    a later change of working directory (e.g. by Hydra) cannot change which folder is meant.
    """
    if root is None or str(root) == "":
        # An empty variable counts as unset (`LIT_GANS_DATA_DIR= python ...` should not mean cwd).
        root = os.environ.get(DATA_DIR_ENV) or "data"
    return Path(root).expanduser().absolute()
