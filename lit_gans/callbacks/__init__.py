"""Lightning callbacks: sample grids / scatter plots."""

from lit_gans.callbacks.samples import SampleGrid

__all__ = ["SampleGrid"]
