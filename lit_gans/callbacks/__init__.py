"""Lightning callbacks: sample grids / scatter plots, generator metrics (and the Parzen-window likelihood), the generator EMA, the momentum ramp and the run summary."""

from lit_gans.callbacks.checkpoint import PeriodicCheckpoint
from lit_gans.callbacks.critic_diagnostics import CriticDiagnostics
from lit_gans.callbacks.ema import GeneratorEMA, ema_weights
from lit_gans.callbacks.encoder_metrics import EncoderMetrics
from lit_gans.callbacks.generator_metrics import GeneratorMetrics
from lit_gans.callbacks.momentum_ramp import MomentumRamp
from lit_gans.callbacks.optimizer_diagnostics import StepGradientCosine
from lit_gans.callbacks.parzen import ParzenLikelihood
from lit_gans.callbacks.samples import SampleGrid
from lit_gans.callbacks.summary import RunSummary

__all__ = ["CriticDiagnostics", "EncoderMetrics", "GeneratorEMA", "GeneratorMetrics", "MomentumRamp", "ParzenLikelihood", "PeriodicCheckpoint", "RunSummary", "SampleGrid", "StepGradientCosine", "ema_weights"]
