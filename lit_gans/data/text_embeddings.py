"""Images with precomputed text embeddings, the way StackGAN's authors release CUB-200-2011 and Oxford-102 (the
char-CNN-RNN embeddings of Reed et al. 2016, several captions per image).

The layout under ``root`` (our format; it holds only arrays and text, nothing to unpickle):

    filenames.txt     one image path per line, relative to root (e.g. ``images/001.Black_footed_Albatross/x.jpg``)
    embeddings.npy    float array (N, n_captions, dim): the embeddings of line i's captions in row i
                      ((N, dim) is read as one caption per image)

Each item is ``(image (C, H, W) float32 in [-1, 1], embedding (dim,) float32)``, the embedding of one of the
image's captions drawn uniformly at every access, as the authors' ``TextDataset`` does (torch's RNG: seeded,
restored on resume). Images are resized so the short side is ``image_size`` and centre-cropped (the authors also
crop CUB birds to 1.5x their bounding box and random-crop 76 -> 64 px with flips; crop your images beforehand to
match). The authors ship their embeddings as pickles (``char-CNN-RNN-embeddings.pickle``, ``filenames.pickle``);
convert them once, on files you trust, with

    python -c "import pickle, numpy as np; e = pickle.load(open('char-CNN-RNN-embeddings.pickle', 'rb'), encoding='latin1'); \\
               f = pickle.load(open('filenames.pickle', 'rb'), encoding='latin1'); np.save('embeddings.npy', np.asarray(e, np.float32)); \\
               open('filenames.txt', 'w').write(''.join(f'images/{n}.jpg\\n' for n in f))"
"""

from pathlib import Path

import lightning as L
import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from lit_gans.data.errors import DatasetNotFoundError


class CaptionedImages(Dataset[tuple[Tensor, Tensor]]):
    """Image files with their caption embeddings (N, n_captions, dim); one caption drawn per access."""

    def __init__(self, files: list[Path], embeddings: Tensor, mode: str, transform: v2.Compose) -> None:
        self.files, self.embeddings, self.mode, self.transform = files, embeddings, mode, transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        with Image.open(self.files[index]) as image:
            x = self.transform(image.convert(self.mode))
        captions = self.embeddings[index]  # (n_captions, dim)
        return x, captions[int(torch.randint(len(captions), ()))]


def read_embeddings(root: Path, embeddings_file: str, filenames_file: str, embedding_dim: int) -> tuple[list[Path], Tensor]:
    """The listed image paths and the (N, n_captions, dim) embeddings, checked against each other (errors name the fix)."""
    emb_path, names_path = root / embeddings_file, root / filenames_file
    for path, what in ((names_path, "the image list (one path per line, relative to data.root)"),
                       (emb_path, "the embeddings, a float array (N, n_captions, dim) saved with numpy.save")):
        if not path.is_file():
            raise DatasetNotFoundError(f"{path} not found: {what}. See lit_gans/data/text_embeddings.py for the layout "
                                       "(and how to convert the authors' pickles). Fix: set data.root to that folder.")
    names = [line.strip() for line in names_path.read_text().splitlines() if line.strip()]
    array = np.load(emb_path, allow_pickle=False)  # never unpickle data
    if array.ndim == 2:
        array = array[:, None]
    if array.ndim != 3 or not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{emb_path} holds a {array.dtype} array of shape {array.shape}; expected floats of shape "
                         "(N, n_captions, dim) (or (N, dim)).")
    if len(array) != len(names):
        raise ValueError(f"{emb_path} has embeddings for {len(array)} images but {names_path} lists {len(names)}: row i of "
                         "the embeddings belongs to line i of the list; regenerate one of them.")
    if array.shape[-1] != embedding_dim:
        raise ValueError(f"{emb_path} holds {array.shape[-1]}-d embeddings but data.embedding_dim={embedding_dim}: set "
                         f"data.embedding_dim={array.shape[-1]}.")
    files = [root / name for name in names]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DatasetNotFoundError(f"{len(missing)} images listed in {names_path} do not exist, e.g. {missing[0]}. "
                                   "Paths are relative to data.root.")
    return files, torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


class TextEmbeddingFolderDataModule(L.LightningDataModule):
    """Images under ``root`` with their text embeddings: batches ``(images (B, C, H, W) in [-1, 1], embeddings (B,
    embedding_dim) float32)`` for text-conditioned models (StackGAN with ``model.num_classes=0``)."""

    def __init__(self, root: str, image_size: int = 64, channels: int = 3, embedding_dim: int = 1024,
                 embeddings_file: str = "embeddings.npy", filenames_file: str = "filenames.txt", batch_size: int = 64,
                 num_workers: int = 2, center_crop: bool = True, drop_last: bool = True) -> None:
        super().__init__()
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
        self.root = Path(root).expanduser().absolute()
        self.image_size, self.channels, self.embedding_dim = image_size, channels, embedding_dim
        self.embeddings_file, self.filenames_file = embeddings_file, filenames_file
        self.batch_size, self.num_workers, self.center_crop, self.drop_last = batch_size, num_workers, center_crop, drop_last
        self.shape: tuple[int, int, int] = (channels, image_size, image_size)
        self.num_classes: int = 0
        self.train_set: CaptionedImages | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        files, embeddings = read_embeddings(self.root, self.embeddings_file, self.filenames_file, self.embedding_dim)
        resize = [v2.Resize(self.image_size), v2.CenterCrop(self.image_size)] if self.center_crop else \
            [v2.Resize((self.image_size, self.image_size))]
        half = [0.5] * self.channels
        transform = v2.Compose([*resize, v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(half, half)])
        self.train_set = CaptionedImages(files, embeddings, "L" if self.channels == 1 else "RGB", transform)

    def train_dataloader(self) -> DataLoader[tuple[Tensor, Tensor]]:
        if self.train_set is None:
            raise RuntimeError("call setup() before train_dataloader()")
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, drop_last=self.drop_last,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)
