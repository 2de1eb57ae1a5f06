"""Tests of lecode.sde: Brownian paths, Itô sums, scalar Euler-Maruyama, fitted orders."""

import math

import numpy as np
import pytest

from lecode import sde
from lecode._validate import NonFiniteError


def test_brownian_paths_shape_start_and_grid():
    p = sde.brownian_paths(2.0, 8, n_paths=5, seed=0)
    assert p.values.shape == (5, 9) and p.times.shape == (9,)
    assert np.all(p.values[:, 0] == 0.0)
    assert np.allclose(p.times, np.linspace(0, 2, 9)) and p.dt == 0.25
    assert p.n_paths == 5 and p.n_steps == 8
    assert np.allclose(np.cumsum(p.increments(), axis=1), p.values[:, 1:])


def test_brownian_paths_seeded():
    a = sde.brownian_paths(1.0, 10, n_paths=3, seed=4).values
    b = sde.brownian_paths(1.0, 10, n_paths=3, seed=4).values
    c = sde.brownian_paths(1.0, 10, n_paths=3, seed=5).values
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_brownian_increments_have_variance_dt_and_are_uncorrelated():
    # 20000 paths: the sample variance of N(0, dt) has relative standard error sqrt(2/20000) = 1 %
    p = sde.brownian_paths(1.0, 4, n_paths=20000, seed=1)
    dW = p.increments()
    assert np.allclose(dW.var(axis=0) / p.dt, 1.0, atol=0.05)
    corr = np.corrcoef(dW.T)[np.triu_indices(4, 1)]
    assert np.abs(corr).max() < 0.04                       # 4 standard errors of 1/sqrt(20000)
    assert abs(p.values[:, -1].var() - 1.0) < 0.05          # Var W(1) = 1


def test_coarsen_keeps_the_path():
    p = sde.brownian_paths(1.0, 12, n_paths=2, seed=2)
    q = p.coarsen(4)
    assert q.n_steps == 3 and math.isclose(q.dt, 4 * p.dt)
    assert np.array_equal(q.values, p.values[:, ::4])
    assert np.allclose(q.increments(), p.increments().reshape(2, 3, 4).sum(axis=2))
    with pytest.raises(ValueError, match="factor must divide"):
        p.coarsen(5)
    with pytest.raises(ValueError, match="factor"):
        p.coarsen(0)


def test_ito_integral_of_W_is_the_algebraic_identity():
    # sum W_j dW_j = (W_T^2 - sum dW_j^2) / 2 exactly; the trapezoid sum gives W_T^2 / 2 exactly
    p = sde.brownian_paths(3.0, 50, n_paths=4, seed=3)
    W, dW = p.values, p.increments()
    ito = sde.ito_integral(W, p)
    strat = sde.ito_integral(W, p, rule="stratonovich")
    assert np.allclose(ito, 0.5 * (W[:, -1] ** 2 - (dW ** 2).sum(axis=1)), rtol=1e-12, atol=1e-12)
    assert np.allclose(strat, 0.5 * W[:, -1] ** 2, rtol=1e-12, atol=1e-12)


def test_ito_integral_of_a_deterministic_integrand():
    p = sde.brownian_paths(1.0, 10, n_paths=3, seed=4)
    assert np.allclose(sde.ito_integral(np.full(11, 2.5), p), 2.5 * p.values[:, -1])
    f = np.exp(-p.times)
    assert np.allclose(sde.ito_integral(f, p), (f[:-1] * p.increments()).sum(axis=1))


def test_ito_isometry_by_simulation():
    # E (int_0^1 W dW)^2 = int_0^1 E W^2 dt = 1/2; 40000 paths: standard error about 0.005
    p = sde.brownian_paths(1.0, 200, n_paths=40000, seed=5)
    I = sde.ito_integral(p.values, p)
    assert abs(I.mean()) < 0.02 and abs((I ** 2).mean() - 0.5 * (1 - 1 / 200)) < 0.03


def test_ito_integral_validation():
    p = sde.brownian_paths(1.0, 5, n_paths=2, seed=0)
    with pytest.raises(ValueError, match="integrand must have shape"):
        sde.ito_integral(np.zeros(5), p)
    with pytest.raises(ValueError, match="rule"):
        sde.ito_integral(np.zeros(6), p, rule="left")
    with pytest.raises(TypeError, match="paths must be"):
        sde.ito_integral(np.zeros(6), np.zeros((2, 6)))
    with pytest.raises(ValueError, match="finite"):
        sde.ito_integral(np.full(6, np.nan), p)


