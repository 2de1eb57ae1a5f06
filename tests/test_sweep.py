"""Tests of lecode.sweep: grids, seeding, executors, and the phase transition."""

import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from lecode import LEModel, metrics, simulate
from lecode.sweep import METRICS, SweepResult, sweep

BASE = LEModel(3, 6, alpha=1.0, beta=0.5, sigma=0.2, gradient="identity")
QUICK = dict(t_end=2.0, dt=0.1, n_trials=3, n_saves=3)


def final_class_spread(traj):
    """A module-level (picklable) callable metric: spread of the class means at t_end."""
    return traj.class_means()[:, -1].std(axis=(-2, -1))


def test_shapes_axes_and_values():
    res = sweep(BASE, {"beta": [0.25, 0.5, 2.0], "sigma": [0.1, 0.3]}, "accuracy",
                seed=0, **QUICK)
    assert isinstance(res, SweepResult)
    assert res.axes == ("beta", "sigma")
    assert res.values == ((0.25, 0.5, 2.0), (0.1, 0.3))
    assert res.results.shape == (3, 2, 3, 3)         # grid x trials x saves
    assert res.times.shape == (3, 2, 3)
    np.testing.assert_allclose(res.times[0, 0], [0, 1, 2])
    assert res.mean().shape == (3, 2, 3)
    assert res.std_error().shape == (3, 2, 3)
    assert res.trial_axis == 2 and res.n_trials == 3 and res.grid_shape == (3, 2)
    assert res.results[res.index(beta=0.5, sigma=0.3)].shape == (3, 3)


def test_each_setting_equals_a_direct_simulation():
    """Setting g is simulate(model.replace(...), seed=child g of SeedSequence(seed))."""
    res = sweep(BASE, {"beta": [0.25, 2.0]}, "cross_entropy", seed=42, **QUICK)
    children = np.random.SeedSequence(42).spawn(2)
    for g, beta in enumerate([0.25, 2.0]):
        traj = simulate(BASE.replace(beta=beta), 2.0, dt=0.1, n_trials=3, n_saves=3,
                        seed=children[g])
        np.testing.assert_array_equal(res.results[g], metrics.cross_entropy(traj.features))


def test_zipped_axis_t_end_axis_and_empty_grid():
    res = sweep(BASE, {("alpha", "beta"): [(1.0, 0.5), (2.0, 1.0)], "t_end": [1.0, 3.0]},
                "min_margin", dt=0.1, n_trials=2, seed=1)
    assert res.axes == ("alpha,beta", "t_end")
    assert res.results.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(res.times[0, 1], [0.0, 3.0])
    one = sweep(BASE, {}, "nc1", seed=1, **QUICK)
    assert one.axes == () and one.results.shape == (3, 3)


def test_final_only_matches_last_save():
    full = sweep(BASE, {"beta": [0.25, 2.0]}, "is_separable", seed=4, **QUICK)
    end = sweep(BASE, {"beta": [0.25, 2.0]}, "is_separable", seed=4, final_only=True, **QUICK)
    assert end.results.shape == (2, 3)
    np.testing.assert_array_equal(end.results, full.results[..., -1])
    with pytest.raises(TypeError, match="final_only"):
        sweep(BASE, {"beta": [0.5]}, final_class_spread, final_only=True, **QUICK)


def test_every_named_metric_runs():
    for name in METRICS:
        res = sweep(BASE, {"beta": [0.5]}, name, seed=3, **QUICK)
        assert res.results.shape[:3] == (1, 3, 3), name
        assert np.all(np.isfinite(res.results)), name


def test_serial_thread_and_process_pools_are_bit_identical():
    kw = dict(seed=7, t_end=2.0, dt=0.1, n_trials=4, n_saves=3)
    grid = {"beta": [0.25, 0.75, 1.5], "sigma": [0.1, 0.4]}
    serial = sweep(BASE, grid, "is_separable", **kw)
    with ThreadPoolExecutor(max_workers=2) as ex:
        threads = sweep(BASE, grid, "is_separable", executor=ex, **kw)
    with ProcessPoolExecutor(max_workers=2) as ex:
        procs = sweep(BASE, grid, "is_separable", executor=ex, **kw)
        procs_ce = sweep(BASE, grid, "cross_entropy", executor=ex, **kw)
        chunked = sweep(BASE, grid, "cross_entropy", executor=ex, trials_per_task=3, **kw)
    np.testing.assert_array_equal(serial.results, threads.results)
    np.testing.assert_array_equal(serial.results, procs.results)
    assert serial.results.dtype == bool
    # the float metric of the very same simulations, bit for bit
    np.testing.assert_array_equal(procs_ce.results, sweep(BASE, grid, "cross_entropy", **kw).results)
    # trial chunks: independent of the executor, but a different split of the random streams
    np.testing.assert_array_equal(
        chunked.results, sweep(BASE, grid, "cross_entropy", trials_per_task=3, **kw).results)
    assert chunked.results.shape == procs_ce.results.shape


