"""FID in the target domain of the unpaired models (`lit_gans.metrics.domain_fid`, CycleGAN's validation): the
feature choice per domain, the number against the Fréchet formula, the metric names, and the refusals."""

from typing import Any

import lightning as L
import numpy as np
import pytest
import torch
from scipy import linalg
from torch.testing import assert_close
from torch.utils.data import DataLoader

from lit_gans.data import Unpaired
from lit_gans.data.unpaired import collate_unpaired
from lit_gans.metrics import load_mnist_classifier
from lit_gans.metrics.domain_fid import domain_features, fid_suffix, grey_digits, new_fid
from lit_gans.models import CycleGAN, DualGAN
from models.test_cyclegan import LSGAN, PATCH, RESNET
from models.test_skeleton import ADAM

SIZE = 32
NETS = dict(generator={**RESNET, "in_shape": [3, SIZE, SIZE]}, discriminator=PATCH, loss=LSGAN, optimizer_g=ADAM,
            optimizer_d=ADAM, latent_dim=0)


def frechet(x: np.ndarray, y: np.ndarray) -> float:
    """‖μx − μy‖² + Tr(Σx + Σy − 2 (Σx Σy)^½) (Heusel et al. 2017, unbiased covariances as torchmetrics)."""
    mx, my = x.mean(0), y.mean(0)
    sx, sy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = linalg.sqrtm(sx @ sy).real
    return float(((mx - my) ** 2).sum() + np.trace(sx + sy - 2 * root))


def test_fid_of_precomputed_features_is_the_frechet_formula_in_float64() -> None:
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(40, 3, generator=g, dtype=torch.float64), torch.randn(30, 3, generator=g, dtype=torch.float64) * 1.5 + 0.3
    fid = new_fid(3)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    assert_close(float(fid.compute()), frechet(real.numpy(), fake.numpy()), rtol=1e-6, atol=1e-8)


def test_each_target_domain_names_its_feature_space() -> None:
    assert (fid_suffix("mnist"), fid_suffix("mnistm"), fid_suffix(None)) == ("mnist", "mnist_grey", "inception")


def test_digit_domains_use_the_classifier_features_of_the_grey_central_28px() -> None:
    images = torch.rand(4, 3, SIZE, SIZE) * 2 - 1
    grey = grey_digits(images)
    assert grey.shape == (4, 1, 28, 28)
    assert_close(grey, images.mean(1, keepdim=True)[..., 2:30, 2:30])
    classifier = load_mnist_classifier()
    for domain in ("mnist", "mnistm"):
        features, dim = domain_features(domain, lambda: classifier, lambda: pytest.fail("no Inception for digits"))
        assert dim == classifier.num_features
        assert_close(features(images), classifier.features(grey))
    with pytest.raises(ValueError, match="at least 28x28"):
        grey_digits(torch.zeros(1, 3, 16, 16))


class Digits(L.LightningDataModule):
    """A validation split of random 'A' and 'B' images with labels, declared as MNIST -> MNIST-M (or no domains)."""

    def __init__(self, domains: tuple[str, str] | None = ("mnist", "mnistm")) -> None:
        super().__init__()
        if domains is not None:
            self.domains = domains
        g = torch.Generator().manual_seed(1)
        self.data = Unpaired(torch.rand(16, 3, SIZE, SIZE, generator=g) * 2 - 1, torch.rand(16, 3, SIZE, SIZE, generator=g) * 2 - 1,
                             torch.arange(16) % 10, torch.arange(16) % 10)

    def val_dataloader(self) -> DataLoader:
        items = [tuple(x[i] for x in self.data) for i in range(16)]
        return DataLoader(items, batch_size=8, collate_fn=collate_unpaired)


def validate(model: Any, datamodule: L.LightningDataModule) -> dict[str, float]:
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    [logged] = trainer.validate(model, datamodule=datamodule, verbose=False)
    return {k: float(v) for k, v in logged.items()}


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # 16 images, 128-d features: a rank-15 covariance
@pytest.mark.parametrize("cls", [CycleGAN, DualGAN])
def test_validation_logs_fid_in_each_target_domain_equal_to_the_formula_on_its_features(cls: type) -> None:
    torch.manual_seed(0)
    model, data = cls(**NETS), Digits()
    logged = validate(model, data)
    assert {"val/fid_ab_mnist_grey", "val/fid_ba_mnist", "val/digit_preservation_ab"} <= set(logged)
    classifier = load_mnist_classifier()
    features = lambda x: classifier.features(grey_digits(x)).double().numpy()  # noqa: E731
    batches = [data.data.a[:8], data.data.a[8:]], [data.data.b[:8], data.data.b[8:]]
    fake_b = torch.cat([model.translate(x, "AtoB", seed=i) for i, x in enumerate(batches[0])])
    fake_a = torch.cat([model.translate(x, "BtoA", seed=i) for i, x in enumerate(batches[1])])
    assert_close(logged["val/fid_ab_mnist_grey"], frechet(features(data.data.b), features(fake_b)), rtol=1e-4, atol=1e-4)
    assert_close(logged["val/fid_ba_mnist"], frechet(features(data.data.a), features(fake_a)), rtol=1e-4, atol=1e-4)


def test_val_fid_none_logs_no_fid_and_other_domains_without_inception_weights_log_none_with_a_warning(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    logged = validate(CycleGAN(**NETS, val_fid="none"), Digits())
    assert not [k for k in logged if k.startswith("val/fid")] and "val/digit_preservation_ab" in logged
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache: no weights on disk
    with pytest.warns(UserWarning, match="model.inception_weights"):
        logged = validate(CycleGAN(**NETS), Digits(domains=None))
    assert not [k for k in logged if k.startswith("val/fid")]


def test_required_inception_without_its_weights_and_unknown_modes_are_refused_naming_the_fix(tmp_path: Any) -> None:
    model = CycleGAN(**NETS, val_fid="inception", inception_weights=str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="model.inception_weights=<path"):
        validate(model, Digits(domains=None))
    with pytest.raises(ValueError, match="model.val_fid must be one of"):
        CycleGAN(**NETS, val_fid="mnist")
