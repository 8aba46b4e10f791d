"""Config is the registry: every conf/callbacks YAML composes and instantiates a Lightning callback."""

from typing import Callable

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig

from helpers import config_names
from lit_gans.training import instantiate_dict


def test_every_callback_config_instantiates(compose_cfg: Callable[..., DictConfig]) -> None:
    names = [n for n in config_names("callbacks") if n not in ("default", "none")]
    cfg = compose_cfg(f"callbacks=[{','.join(names)}]")  # one composition for all of them (each adds its own key)
    assert set(cfg.callbacks) == set(names)
    callbacks = instantiate_dict(cfg.callbacks)
    assert len(callbacks) == len(names) and all(isinstance(c, L.Callback) for c in callbacks)
    assert not instantiate_dict(compose_cfg("callbacks=none").callbacks)
    default = compose_cfg("callbacks=default").callbacks
    assert set(default) == {"model_checkpoint", "samples", "progress_bar", "summary"}
    assert all(isinstance(instantiate(c), L.Callback) for c in default.values())
