"""Every YAML under conf/ composes into the train config in its own group, with every
interpolation resolving (the group tests in test_configs.py go further and build the objects)."""

from typing import Callable

import pytest
from omegaconf import DictConfig, OmegaConf

from helpers import CONF

Compose = Callable[..., DictConfig]
ENTRY_POINTS = {"train", "evaluate", "sample", "encode", "translate", "blend", "project", "app"}  # top-level configs, composed by their scripts
# package-placed groups: a net config lands on the model's generator / discriminator
PLACED = {"net/generator": "net/generator@model.generator", "net/discriminator": "net/discriminator@model.discriminator",
          # the encoder family (BiGAN, ALI): placed on a model that has them
          "net/encoder": "net/encoder@model.encoder", "net/joint_discriminator": "net/joint_discriminator@model.joint_discriminator",
          "net/mapping": "net/mapping@model.mapping",  # ALAE's F
          "optimizer": "optimizer@model.optimizer_g"}  # a model whose optimizers are a group (LAPGAN)
ON_MODEL = {"net/encoder": "model=bigan", "net/joint_discriminator": "model=bigan",
            "net/mapping": "model=alae", "optimizer": "model=lapgan"}  # groups only some models have
BUILT_IN_TEST_CONFIGS = {"model", "data", "experiment", "loss"}  # test_configs.py composes and builds every one of these


def group_files() -> list[tuple[str, str]]:
    files = sorted(CONF.rglob("*.yaml"))
    out = [(str(p.parent.relative_to(CONF)), p.stem) for p in files if p.parent != CONF]
    out = [(group, name) for group, name in out if group not in BUILT_IN_TEST_CONFIGS]
    assert {p.stem for p in files if p.parent == CONF} == ENTRY_POINTS, "a new top-level config needs its own test"
    return out


@pytest.mark.parametrize("group, name", group_files(), ids=lambda v: str(v))
def test_config_composes_and_resolves(compose_cfg: Compose, group: str, name: str) -> None:
    if group == "hydra":  # conf/hydra/default.yaml is already in every composition (train.yaml's defaults)
        cfg = compose_cfg()
        assert cfg.hydra.run.dir.startswith("outputs/")
        return
    override = f"{PLACED.get(group, group)}={name}"
    cfg = compose_cfg(*([ON_MODEL[group]] if group in ON_MODEL else []), override, quiet=False)
    plain = {k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
             for k, v in cfg.items() if k != "hydra"}  # raises on any interpolation that does not resolve
    assert plain["model"]["_target_"].startswith("lit_gans.models")
    if group == "hydra/launcher":
        assert "submitit" in cfg.hydra.launcher._target_
