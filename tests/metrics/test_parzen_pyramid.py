"""The per-scale Parzen estimate of a Laplacian pyramid model: an explicit mixture-density loop on a 2×2 → 4×4 case,
the total as the sum of the levels' terms, a toy whose level generators know the true residual, and the callback's
per_scale option on a LAPGAN (and its refusals)."""

import math

import lightning as L
import numpy as np
import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from lit_gans.callbacks import ParzenLikelihood
from lit_gans.metrics.parzen_pyramid import conditional_parzen_log_likelihood, pyramid_parzen_window
from lit_gans.pyramid import laplacian_pyramid
from metrics.test_parzen import Generator, Splits

SIGMAS = [0.05, 0.1, 0.2, 0.4]


class RecordingSampler:
    """h̃ = 0.3·l + seeded N(0, 0.2²) noise, one per row; remembers every batch of conditions and draws."""

    def __init__(self, seed: int = 0) -> None:
        self.noise, self.draws, self.lows = torch.Generator().manual_seed(seed), [], []

    def __call__(self, k: int, low: Tensor) -> Tensor:
        draw = 0.3 * low + 0.2 * torch.randn(low.shape, generator=self.noise)
        self.draws.append((k, draw))
        self.lows.append(low)
        return draw


def mixture_log_density(x: np.ndarray, centres: np.ndarray, sigma: float) -> float:
    """log(1/M Σ_i Π_d N(x_d; c_id, σ²)), the Gaussian mixture summed term by term (float64, no logsumexp)."""
    density = 0.0
    for c in centres:
        density += np.prod(np.exp(-((x - c) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi)))
    return math.log(density / len(centres))


def test_two_levels_by_hand() -> None:
    g = torch.Generator().manual_seed(0)
    valid, test = laplacian_pyramid(torch.rand(4, 1, 4, 4, generator=g), [2, 4]), laplacian_pyramid(
        torch.rand(3, 1, 4, 4, generator=g), [2, 4])
    coarse = torch.rand(5, 1, 2, 2, generator=g)
    sampler = RecordingSampler()
    result = pyramid_parzen_window(coarse, sampler, valid, test, samples_per_image=6, sigmas=SIGMAS, batch_size=1000)

    # level 0: one window on the 5 unconditional samples; σ the best mean on the validation I_0
    c0 = coarse.flatten(1).double().numpy()
    valid0 = [np.mean([mixture_log_density(x, c0, s) for x in valid[0].flatten(1).double().numpy()]) for s in SIGMAS]
    sigma0 = SIGMAS[int(np.argmax(valid0))]
    level0 = [mixture_log_density(x, c0, sigma0) for x in test[0].flatten(1).double().numpy()]
    # level 1: every image its own window on the 6 draws conditioned on its l (draw calls: validation, then test)
    assert [(k, d.shape) for k, d in sampler.draws] == [(1, (4 * 6, 1, 4, 4)), (1, (3 * 6, 1, 4, 4))]
    valid_draws, test_draws = (d.reshape(-1, 6, 16).double().numpy() for _, d in sampler.draws)
    assert_close(sampler.lows[1], test[2][0].repeat_interleave(6, dim=0), rtol=0, atol=0)  # each image's own l, M times
    valid1 = [np.mean([mixture_log_density(h, c, s) for h, c in zip(valid[1][0].flatten(1).double().numpy(), valid_draws)])
              for s in SIGMAS]
    sigma1 = SIGMAS[int(np.argmax(valid1))]
    level1 = [mixture_log_density(h, c, sigma1) for h, c in zip(test[1][0].flatten(1).double().numpy(), test_draws)]

    assert [lv.sigma for lv in result.levels] == [sigma0, sigma1]
    assert_close(torch.tensor(result.levels[0].valid_ll, dtype=torch.float64), torch.tensor(valid0, dtype=torch.float64))
    assert_close(torch.tensor(result.levels[1].valid_ll, dtype=torch.float64), torch.tensor(valid1, dtype=torch.float64))
    assert result.levels[0].mean == pytest.approx(np.mean(level0))
    assert result.levels[1].mean == pytest.approx(np.mean(level1))
    total = np.add(level0, level1)  # per image: log p̂_0(I_0) + log p̂_1(h_1 | l_1)
    assert result.mean == pytest.approx(total.mean()) and result.stderr == pytest.approx(total.std() / math.sqrt(3))


def test_the_total_is_the_sum_of_the_level_terms_and_draws_are_conditioned_on_each_image() -> None:
    g = torch.Generator().manual_seed(1)
    sizes = [2, 4, 8]
    valid, test = (laplacian_pyramid(torch.rand(n, 1, 8, 8, generator=g), sizes) for n in (5, 7))
    sampler = RecordingSampler()
    result = pyramid_parzen_window(torch.rand(20, 1, 2, 2, generator=g), sampler, valid, test, samples_per_image=4,
                                   sigmas=SIGMAS, batch_size=8)  # 2 images per call of the sampler
    assert len(result.levels) == 3
    assert result.mean == pytest.approx(sum(level.mean for level in result.levels))
    assert result.logs()["parzen_ll"] == result.mean and set(result.logs()) == {
        "parzen_ll", "parzen_ll_se", *(f"parzen_ll_level{k}" for k in range(3)), *(f"parzen_sigma_level{k}" for k in range(3))}
    # batch_size // M = 2 images per call, in order: level 1 (valid, test), then level 2 (valid, test)
    assert [k for k, _ in sampler.draws] == [1] * (3 + 4) + [2] * (3 + 4)
    assert_close(torch.cat(sampler.lows[:3]), valid[2][0].repeat_interleave(4, dim=0), rtol=0, atol=0)
    assert_close(torch.cat(sampler.lows[10:]), test[2][1].repeat_interleave(4, dim=0), rtol=0, atol=0)


