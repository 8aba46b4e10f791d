"""Locating the real MNIST files used by the torchvision data module tests."""

import os
from pathlib import Path

import pytest

from lit_gans.data.images import SOURCES
from lit_gans.data.paths import DATA_DIR_ENV


def _find_mnist_root() -> Path | None:
    """$LIT_GANS_DATA_DIR, else shared/data beside the repository (as in CI)."""
    beside_repo = Path(__file__).resolve().parents[3] / "shared" / "data"
    for root in filter(None, [os.environ.get(DATA_DIR_ENV), beside_repo]):
        raw = Path(root) / "MNIST" / "raw"
        if all((raw / f).is_file() for f in SOURCES["mnist"].files):
            return Path(root)
    return None


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """Folder holding MNIST/raw with the four uncompressed IDX files; skips the test if absent."""
    root = _find_mnist_root()
    if root is None:
        searched = f"${DATA_DIR_ENV} or ../shared/data"
        pytest.skip(f"MNIST raw IDX files not found under {searched}")
    return root
