"""Lightning callbacks: sample grids / scatter plots, generator metrics, the generator EMA and the run summary."""

from lit_gans.callbacks.ema import GeneratorEMA, ema_weights
from lit_gans.callbacks.generator_metrics import GeneratorMetrics
from lit_gans.callbacks.samples import SampleGrid
from lit_gans.callbacks.summary import RunSummary

__all__ = ["GeneratorEMA", "GeneratorMetrics", "RunSummary", "SampleGrid", "ema_weights"]
