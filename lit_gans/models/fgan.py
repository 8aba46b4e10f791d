"""f-GAN (Nowozin, Cseke, Tomioka 2016): variational divergence minimisation for any f-divergence.

The objective F(θ, ω) = E_P[g_f(V_ω(x))] − E_{Q_θ}[f*(g_f(V_ω(x)))] (eq. (7)) comes from
``loss=fgan`` (`lit_gans.losses.f_divergences`, ``loss.params.divergence``); the training procedure
is the only thing this class adds: the skeleton's alternating steps (default) or the paper's
single-step gradient method (Algorithm 1, ``single_step=true``).
"""

from typing import Any

from lit_gans.models.base import AdversarialModule, images_of


class FGAN(AdversarialModule):
    """Args (besides the skeleton's):
        single_step: Algorithm 1: one forward/backward of F per batch, then ω ← ω + η∇_ω F and
            θ ← θ − η∇_θ F from the same (θ^t, ω^t). The critic minimises −F, so after one backward of
            the critic loss the generator's gradients are negated. Needs the saturating generator loss
            (G minimises F itself, ``loss.params.alternative=false``) and ``n_critic=1``.
    """

    supports_feature_matching = True

    def __init__(self, *args: Any, single_step: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if single_step:
            if self.hparams.n_critic != 1:
                raise ValueError(f"single_step=true updates both players once per batch; set model.n_critic=1 (got {self.hparams.n_critic}).")
            if self.objective.params.get("alternative", False):
                raise ValueError("single_step=true descends on F itself (Algorithm 1), which the alternative generator "
                                 "loss is not; set loss.params.alternative=false or model.single_step=false.")
            if self.objective.gp_weight > 0:
                raise ValueError("single_step=true does not support a gradient penalty; set loss.gp_weight=0.")
            if self.objective.r1_gamma > 0:
                raise ValueError("single_step=true does not support the R1 penalty; set loss.r1_gamma=0.")
            if self.hparams.feature_matching:
                raise ValueError("single_step=true descends on F, not on feature matching; set model.feature_matching=null.")
            if self.hparams.get("reuse_fake"):
                raise ValueError("single_step=true already takes both players' gradients from one fake batch; set "
                                 "model.reuse_fake=false (or model.single_step=false to reuse the fake across the "
                                 "alternating steps).")
            if self.hparams.get("historical_averaging"):
                raise ValueError("single_step=true takes one gradient of F for both players, which has no place for "
                                 "each player's own historical-averaging term; set model.historical_averaging=null.")

    def training_step(self, batch: Any, batch_idx: int) -> None:
        if not self.hparams.single_step:
            return super().training_step(batch, batch_idx)
        real = self.with_instance_noise(self.real_samples(batch))
        opt_g, opt_d = self.optimizers()[:2]
        fake = self.with_instance_noise(self.sample_fake(len(images_of(real))))  # carries G's graph: reaches θ and ω
        d_fake = self.d_scores(fake)
        d_loss, logs = self.adversarial_d_loss(real, fake, self.d_scores(real), d_fake)  # −F(θ^t, ω^t)
        check = self.hparams.nan_check_every_n_batches
        self._check_finite(check > 0 and batch_idx % check == 0, "critic", d_loss)
        opt_g.zero_grad(set_to_none=True)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_loss)
        for p in self.generator_parameters():  # ∇_θ(−F) -> ∇_θ F: G descends on F
            if p.grad is not None:
                p.grad.neg_()
        self._apply_gradients(opt_d, "d")
        self._apply_gradients(opt_g, "g")
        self._log({**logs, "train/g_loss": self.objective.generator(d_fake.detach())})
