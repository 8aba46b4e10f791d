"""DDP on CPU: trainer=ddp_spawn with 2 processes (gloo) trains, syncs its metrics and resumes."""

from pathlib import Path
from typing import Any, Callable

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict

from helpers import config_names
from lit_gans.training import instantiate_datamodule, train

# DDP tests start processes of their own: one xdist worker runs them one at a time (ports, cores)
pytestmark = pytest.mark.xdist_group("ddp")

Compose = Callable[..., DictConfig]
# 512 points: 4 batches of 64 per rank; n_critic 2 (the D/G phase must agree across ranks): 4 D + 2 G steps an epoch
DDP = ["model=wgan_gp", "model.n_critic=2", "data=ring8", "data.num_samples=512", "+data.num_val_samples=256",
       "batch_size=64", "trainer=ddp_spawn", "trainer.accelerator=cpu", "trainer.devices=2", "metrics=modes",
       "metrics.num_samples=500", "metrics.batch_size=100", "callbacks=model_checkpoint", "seed=0"]
SYNCED = ("val/d_real", "val/modes_covered", "val/high_quality_pct", "val/reverse_kl")


class RankRecorder(L.Callback):
    """Saves what each process saw: its step counts, logged metrics and generator weights
    (a spawned rank's state is otherwise lost with the process)."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir, self.start_step, self.rng = Path(out_dir), -1, torch.empty(0)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start_step = trainer.global_step

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        if batch_idx == 0:
            self.rng = torch.get_rng_state()  # what the first z of this rank is drawn from

    def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        torch.save({"world_size": trainer.world_size, "start_step": self.start_step, "end_step": trainer.global_step,
                    "rng": self.rng, "metrics": {k: float(v) for k, v in trainer.callback_metrics.items()},
                    "generator": pl_module.generator.state_dict()},
                   self.out_dir / f"rank{trainer.global_rank}.pt")


def ddp_cfg(compose_cfg: Compose, out_dir: Path, *overrides: str) -> DictConfig:
    out_dir.mkdir()
    cfg = compose_cfg(*DDP, *overrides)
    with open_dict(cfg):
        cfg.callbacks.recorder = {"_target_": f"{__name__}.RankRecorder", "out_dir": str(out_dir)}
    return cfg


def ranks(out_dir: Path) -> list[dict[str, Any]]:
    return [torch.load(out_dir / f"rank{r}.pt", weights_only=True) for r in (0, 1)]


def test_ddp_spawn_on_two_cpu_processes_syncs_and_resumes(compose_cfg: Compose, tmp_path: Path, one_thread: None) -> None:
    cfg = ddp_cfg(compose_cfg, tmp_path / "first", "trainer.max_epochs=1")
    train(cfg)
    first = ranks(tmp_path / "first")
    assert [r["world_size"] for r in first] == [2, 2]
    assert [(r["start_step"], r["end_step"]) for r in first] == [(0, 6), (0, 6)]  # per-rank optimizer steps
    # each rank draws its own z (AdversarialModule.on_train_start): the global fake batch is 2 x 64 distinct samples
    assert not torch.equal(first[0]["rng"], first[1]["rng"])
    # gradients are averaged across ranks: both generators trained on different shards, yet are equal ...
    for (name, a), b in zip(first[0]["generator"].items(), first[1]["generator"].values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=lambda m, n=name: f"{n}: {m}")
    L.seed_everything(0)  # ... and trained: they moved from the seeded initial weights
    initial = instantiate(cfg.model, _recursive_=False).generator.state_dict()
    assert any(not torch.equal(initial[k], v) for k, v in first[0]["generator"].items())
    # every rank logs the same, synced, validation values
    for key in SYNCED:
        assert first[0]["metrics"][key] == first[1]["metrics"][key], key

    # the same numbers from one process: the checkpoint's networks validated by a 1-device Trainer
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    state = torch.load(ckpt, weights_only=True)
    assert state["global_step"] == 6
    model = instantiate(cfg.model, _recursive_=False)
    model.load_state_dict(state["state_dict"])
    single = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                       callbacks=[instantiate(cfg.metrics)])
    [one] = single.validate(model, datamodule=instantiate_datamodule(cfg.data), verbose=False)
    # D's mean on the 256 validation points: each rank scored half of them, the synced mean is over all
    torch.testing.assert_close(first[0]["metrics"]["val/d_real"], one["val/d_real"])
    # the generator metrics score the same 500 samples, whether 1 or 2 processes count them
    for key in ("val/modes_covered", "val/high_quality_pct", "val/reverse_kl"):
        assert first[0]["metrics"][key] == one[key], key

    # resume: both ranks continue from step 6 (not from scratch) to the end of epoch 2
    train(ddp_cfg(compose_cfg, tmp_path / "resumed", "trainer.max_epochs=2", f"ckpt_path={ckpt}"))
    resumed = ranks(tmp_path / "resumed")
    assert [(r["start_step"], r["end_step"]) for r in resumed] == [(6, 12), (6, 12)]
    assert not torch.equal(resumed[0]["rng"], resumed[1]["rng"])  # the saved state is rank 0's: re-split
    assert torch.load(ckpt, weights_only=True)["global_step"] == 12
    for a, b in zip(resumed[0]["generator"].values(), resumed[1]["generator"].values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("name", config_names("trainer"))
def test_every_trainer_config_composes_and_the_cpu_ones_build(compose_cfg: Compose, name: str) -> None:
    cfg = compose_cfg(f"trainer={name}")
    if cfg.trainer.accelerator == "gpu":  # no GPU here: check what it asks for
        assert cfg.trainer.devices >= 1
        return
    with open_dict(cfg):
        cfg.trainer.accelerator = "cpu"
    trainer = instantiate(cfg.trainer)
    assert trainer.world_size == cfg.trainer.devices * cfg.trainer.num_nodes
    if "ddp" in name:  # the D step gives G no gradients: DDP must not expect them
        assert trainer.strategy._ddp_kwargs.get("find_unused_parameters") is True
        assert trainer.strategy._start_method == ("spawn" if name == "ddp_spawn" else "popen")
