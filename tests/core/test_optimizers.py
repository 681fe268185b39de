"""Update rules against their formulas, and state export/restore."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigurationError
from core.optimizers import OPTIMIZERS, Adam, Optimizer, make_optimizer

rng = np.random.default_rng(0)
THETA = rng.standard_normal(6)
GRADS = [rng.standard_normal(6) for _ in range(4)]
F64 = np.dtype(np.float64)


def _run(opt: Optimizer, steps: list[np.ndarray] = GRADS, theta: np.ndarray = THETA) -> np.ndarray:
    theta = theta.copy()
    for g in steps:
        opt.step(theta, g.copy())
    return theta


def test_gradient_descent() -> None:
    theta = _run(make_optimizer("gd", 6, F64, 0.1), GRADS[:1])
    np.testing.assert_allclose(theta, THETA - 0.1 * GRADS[0], rtol=1e-15)


def test_momentum() -> None:
    v = np.zeros(6)
    expected = THETA.copy()
    for g in GRADS:
        v = 0.8 * v - 0.05 * g
        expected = expected + v
    theta = _run(make_optimizer("momentum", 6, F64, 0.05, {"momentum": 0.8}))
    np.testing.assert_allclose(theta, expected, rtol=1e-14)


def test_adam() -> None:
    m = np.zeros(6)
    v = np.zeros(6)
    expected = THETA.copy()
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        expected = expected - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8 / np.sqrt(1 - 0.999**t))
    theta = _run(make_optimizer("adam", 6, F64, 0.01))
    np.testing.assert_allclose(theta, expected, rtol=1e-12)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_round_trip_continues_identically(name: str) -> None:
    a = make_optimizer(name, 6, F64, 0.05)
    theta_a = _run(a, GRADS[:2])
    b = make_optimizer(name, 6, F64, 0.05)
    b.load_state_arrays(a.state_arrays())
    theta_b = theta_a.copy()
    theta_a = _run(a, GRADS[2:], theta_a)
    theta_b = _run(b, GRADS[2:], theta_b)
    assert theta_a.tobytes() == theta_b.tobytes()


def test_state_mismatch_and_bad_hyperparameters() -> None:
    with pytest.raises(ConfigurationError, match="needs"):
        make_optimizer("adam", 3, F64, 0.1).load_state_arrays({"velocity": np.zeros(3)})
    with pytest.raises(ConfigurationError, match="optimizer"):
        make_optimizer("rmsprop", 3, F64, 0.1)
    with pytest.raises(ConfigurationError, match="learning rate"):
        make_optimizer("gd", 3, F64, 0.0)
    with pytest.raises(ConfigurationError, match="momentum"):
        make_optimizer("momentum", 3, F64, 0.1, {"momentum": 1.0})
    with pytest.raises(ConfigurationError, match="beta1"):
        Adam(3, F64, 0.1, beta1=1.5)


def test_float32_state_stays_float32() -> None:
    opt = make_optimizer("adam", 4, np.dtype(np.float32), 0.1)
    theta = np.ones(4, np.float32)
    opt.step(theta, np.ones(4, np.float32))
    assert theta.dtype == np.float32
    assert all(v.dtype == np.float32 for k, v in opt.state_arrays().items() if k != "t")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_step_scaled_takes_gradient_times_gradient_scale(name: str) -> None:
    plain = make_optimizer(name, 6, F64, 0.05)
    scaled = make_optimizer(name, 6, F64, 0.05)
    theta_plain, theta_scaled = THETA.copy(), THETA.copy()
    for g in GRADS:
        plain.step(theta_plain, g.copy())
        scaled.step_scaled(theta_scaled, g * scaled.gradient_scale)
    np.testing.assert_allclose(theta_scaled, theta_plain, rtol=1e-14)
