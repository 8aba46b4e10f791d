"""iGAN (Zhu et al. 2016, "Generative Visual Manipulation on the Natural Image Manifold"): project a photo onto a
generator's manifold, edit it there with colour / sketch / warp constraints, interpolate, and transfer the edit
back to the photo. A library API (the command line: project.py; the web app builds on `Editor`)."""

from lit_gans.manipulation.editing import (
    ColorStroke,
    EditResult,
    EditSettings,
    Editor,
    SketchStroke,
    Warp,
    brush,
    constraint_energy,
    drag,
    edit,
    sketch_stroke,
    stroke_region,
)
from lit_gans.manipulation.features import BackboneFeatures, MNISTFeatures, feature_network
from lit_gans.manipulation.latent import LatentSpace
from lit_gans.manipulation.projection import (
    METHODS,
    Projection,
    ProjectionEncoder,
    encode,
    load_encoder,
    optimize,
    project,
    save_encoder,
    train_encoder,
)
from lit_gans.manipulation.transfer import Flow, estimate_color, estimate_flow, transfer

__all__ = [
    "BackboneFeatures", "ColorStroke", "EditResult", "EditSettings", "Editor", "Flow", "LatentSpace", "METHODS",
    "MNISTFeatures", "Projection", "ProjectionEncoder", "SketchStroke", "Warp", "brush", "constraint_energy", "drag", "edit", "sketch_stroke",
    "encode", "estimate_color", "estimate_flow", "feature_network", "load_encoder", "optimize", "project",
    "save_encoder", "stroke_region", "train_encoder", "transfer",
]