def test_callable_metric_and_thread_pool():
    kw = dict(seed=11, **QUICK)
    a = sweep(BASE, {"beta": [0.5, 1.5]}, final_class_spread, **kw)
    with ThreadPoolExecutor(max_workers=2) as ex:
        b = sweep(BASE, {"beta": [0.5, 1.5]}, final_class_spread, executor=ex, **kw)
    assert a.results.shape == (2, 3)
    assert a.metric == "final_class_spread"
    np.testing.assert_array_equal(a.results, b.results)
    with pytest.raises(ValueError, match="first axis is the trials"):
        sweep(BASE, {"beta": [0.5]}, lambda traj: 1.0, **kw)


def test_seeds_reproducible_and_distinct():
    a = sweep(BASE, {"beta": [0.5, 0.5]}, "cross_entropy", seed=5, **QUICK)
    b = sweep(BASE, {"beta": [0.5, 0.5]}, "cross_entropy", seed=5, **QUICK)
    c = sweep(BASE, {"beta": [0.5, 0.5]}, "cross_entropy", seed=6, **QUICK)
    np.testing.assert_array_equal(a.results, b.results)
    assert not np.array_equal(a.results, c.results)
    assert not np.array_equal(a.results[0], a.results[1])     # settings are independent
    crn = sweep(BASE, {"beta": [0.5, 0.5]}, "cross_entropy", seed=5,
                common_random_numbers=True, **QUICK)
    np.testing.assert_array_equal(crn.results[0], crn.results[1])
    fresh = sweep(BASE, {"beta": [0.5]}, "cross_entropy", seed=None, **QUICK)
    again = sweep(BASE, {"beta": [0.5]}, "cross_entropy", seed=fresh.seed, **QUICK)
    np.testing.assert_array_equal(fresh.results, again.results)
    ss = np.random.SeedSequence(5)
    d = sweep(BASE, {"beta": [0.5, 0.5]}, "cross_entropy", seed=ss, **QUICK)
    e = sweep(BASE, {"beta": [0.5, 0.5]}, "cross_entropy", seed=ss, **QUICK)
    np.testing.assert_array_equal(d.results, a.results)       # a SeedSequence is not consumed
    np.testing.assert_array_equal(d.results, e.results)


def test_result_helpers_and_pickling():
    res = sweep(BASE, {"beta": [0.5, 1.5]}, "is_separable", seed=0, **QUICK)
    np.testing.assert_array_equal(res.probability(), res.results.mean(axis=1))
    back = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(back.results, res.results)
    ce = sweep(BASE, {"beta": [0.5]}, "cross_entropy", seed=0, **QUICK)
    with pytest.raises(TypeError, match="boolean"):
        ce.probability()
    with pytest.raises(ValueError, match="not a grid axis"):
        ce.index(gamma=1.0)
    with pytest.raises(ValueError, match="not among"):
        ce.index(beta=0.7)


