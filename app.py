"""The iGAN web app (Zhu et al. 2016, "Generative Visual Manipulation on the Natural Image Manifold"):
``python app.py ckpt_path=<run>/checkpoints/last.ckpt [port=7860] [host=127.0.0.1]`` then open the printed address.

A canvas over G's current image: colour brush, sketch pen and warp drag, updated live while a stroke is drawn (one
Adam step per pointer move) and searched fully when it ends (32 candidates x 25 steps, the best 16 shown: click to
pick); an interpolation slider from the start to the edited image; "upload a photo -> project it"; class / InfoGAN
code pickers. Needs the optional extra: ``pip install -e ".[app]"``. The checkpoint is read as data
(lit_gans.checkpoints' allow-list). See docs/sections/igan.md.
"""

import hydra
import torch
from omegaconf import DictConfig

from lit_gans.manipulation.webapp import build_session, create_app, require_app_extra


@hydra.main(version_base="1.3", config_path="conf", config_name="app")
def main(cfg: DictConfig) -> None:
    require_app_extra()  # before the checkpoint is loaded: a missing extra is the first thing to say
    import uvicorn

    torch.set_num_threads(cfg.threads)
    app = create_app(build_session(cfg))
    print(f"iGAN app on http://{cfg.host}:{cfg.port}/  (Ctrl-C stops it)", flush=True)
    uvicorn.run(app, host=cfg.host, port=int(cfg.port), log_level="warning")


if __name__ == "__main__":
    main()
