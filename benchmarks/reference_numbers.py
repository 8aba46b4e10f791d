"""Published numbers the benchmarks print beside ours, each with its paper and table.

One place for every number we compare against, so a benchmark, ``reproduce.py`` and ``docs/results.md``
quote the same values. Import it from a benchmark script (``benchmarks/`` is put on ``sys.path``)::

    from reference_numbers import MODE_COLLAPSE_2D, FGAN_TABLE3

Papers:
  * VEEGAN: Srivastava et al. 2017, "VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational
    Learning", Table 1 (2-D mixtures, 5 runs) and Table 2 (Stacked MNIST).
  * PacGAN: Lin et al. 2018, "PacGAN: The power of two samples in generative adversarial networks",
    Table 1 (2-D mixtures, 10 trials) and Table 3 (Stacked MNIST with D at 1/2 of G's size, whose DCGAN and
    Unrolled GAN rows PacGAN takes from Metz et al. 2017).
  * f-GAN: Nowozin, Cseke & Tomioka 2016, "f-GAN: Training Generative Neural Samplers using Variational
    Divergence Minimization", Table 3 (a Gaussian fitted to a 1-D mixture).
  * InfoGAN: Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information Maximizing
    Generative Adversarial Nets", Section 7.2 (MNIST: the categorical code as a classifier).
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------------------
# Mode collapse on 2-D mixtures: modes covered / % high-quality samples (within 3 std of a centre).
# ring8 = 8 Gaussians on a ring, grid25 = a 5x5 grid. (modes, % high quality, source)
# ---------------------------------------------------------------------------------------------------------
MODE_COLLAPSE_2D: dict[str, dict[str, tuple[float, float, str]]] = {
    "ring8": {
        "GAN (VEEGAN)": (1, 99.3, "VEEGAN Table 1"),
        "ALI": (2.8, 0.13, "VEEGAN Table 1"),
        "Unrolled GAN (K=5)": (7.6, 35.6, "VEEGAN Table 1"),
        "VEEGAN": (8, 52.9, "VEEGAN Table 1"),
        "GAN (PacGAN)": (6.3, 98.2, "PacGAN Table 1"),
        "PacGAN4": (7.8, 95.9, "PacGAN Table 1"),
    },
    "grid25": {
        "GAN (VEEGAN)": (3.3, 0.5, "VEEGAN Table 1"),
        "ALI": (15.8, 1.6, "VEEGAN Table 1"),
        "Unrolled GAN (K=5)": (23.6, 16, "VEEGAN Table 1"),
        "VEEGAN": (24.6, 40, "VEEGAN Table 1"),
        "GAN (PacGAN)": (17.3, 94.8, "PacGAN Table 1"),
        "PacGAN4": (24.8, 93.6, "PacGAN Table 1"),
    },
}

# ALI's own 2-D study (Dumoulin et al. 2017, Section 4.5: 25-Gaussian grid, 10 runs with random hyper-parameters,
# 10,000 samples, a mode dropped when no sample is assigned to it) and PacGAN Table 1's ALI rows (its metrics, ours).
ALI_PAPER: dict[str, list[str]] = {
    "ring8": ["ALI (PacGAN Table 1): 6.6 ± 0.3 modes, reverse KL 0.36 (GAN 6.3, 0.45)"],
    "grid25": ["ALI (ALI Section 4.5, 10 random-hyper-parameter runs): 13.4 ± 5.8 modes (min 8, max 25); "
               "GAN 10.4 ± 9.2 (min 1, max 22)",
               "ALI (PacGAN Table 1): 24.1 ± 0.4 modes, 95.7 % HQ, reverse KL 0.14 (GAN 17.3, 94.8 %, 0.70)"],
}

# Stacked MNIST (1,000 modes): modes captured / KL(mode histogram || uniform). (modes, KL, source)
STACKED_MNIST: dict[str, tuple[float, float, str]] = {
    "DCGAN": (99, 3.40, "VEEGAN Table 2"),
    "ALI": (16, 5.40, "VEEGAN Table 2"),
    "Unrolled GAN": (48.7, 4.32, "VEEGAN Table 2"),
    "VEEGAN": (150, 2.95, "VEEGAN Table 2"),
    "PacDCGAN2": (1000, 0.06, "PacGAN Table 2"),  # VEEGAN setting; PacDCGAN2-4 all reach 1000 / ~0.06
    # D at 1/2 of G's size (PacGAN Table 3; the DCGAN and Unrolled rows from Metz et al. 2017)
    "DCGAN (D 1/2)": (628, 2.58, "PacGAN Table 3"),
    "Unrolled GAN, 1 step (D 1/2)": (523.6, 2.44, "PacGAN Table 3"),
    "Unrolled GAN, 5 steps (D 1/2)": (732, 1.66, "PacGAN Table 3"),
    "Unrolled GAN, 10 steps (D 1/2)": (817.4, 1.43, "PacGAN Table 3"),
    "PacDCGAN2 (D 1/2)": (1000, 0.06, "PacGAN Table 3"),
}

# ---------------------------------------------------------------------------------------------------------
# f-GAN Table 3. best_fit: the exact minimiser theta* = (mu*, sigma*) and D_f(P || Q_theta*); learned: the
# GAN approach's theta-hat and its objective F(omega-hat, theta-hat); train_test[train][test]: the objective
# of the model trained with `train`, measured with `test` (the right-hand table, digits as printed).
# Keys: kl = KL, reverse_kl = KL-rev, js = JS (the table's f: 2 JS), jeffrey, pearson.
# ---------------------------------------------------------------------------------------------------------
FGAN_TABLE3_SOURCE = "f-GAN (Nowozin et al. 2016) Table 3"
FGAN_TABLE3: dict[str, dict] = {
    "best_fit": {
        "kl": {"value": 0.2831, "mu": 1.0100, "sigma": 1.8308},
        "reverse_kl": {"value": 0.2480, "mu": 1.5782, "sigma": 1.6319},
        "js": {"value": 0.1280, "mu": 1.3070, "sigma": 1.7542},
        "jeffrey": {"value": 0.5705, "mu": 1.3218, "sigma": 1.7034},
        "pearson": {"value": 0.6457, "mu": 0.5737, "sigma": 1.9274},
    },
    "learned": {
        "kl": {"objective": 0.2801, "mu": 1.0335, "sigma": 1.8236},
        "reverse_kl": {"objective": 0.2415, "mu": 1.5624, "sigma": 1.6403},
        "js": {"objective": 0.1226, "mu": 1.2854, "sigma": 1.7659},
        "jeffrey": {"objective": 0.5151, "mu": 1.2295, "sigma": 1.8087},
        "pearson": {"objective": 0.6379, "mu": 0.6157, "sigma": 1.9031},
    },
    "train_test": {
        "kl": {"kl": 0.2808, "reverse_kl": 0.3423, "js": 0.1314, "jeffrey": 0.5447, "pearson": 0.7345},
        "reverse_kl": {"kl": 0.3518, "reverse_kl": 0.2414, "js": 0.1228, "jeffrey": 0.5794, "pearson": 1.3974},
        "js": {"kl": 0.2871, "reverse_kl": 0.2760, "js": 0.1210, "jeffrey": 0.5260, "pearson": 0.92160},
        "jeffrey": {"kl": 0.2869, "reverse_kl": 0.2975, "js": 0.1247, "jeffrey": 0.5236, "pearson": 0.8849},
        "pearson": {"kl": 0.2970, "reverse_kl": 0.5466, "js": 0.1665, "jeffrey": 0.7085, "pearson": 0.648},
    },
}

# InfoGAN on MNIST: the categorical code used as a classifier reaches 5 % error (95 % accuracy), and L_I
# reaches its limit H(c) = ln 10 quickly (Figure 1).
INFOGAN_MNIST_CODE_ACCURACY = (95.0, "InfoGAN (Chen et al. 2016) Section 7.2")

# BiGAN on permutation-invariant MNIST (Donahue et al. 2017): Table 1, 1-NN accuracy (%) of E(x) on the test set with
# the whole training set as the neighbours; the authors' training log, logistic regression on E's penultimate layer.
BIGAN_MNIST = {
    "knn1": (97.39, "BiGAN Table 1 (1-NN, all 60k training images)"),
    "knn1_pixels": (96.9, "about, raw pixels (published floor)"),
    "knn1_random_encoder": (96.84, "the authors' log, random encoder's penultimate layer"),
    "probe": (92.63, "the authors' log, logistic regression on E's penultimate layer, 200 epochs (91.39 at init)"),
}

# LAPGAN (Denton et al. 2015): the CIFAR-10 human-evaluation study, % of samples that subjects took for real
# (there are no MNIST numbers, nor FID/IS, in the paper).
LAPGAN_CIFAR10_HUMAN = {
    "lapgan": (40.0, "LAPGAN (class-conditional and not), about, read off the human-study figure"),
    "gan": (10.0, "a standard GAN, about, read off the human-study figure"),
    "real": (90.0, "real CIFAR-10 images, about, read off the human-study figure"),
}

# Gaussian Parzen-window log-likelihood of the MNIST test set, nats (Goodfellow et al. 2014, "Generative Adversarial
# Nets", Table 1: 10,000 samples, σ by validation; the ± is the standard error over test images).
# (mean, standard error, source)
PARZEN_MNIST: dict[str, tuple[float, float, str]] = {
    "GAN": (225.0, 2.0, "Goodfellow et al. 2014 Table 1"),
}