def test_a_toy_whose_level_generator_knows_the_true_residual_scores_high() -> None:
    # images a·P for a scalar a: l determines a, hence h = a·H exactly
    g = torch.Generator().manual_seed(2)
    pattern = torch.rand(1, 1, 4, 4, generator=g)
    _, (h_unit,), (l_unit,) = laplacian_pyramid(pattern, [2, 4])

    def data(n: int) -> tuple:
        return laplacian_pyramid(torch.rand(n, 1, 1, 1, generator=g) * pattern, [2, 4])

    def perfect(k: int, low: Tensor) -> Tensor:
        a = (low * l_unit).sum((1, 2, 3), keepdim=True) / (l_unit**2).sum()
        return a * h_unit + 1e-3 * torch.randn(low.shape, generator=g)

    def blind(k: int, low: Tensor) -> Tensor:
        return 0.5 * torch.randn(low.shape, generator=g)

    valid, test = data(20), data(20)
    coarse = data(200)[0]
    sigmas = [1e-3, 1e-2, 0.1, 1.0]
    good = pyramid_parzen_window(coarse, perfect, valid, test, samples_per_image=10, sigmas=sigmas)
    bad = pyramid_parzen_window(coarse, blind, valid, test, samples_per_image=10, sigmas=sigmas)
    # 16 residual numbers within ~1.4e-3 of the truth: about 16·(log(1/(√2·1e-3·√(2π)))) ≈ 90 nats
    assert math.isfinite(good.levels[1].mean) and good.levels[1].mean > 16 * 4
    assert good.levels[1].sigma == 1e-3 and bad.levels[1].mean < 0
    assert good.levels[0].mean == bad.levels[0].mean  # level 0 does not read the level generators


def test_conditional_windows_refuse_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="one low-pass image per residual"):
        conditional_parzen_log_likelihood(torch.zeros(3, 4), torch.zeros(2, 4), lambda l: l, 5, 0.1)
    with pytest.raises(ValueError, match="samples_per_image"):
        conditional_parzen_log_likelihood(torch.zeros(3, 4), torch.zeros(3, 4), lambda l: l, 0, 0.1)


def validate(model: L.LightningModule, callback: ParzenLikelihood, side: int = 20) -> dict[str, float]:
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[callback])
    (logged,) = trainer.validate(model, datamodule=Splits(side=side), verbose=False)
    return logged


@pytest.mark.usefixtures("one_thread")
def test_the_callback_scores_a_lapgan_per_scale_on_its_own_images() -> None:
    from models.test_lapgan import tiny  # 5 -> 10 -> 20, one channel

    torch.manual_seed(0)
    model = tiny()
    callback = ParzenLikelihood(num_samples=30, num_valid=6, num_test=None, batch_size=40, samples_per_image=8,
                                per_scale_num_valid=4, per_scale_num_test=5, sigmas=SIGMAS)
    logged = validate(model, callback)
    last = callback.last
    assert set(last) == {"parzen_ll", "parzen_ll_se", *(f"parzen_ll_level{k}" for k in range(3)),
                         *(f"parzen_sigma_level{k}" for k in range(3))}
    assert last["parzen_ll"] == pytest.approx(sum(last[f"parzen_ll_level{k}"] for k in range(3)))
    assert logged["val/parzen_ll"] == pytest.approx(last["parzen_ll"], rel=1e-6)
    assert logged["val/parzen_ll_level2"] == pytest.approx(last["parzen_ll_level2"], rel=1e-6)

    # the same numbers from the function: images in [0, 1], G_k fed 2l − 1, residuals halved, one seeded noise stream
    data = Splits(side=20)
    valid = data.images[True][:4].float() / 255
    test = data.images[False][:5].float() / 255
    noise = torch.Generator().manual_seed(0)
    model.eval()
    with torch.no_grad():
        coarse = (model.level_fake(0, 30, None, None, generator=noise) + 1) / 2
        expected = pyramid_parzen_window(
            coarse, lambda k, low: model.level_fake(k, len(low), low * 2 - 1, None, generator=noise) / 2,
            laplacian_pyramid(valid, [5, 10, 20]), laplacian_pyramid(test, [5, 10, 20]), samples_per_image=8,
            sigmas=SIGMAS, batch_size=40)
    assert last == pytest.approx(expected.logs())
    # per_scale=false: the whole-image estimate of the chained samples, as for any model
    whole = ParzenLikelihood(num_samples=30, num_valid=6, num_test=None, batch_size=40, sigmas=SIGMAS, per_scale=False)
    validate(model, whole)
    assert set(whole.last) == {"parzen_ll", "parzen_ll_se", "parzen_sigma"}


def test_per_scale_is_refused_where_there_is_no_pyramid_of_generators() -> None:
    from models.test_lapgan import tiny

    with pytest.raises(ValueError, match="per_scale=true needs a LAPGAN"):
        validate(Generator(), ParzenLikelihood(num_samples=10, num_valid=5, num_test=None, per_scale=True), side=4)
    with pytest.raises(ValueError, match="not implemented for CC-LAPGAN"):
        validate(tiny(class_conditional=True, num_classes=3), ParzenLikelihood(per_scale=True))
    with pytest.raises(ValueError, match="auto, true or false"):
        ParzenLikelihood(per_scale="yes")
    # auto: the whole-image estimate for a model without levels
    auto = ParzenLikelihood(num_samples=10, num_valid=5, num_test=None, sigmas=SIGMAS)
    validate(Generator(), auto, side=4)
    assert set(auto.last) == {"parzen_ll", "parzen_ll_se", "parzen_sigma"}