def test_euler_maruyama_without_noise_is_euler():
    p = sde.brownian_paths(1.0, 16, n_paths=3, seed=6)
    x = sde.euler_maruyama(lambda x, t: 0.7 * x, lambda x, t: 0.0, 2.0, p)
    assert np.allclose(x[:, -1], 2.0 * (1 + 0.7 / 16) ** 16, rtol=1e-13)


def test_euler_maruyama_additive_noise_without_drift_is_the_path():
    p = sde.brownian_paths(2.0, 20, n_paths=3, seed=7)
    x = sde.euler_maruyama(lambda x, t: 0.0, lambda x, t: 0.3, np.array([1.0, 2.0, 3.0]), p)
    assert np.allclose(x, np.array([1.0, 2.0, 3.0])[:, None] + 0.3 * p.values, rtol=1e-13)


def test_euler_maruyama_time_dependent_coefficients_use_the_left_point():
    p = sde.brownian_paths(1.0, 4, n_paths=1, seed=8)
    x = sde.euler_maruyama(lambda x, t: t, lambda x, t: t, 0.0, p)
    t = p.times[:-1]
    assert np.allclose(x[0, -1], np.sum(t * p.dt) + np.sum(t * p.increments()[0]))


def _gbm_errors(M, seed):
    lam, mu, T, Lf = 1.0, 1.0, 1.0, 2 ** 9
    fine = sde.brownian_paths(T, Lf, n_paths=M, seed=seed)
    exact = np.exp((lam - mu ** 2 / 2) * T + mu * fine.values[:, -1])
    hs, errs = [], []
    for f in (4, 8, 16, 32, 64):
        coarse = fine.coarsen(f)
        x = sde.euler_maruyama(lambda x, t: lam * x, lambda x, t: mu * x, 1.0, coarse)
        hs.append(coarse.dt)
        errs.append(np.mean(np.abs(x[:, -1] - exact)))
    return hs, errs


def test_em_strong_order_half_on_gbm_shared_paths():
    hs, errs = _gbm_errors(2000, seed=9)
    assert abs(sde.fitted_order(hs, errs) - 0.5) < 0.1


def test_em_strong_order_one_with_additive_noise():
    # Ornstein-Uhlenbeck dX = -X dt + 0.5 dW: EM strong order 1 (the LE-SDE's case)
    fine = sde.brownian_paths(1.0, 2 ** 10, n_paths=500, seed=10)
    ref = sde.euler_maruyama(lambda x, t: -x, lambda x, t: 0.5, 1.0, fine)[:, -1]
    hs, errs = [], []
    for f in (8, 16, 32, 64):
        c = fine.coarsen(f)
        hs.append(c.dt)
        errs.append(np.mean(np.abs(sde.euler_maruyama(lambda x, t: -x, lambda x, t: 0.5, 1.0, c)[:, -1] - ref)))
    assert abs(sde.fitted_order(hs, errs) - 1.0) < 0.15


def test_euler_maruyama_reports_blow_up_and_validates():
    p = sde.brownian_paths(1.0, 10, n_paths=2, seed=11)
    with pytest.raises(NonFiniteError, match="non-finite between"):
        sde.euler_maruyama(lambda x, t: 1e200 * x * x, lambda x, t: 0.0, 1e200, p)
    with pytest.raises(ValueError, match="x0 must be"):
        sde.euler_maruyama(lambda x, t: x, lambda x, t: 0.0, np.zeros(3), p)
    with pytest.raises(TypeError, match="callables"):
        sde.euler_maruyama(1.0, lambda x, t: 0.0, 0.0, p)
    with pytest.raises(TypeError, match="paths must be"):
        sde.euler_maruyama(lambda x, t: x, lambda x, t: 0.0, 0.0, None)


def test_brownian_paths_validation():
    with pytest.raises(ValueError, match="t_end"):
        sde.brownian_paths(0.0, 5)
    with pytest.raises(ValueError, match="n_steps"):
        sde.brownian_paths(1.0, 0)
    with pytest.raises(TypeError, match="n_paths"):
        sde.brownian_paths(1.0, 5, n_paths=2.5)
    with pytest.raises(ValueError, match="seed"):
        sde.brownian_paths(1.0, 5, seed=-1)


def test_fitted_order_exact_power_law_and_validation():
    h = np.array([0.1, 0.05, 0.025])
    assert math.isclose(sde.fitted_order(h, 3 * h ** 1.5), 1.5, rel_tol=1e-12)
    with pytest.raises(ValueError, match="same length"):
        sde.fitted_order([0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="> 0"):
        sde.fitted_order([0.1, 0.2], [0.0, 1.0])
    with pytest.raises(ValueError, match="all be equal"):
        sde.fitted_order([0.1, 0.1], [1.0, 2.0])
