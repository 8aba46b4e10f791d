"""Translate your own images: ``python translate.py ckpt_path=<run>/checkpoints/last.ckpt input=<folder or image>
out=<folder>``.

For translation models (pix2pix; the unpaired models: both directions). Reads PNG / JPG / BMP / WebP files (one file,
or every image under a folder), grey or RGB, converted to the channels the model was trained on; writes one PNG per
input under ``out`` with the same name (and sub-folder). Options:

    direction=AtoB          or BtoA (unpaired models; pix2pix translates the direction it was trained in only)
    resize=256 | [H,W]      resize every input first (bicubic); without it each image keeps its size, which must be
                            one the generator takes (pix2pix: sides divisible by 2^depth): checked for every file
                            before anything is written, the error names the size and this option
    seed=0                  fixes the model's noise (pix2pix: test-time dropout); null: fresh noise each run
    batch_size=1            images of one size translated together (the authors' test code: 1); under pix2pix's
                            test mode (batch statistics) an output depends on the other images of its batch

The checkpoint is read as data (lit_gans.checkpoints: only names on lit_gans' allow-list are built); a model that
draws from noise is refused (use sample.py).
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from lit_gans.checkpoints import read_checkpoint
from lit_gans.sampling import model_from_checkpoint
from lit_gans.translation import (
    check_direction,
    check_translation_model,
    image_files,
    output_paths,
    parse_resize,
    translate_files,
)


@hydra.main(version_base="1.3", config_path="conf", config_name="translate")
def main(cfg: DictConfig) -> list[Path]:
    ckpt = read_checkpoint(Path(cfg.ckpt_path))  # refused before anything is built if it names foreign code
    model = model_from_checkpoint(ckpt, Path(cfg.ckpt_path)).to(cfg.device)
    check_translation_model(model, "translate.py")  # before any image is read
    check_direction(model, cfg.direction)
    source, out = Path(cfg.input), Path(cfg.out)
    files = image_files(source)
    written = translate_files(model, files, output_paths(files, source, out), cfg.direction, cfg.seed,
                              parse_resize(cfg.resize), cfg.batch_size)
    print(f"{len(written)} translated image(s) in {out}")
    return written


if __name__ == "__main__":
    main()