def test_validation():
    with pytest.raises(ValueError, match="grid key 'bogus'"):
        sweep(BASE, {"bogus": [1]}, "accuracy", **QUICK)
    with pytest.raises(TypeError, match="grid"):
        sweep(BASE, [("beta", [1])], "accuracy", **QUICK)
    with pytest.raises(TypeError, match=r"grid\['beta'\]"):
        sweep(BASE, {"beta": 0.5}, "accuracy", **QUICK)
    with pytest.raises(ValueError, match=r"grid\['beta'\]"):
        sweep(BASE, {"beta": []}, "accuracy", **QUICK)
    with pytest.raises(ValueError, match="sigma"):
        sweep(BASE, {"sigma": [0.1, -1.0]}, "accuracy", **QUICK)
    with pytest.raises(ValueError, match="metric"):
        sweep(BASE, {"beta": [1.0]}, "loss", **QUICK)
    with pytest.raises(TypeError, match="metric"):
        sweep(BASE, {"beta": [1.0]}, 3, **QUICK)
    with pytest.raises(ValueError, match="t_end"):
        sweep(BASE, {"t_end": [1.0]}, "accuracy", **QUICK)
    with pytest.raises(TypeError, match="t_end"):
        sweep(BASE, {"beta": [1.0]}, "accuracy", dt=0.1)
    with pytest.raises(ValueError, match="n_trials"):
        sweep(BASE, {"beta": [1.0]}, "accuracy", t_end=1.0, dt=0.1, n_trials=0)
    with pytest.raises(TypeError, match="seed"):
        sweep(BASE, {"beta": [1.0]}, "accuracy", seed=1.5, **QUICK)
    with pytest.raises(TypeError, match="unexpected"):
        sweep(BASE, {"beta": [1.0]}, "accuracy", n_saves_typo=3, **QUICK)
    with pytest.raises(ValueError, match="twice"):
        sweep(BASE, {"beta": [1.0], ("alpha", "beta"): [(1, 1)]}, "accuracy", **QUICK)
    with pytest.raises(TypeError, match="model"):
        sweep("model", {"beta": [1.0]}, "accuracy", **QUICK)


def test_phase_transition_identity_variant():
    """Identity LE-SDE, n >> p: class offsets grow like exp((alpha-beta) t/K) while the
    within-class spread grows like sigma sqrt(t); at a long horizon P(separable) is
    high for alpha > beta and low for alpha < beta (DESIGN.md section 3, item 4)."""
    model = LEModel(3, 30, alpha=1.0, beta=0.5, sigma=0.3, gradient="identity")
    res = sweep(model, {"beta": [0.25, 2.0]}, "is_separable", t_end=60.0, dt=0.25,
                n_trials=8, n_saves=2, seed=2024, centre=True)
    # P(separable) against beta/alpha at t_end sharpens into a step at 1 (coarse check)
    p_end = res.probability()[:, -1]
    assert p_end[0] >= 0.85          # alpha > beta: separable
    assert p_end[1] <= 0.15          # alpha < beta: not separable
    assert np.all(res.probability()[:, 0] <= 0.15)   # the initial cloud is not


def test_cover_theorem_few_points_always_separable():
    """With N = Kn <= p + 1 points, separability says nothing: P = 1 even for alpha < beta."""
    model = LEModel(3, 2, alpha=1.0, beta=2.0, sigma=0.3, gradient="identity", dim=6)
    res = sweep(model, {"beta": [0.25, 2.0]}, "is_separable", t_end=20.0, dt=0.25,
                n_trials=8, seed=1, centre=True)
    assert np.all(res.probability() == 1.0)


# ---------------------------------------------------------------- failures name their setting

def fails_at_beta_2(traj):
    """Module-level metric that fails for one setting (beta == 2) only."""
    if traj.model.beta == 2.0:
        raise ValueError("metric cannot handle this")
    return traj.class_means()[:, -1].std(axis=(-2, -1))


def keyerror_at_beta_2(traj):
    if traj.model.beta == 2.0:
        raise KeyError("missing")
    return traj.class_means()[:, -1].std(axis=(-2, -1))


def overflow_at_beta_2(traj):
    if traj.model.beta == 2.0:
        from lecode import NonFiniteError
        raise NonFiniteError("overflow in the metric")
    return traj.class_means()[:, -1].std(axis=(-2, -1))


GRID = {"beta": [0.5, 2.0], "sigma": [0.1, 0.3]}


def _check_named(info, exc_type, inner):
    msg = str(info.value)
    assert isinstance(info.value, exc_type), type(info.value)
    assert "grid setting 2 of 4" in msg and "index (1, 0)" in msg, msg
    assert "beta=2.0" in msg and "sigma=0.1" in msg, msg
    assert inner in msg, msg
    assert info.value.setting_index == (1, 0)
    assert info.value.setting == {"beta": 2.0, "sigma": 0.1}


