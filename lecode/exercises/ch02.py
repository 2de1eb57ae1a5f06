"""Answer checks of chapter 2 (*From SGD to the LE-SDE*).

Each expected answer is computed with :mod:`lecode` (``LEModel.drift``,
``sgd_noise_sigma``), a route independent of the hand computation that the
solutions in the book show. The mistakes are computed from the same
quantities with the slip made.
"""

from __future__ import annotations

import numpy as np

from . import integer, register, sig

_DRIFT = dict(K=3, n=2, alpha=1.5, beta=0.25)


def _drift_config():
    K = _DRIFT["K"]
    U = np.eye(K) - 1.0 / K
    return 0.5 * U + 0.2 * np.ones(K)


def _drift_wrong(form: str) -> np.ndarray:
    """The drift of sample (0, 0) computed with one slip (``form``)."""
    from ..model import LEModel

    K, n, a, b = _DRIFT["K"], _DRIFT["n"], _DRIFT["alpha"], _DRIFT["beta"]
    X = np.repeat(_drift_config()[:, None, :], n, axis=1)
    if form == "alpha-not-gap":
        # alpha G_0 + beta sum_all: mixes the two forms of the drift equation
        G = -LEModel(K, n, alpha=1.0, beta=0.0, gradient="ce").drift(X)[:, 0] * K    # rows: G_k
        return -(a * G[0] + b * G.sum(axis=0)) / K
    raise ValueError(form)


@register("ch02-drift", exercise="ch02-ex-drift", precision=sig(3),
          hint="every sample of class k sits at 0.5 u_k + 0.2 (1, 1, 1); use the first form of "
               "the drift equation with the class-average gradients softmax(X_k) - e_k",
          mistakes={
              "sign": (lambda t: -t, "the drift points *down* the gradient: b = −(1/K)[...], mind the minus sign."),
              "missing-1/K": (lambda t: _DRIFT["K"] * t, "the drift averages over the K classes drawn: "
                                                          "divide by K = 3."),
              "alpha-not-gap": (lambda t: _drift_wrong("alpha-not-gap"),
                                "in the form (α − β) Ḡ_k + β Σ_k' Ḡ_k' the own class gets α − β, "
                                "not α (α is for the sum over k' ≠ k form)."),
          })
def _drift():
    from ..model import LEModel

    K, n = _DRIFT["K"], _DRIFT["n"]
    X = np.repeat(_drift_config()[:, None, :], n, axis=1)
    return LEModel(K, n, alpha=_DRIFT["alpha"], beta=_DRIFT["beta"], gradient="ce").drift(X)[0, 0]


def _conserved_V():
    return np.random.default_rng(2).standard_normal((3, 5))


@register("ch02-conserved", exercise="ch02-ex-conserved", precision=integer(),
          hint="v . x is conserved when V v is a multiple of (1, ..., 1)",
          mistakes={
              "null-space-only": (lambda t: float(5 - np.linalg.matrix_rank(_conserved_V())),
                                  "that is the null space of V alone; V v may also be a non-zero "
                                  "multiple of (1, ..., 1), which adds one direction."),
              "shift-only": (lambda t: 1.0, "that is only the direction V maps onto (1, ..., 1) (the logit "
                                            "shift); the null space of V is conserved too."),
          })
def _conserved():
    """p minus the dimension of the span of many drifts b(X) at random states."""
    from ..model import LEModel

    K, p, n = 3, 5, 2
    model = LEModel(K, n, alpha=1.0, beta=0.3, gradient="ce", dim=p, readout=_conserved_V())
    rng = np.random.default_rng(0)
    drifts = model.drift(2.0 * rng.standard_normal((40, K, n, p))).reshape(-1, p)
    return float(p - np.linalg.matrix_rank(drifts, tol=1e-9))


_SIGMA = dict(K=3, n=5, alpha=2.0, beta=0.5, lr=0.01)


def _sigma_with(*, d=None, n=None, centred=True) -> float:
    """sigma of the exercise from the closed form, with one ingredient changed."""
    K, a, b, lr = _SIGMA["K"], _SIGMA["alpha"], _SIGMA["beta"], _SIGMA["lr"]
    n = _SIGMA["n"] if n is None else n
    d = K - 1 if d is None else d
    second = (a ** 2 + (K - 1) * b ** 2) / K
    mean = (a - b) ** 2 / K ** 2 if centred else 0.0
    trC = (K - 1) / K * (second - mean)
    return float(np.sqrt(n * lr / (K * d) * K * trC))


@register("ch02-sigma", exercise="ch02-ex-sigma", precision=sig(3),
          hint="sigma^2 = n lr / (K d_g) * sum_k tr C_kk with d_g = K - 1, at the all-zero state",
          mistakes={
              "variance": (lambda t: t ** 2, "that is σ²; the noise level is its square root."),
              "not-centred": (lambda t: _sigma_with(centred=False),
                              "C_kk is a covariance: subtract the squared mean |E F_k|² = (α−β)²/K² · (K−1)/K."),
              "d-is-one": (lambda t: _sigma_with(d=1), "d_g = K − 1 = 2 is the dimension of the sum-zero "
                                                       "space the noise lives in, not 1."),
              "forgot-n": (lambda t: _sigma_with(n=1), "σ² carries the factor n = 5 (samples per class)."),
          })
def _sigma():
    from ..model import LEModel
    from ..simulate import sgd_noise_sigma

    s = _SIGMA
    return sgd_noise_sigma(LEModel(s["K"], s["n"], alpha=s["alpha"], beta=s["beta"], gradient="ce"), s["lr"])
