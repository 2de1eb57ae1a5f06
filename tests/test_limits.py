"""Tests of lecode.limits: work and memory are estimated before a call starts."""

import numpy as np
import pytest

import lecode.limits as limits
from lecode import LEModel, data, nets, simulate
from lecode.limits import LimitError


M = LEModel(3, 4, alpha=1.0, beta=0.5, sigma=0.1)


def _fast(fn):
    """The refusal comes before the work (without the check these calls hang or run
    out of memory, so a regression shows as a test that never ends)."""
    with pytest.raises(LimitError) as info:
        fn()
    return str(info.value)


def test_simulate_tiny_dt_is_refused_naming_dt():
    msg = _fast(lambda: simulate(M, t_end=1.0, dt=1e-300))
    assert msg.startswith("dt:") and "1e+300 steps" in msg and "max_steps" in msg
    msg = _fast(lambda: simulate(M, t_end=1.0, dt=5e-324))          # t_end/dt = inf
    assert msg.startswith("dt:")
    msg = _fast(lambda: simulate(M, 1.0, lr=1e-12, method="sgd", n_saves=2))
    assert msg.startswith("lr:")


def test_simulate_huge_n_trials_is_refused_naming_n_trials():
    msg = _fast(lambda: simulate(M, t_end=1.0, dt=0.1, n_trials=10 ** 9))
    assert "n_trials=1000000000" in msg and "GB" in msg and "max_bytes" in msg
    msg = _fast(lambda: simulate(M, t_end=1.0, dt=0.1, n_saves=10 ** 8))
    assert "n_saves=100000000" in msg


def test_one_point_per_class_deterministic_run_is_not_overcounted():
    big = LEModel(3, 10 ** 7, alpha=1.0, beta=0.5)
    tr = simulate(big, 1.0, dt=0.1, method="ode", x0=np.zeros((3, 1, 3)), n_saves=2)
    assert tr.features.shape == (1, 2, 3, 10 ** 7, 3) and not tr.features.flags.writeable


def test_model_size_geomnist_mlp_train():
    msg = _fast(lambda: LEModel(10 ** 6, 10 ** 6, alpha=1.0, beta=0.5))
    assert msg.startswith("n_classes=1000000, n_per_class=1000000")
    msg = _fast(lambda: data.geomnist(10 ** 7))
    assert msg.startswith("n_per_class=10000000")
    msg = _fast(lambda: nets.MLP((10 ** 6, 10 ** 6, 3)))
    assert msg.startswith("sizes=")
    net = nets.MLP((4, 3, 2), seed=0)
    X, y = np.zeros((6, 4)), np.arange(6) % 2
    msg = _fast(lambda: nets.train(net, X, y, lr=0.1, steps=10 ** 12))
    assert msg.startswith("steps:")
    msg = _fast(lambda: nets.train(net, X, y, lr=0.1, steps=10 ** 8 - 1, batch_size=10))
    assert msg.startswith("steps=99999999, batch_size=10")


def test_limits_can_be_raised_and_restored():
    old = limits.get()
    assert old == limits.DEFAULTS or set(old) == set(limits.DEFAULTS)
    with limits.raised(max_steps=10 ** 12):
        assert limits.get()["max_steps"] == 10 ** 12
    assert limits.get() == old
    with limits.raised(max_bytes=1000):
        with pytest.raises(LimitError, match="n_trials"):
            simulate(M, 1.0, dt=0.1, n_trials=10)
    simulate(M, 1.0, dt=0.1, n_trials=10)
    with pytest.raises(TypeError, match="unknown limit"):
        limits.set(max_time=3)
    with pytest.raises(ValueError, match="max_bytes"):
        limits.set(max_bytes=0)
    assert issubclass(LimitError, ValueError)


def test_environment_variables(monkeypatch):
    monkeypatch.setenv("LECODE_MAX_STEPS", "1e3")
    assert limits._from_env("LECODE_MAX_STEPS", 5) == 1000
    monkeypatch.setenv("LECODE_MAX_STEPS", "lots")
    with pytest.raises(ValueError, match="LECODE_MAX_STEPS"):
        limits._from_env("LECODE_MAX_STEPS", 5)