@pytest.mark.parametrize("executor", ["serial", "threads", "processes"])
@pytest.mark.parametrize("metric, exc_type, inner", [
    (fails_at_beta_2, ValueError, "metric cannot handle this"),
    (keyerror_at_beta_2, None, "KeyError: 'missing'"),
    (overflow_at_beta_2, None, "overflow in the metric"),
])
def test_failing_setting_is_named_in_every_executor(executor, metric, exc_type, inner):
    from lecode import NonFiniteError
    from lecode.sweep import SweepError
    exc_type = exc_type or (SweepError if metric is keyerror_at_beta_2 else NonFiniteError)
    kw = dict(seed=3, **QUICK)
    if executor == "serial":
        with pytest.raises(exc_type) as info:
            sweep(BASE, GRID, metric, **kw)
    else:
        pool = ThreadPoolExecutor(2) if executor == "threads" else ProcessPoolExecutor(2)
        with pool as ex, pytest.raises(exc_type) as info:
            sweep(BASE, GRID, metric, executor=ex, **kw)
    # the first failing setting in C order is (1, 0); with pools another may finish first
    msg = str(info.value)
    assert "beta=2.0" in msg and inner in msg, msg
    assert info.value.setting_index in ((1, 0), (1, 1))
    if executor == "serial":
        _check_named(info, exc_type, inner)


def test_failing_simulation_and_chunks_are_named():
    # a setting whose simulation overflows: identity variant with a huge growth rate
    from lecode import NonFiniteError
    m = LEModel(3, 4, alpha=1.0, beta=0.5, sigma=0.0, gradient="identity")
    with pytest.raises(NonFiniteError) as info:
        sweep(m, {"alpha": [1.0, 300.0]}, "accuracy", t_end=30.0, dt=0.001, n_trials=4,
              trials_per_task=2, seed=0)
    msg = str(info.value)
    assert "grid setting 1 of 2 (index (1,): alpha=300.0; trials 0-1)" in msg, msg


def test_unpicklable_metric_on_a_process_pool_is_named():
    with ProcessPoolExecutor(1) as ex, pytest.raises(Exception) as info:
        sweep(BASE, {"beta": [0.5]}, lambda traj: np.zeros(3), executor=ex, seed=0, **QUICK)
    assert "grid setting 0 of 1 (index (0,): beta=0.5)" in str(info.value)
    assert "pickle" in str(info.value).lower()


def test_invalid_model_setting_is_named_with_index():
    with pytest.raises(ValueError, match=r"grid setting 1 of 2 \(index \(1,\): sigma=-1.0\).*sigma"):
        sweep(BASE, {"sigma": [0.1, -1.0]}, "accuracy", **QUICK)


@pytest.mark.parametrize("bad", ["pool", 4, map, object()])
def test_bad_executor_is_a_clear_type_error(bad):
    with pytest.raises(TypeError, match="executor must be None .* concurrent.futures.Executor"):
        sweep(BASE, {"beta": [0.5]}, "accuracy", executor=bad, **QUICK)


def test_progress_flag():
    with pytest.raises(TypeError, match="progress"):
        sweep(BASE, {"beta": [0.5]}, "accuracy", progress="yes", **QUICK)
    a = sweep(BASE, {"beta": [0.5, 1.0]}, "accuracy", progress=True, seed=1, **QUICK)
    b = sweep(BASE, {"beta": [0.5, 1.0]}, "accuracy", seed=1, **QUICK)
    np.testing.assert_array_equal(a.results, b.results)


# ---------------------------------------------------------------- a real dask cluster

@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install -e '.[test]')")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_dask_local_cluster_is_bit_identical_to_serial(dask_client):
    assert len(dask_client.scheduler_info()["workers"]) == 2
    kw = dict(seed=7, t_end=2.0, dt=0.1, n_trials=4, n_saves=3)
    grid = {"beta": [0.25, 0.75, 1.5], "sigma": [0.1, 0.4]}
    serial = sweep(BASE, grid, "cross_entropy", **kw)
    ex = dask_client.get_executor()
    on_dask = sweep(BASE, grid, "cross_entropy", executor=ex, **kw)
    np.testing.assert_array_equal(serial.results, on_dask.results)
    np.testing.assert_array_equal(serial.times, on_dask.times)
    sep = sweep(BASE, grid, "is_separable", executor=ex, trials_per_task=2, **kw)
    np.testing.assert_array_equal(sep.results,
                                  sweep(BASE, grid, "is_separable", trials_per_task=2, **kw).results)
    # a failing setting is named there too
    with pytest.raises(ValueError) as info:
        sweep(BASE, GRID, fails_at_beta_2, executor=ex, **QUICK)
    assert "beta=2.0" in str(info.value) and "metric cannot handle this" in str(info.value)
