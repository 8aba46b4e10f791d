"""Lightning callbacks: sample grids / scatter plots and generator metrics."""

from lit_gans.callbacks.generator_metrics import GeneratorMetrics
from lit_gans.callbacks.samples import SampleGrid

__all__ = ["GeneratorMetrics", "SampleGrid"]
