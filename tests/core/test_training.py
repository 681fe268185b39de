"""The training loop: the notes' exercise, other tasks, stopping rules, resume and divergence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core import ANN, ConfigurationError, DivergenceError, Progress, StopTraining
from core.datasets import make_dataset
from core.serialization import state_from_bytes, state_to_bytes


def _circle(m: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    ds = make_dataset("circle", m, 0.0, seed)
    return ds.X, ds.y[None, :].astype(float)


def _spiral(m: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ds = make_dataset("spiral", m, 0.0, seed, n_classes=3)
    return ds.X, np.eye(3)[:, ds.y], ds.y


def test_notes_exercise_circle(tmp_path) -> None:
    X, Y = _circle()
    ann = ANN(2, 4, 1)
    result = ann.fit(X, Y, n_iter=10000, lambd=0.1, cost_curve_path=tmp_path / "cost.png")
    assert result.stop_reason == "completed" and result.n_iter == 10000
    assert ann.accuracy(X, Y) >= 0.9
    costs = np.array(result.costs)
    assert len(costs) == 10000 and result.history.iterations[:2] == [1, 2]
    assert ann.history is result.history
    assert costs[-1] < 0.5 * costs[0]
    assert np.all(np.diff(costs) <= 1e-12)  # full-batch GD at this rate never goes up
    assert result.final_cost == pytest.approx(ann.cost(X, Y))
    assert (tmp_path / "cost.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = ann.save_cost_curve(tmp_path / "cost.svg", log_y=True)
    assert b"<svg" in svg.read_bytes()[:500]


def test_fit_matches_the_notes_loop() -> None:
    X, Y = _circle(50)
    fast, slow = ANN(2, 4, 1), ANN(2, 4, 1)
    fast.fit(X, Y, n_iter=25, lambd=0.3)
    for _ in range(25):
        slow.back_propagation(X, Y, slow.forward_propagation(X), 0.3)
    np.testing.assert_allclose(fast.flat_parameters, slow.flat_parameters, rtol=0, atol=1e-12)


def test_multiclass_spiral_softmax() -> None:
    X, Y, labels = _spiral()
    ann = ANN(2, [32, 32], 3, hidden_activation="relu", output_activation="softmax", seed=0)
    result = ann.fit(
        X, Y, n_iter=400, lambd=0.01, optimizer="adam", batch_size=32, seed=1, record_every=10
    )
    assert ann.accuracy(X, labels) >= 0.95
    assert result.costs[-1] < 0.2 * result.costs[0]


def test_regression_linear_output() -> None:
    ds = make_dataset("reg-plane", 300, 0.0, 0)
    X, Y = ds.X, ds.y[None, :]
    ann = ANN(2, 8, 1, output_activation="linear", seed=0)
    ann.fit(X, Y, n_iter=500, lambd=0.01, optimizer="adam", record_every=50)
    residual = ann.predict(X) - Y
    r2 = 1 - np.sum(residual**2) / np.sum((Y - Y.mean()) ** 2)
    assert r2 >= 0.98


def test_relu_output_regression_and_target_checks() -> None:
    ds = make_dataset("reg-plane", 200, 0.0, 1)
    X, Y = ds.X, ds.y[None, :] - ds.y.min()
    ann = ANN(2, 8, 1, output_activation="relu", hidden_activation="relu", seed=0)
    first = ann.fit(X, Y, n_iter=300, lambd=0.01, optimizer="adam")
    assert first.final_cost < 0.1 * first.costs[0]
    with pytest.raises(ConfigurationError, match=">= 0"):
        ann.fit(X, Y - 10, n_iter=1)
    with pytest.raises(ConfigurationError, match="0 or 1"):
        ANN(2, 3, 1).fit(X, Y, n_iter=1)
    with pytest.raises(ConfigurationError, match="one-hot"):
        ANN(2, 3, 2, output_activation="softmax").fit(X, np.ones((2, 200)), n_iter=1)
    with pytest.raises(ConfigurationError, match="unknown training options"):
        Xc, Yc = _circle(10)
        ANN(2, 3, 1).fit(Xc, Yc, n_iter=1, learning_rate_init=0.1)


def _resume_case(**options: Any) -> Any:
    X, Y, _ = _spiral(120)
    Xv, Yv, _ = _spiral(60, seed=1)

    def make() -> ANN:
        return ANN(2, [8, 6], 3, hidden_activation="tanh", output_activation="softmax")

    whole = make()
    full = whole.fit(X, Y, X_val=Xv, Y_val=Yv, **options)

    def stop_at_13(p: Progress) -> bool:
        return p.iteration < 13

    part = make()
    first = part.fit(X, Y, X_val=Xv, Y_val=Yv, callback=stop_at_13, **options)
    assert first.stop_reason == "callback" and first.n_iter == 13
    state = state_from_bytes(state_to_bytes(first.state))  # through a checkpoint file format
    resumed = make()
    rest = resumed.fit(X, Y, X_val=Xv, Y_val=Yv, resume=state, **options)
    assert resumed.flat_parameters.tobytes() == whole.flat_parameters.tobytes()
    assert rest.history == full.history
    assert rest.n_iter == full.n_iter and rest.stop_reason == full.stop_reason
    return full


def test_resume_is_bit_identical_minibatch_adam_validation() -> None:
    full = _resume_case(
        n_iter=30, lambd=0.01, optimizer="adam", batch_size=16, l2=0.01, record_every=3
    )
    assert full.history.val_costs


def test_resume_is_bit_identical_full_batch_momentum() -> None:
    _resume_case(n_iter=25, lambd=0.1, optimizer="momentum")


def test_resume_rejects_changed_options() -> None:
    X, Y = _circle(40)
    state = ANN(2, 3, 1).fit(X, Y, n_iter=3).state
    with pytest.raises(ConfigurationError, match="optimizer"):
        ANN(2, 3, 1).fit(X, Y, n_iter=6, resume=state, optimizer="adam")


def test_divergence_raises_and_keeps_finite_parameters() -> None:
    ds = make_dataset("reg-plane", 100, 0.0, 0)
    X, Y = ds.X * 100, ds.y[None, :] * 1e3
    ann = ANN(2, 4, 1, hidden_activation="linear", output_activation="linear")
    with pytest.raises(DivergenceError) as info:
        ann.fit(X, Y, n_iter=1000, lambd=10.0)
    assert 1 <= info.value.iteration < 1000
    assert np.all(np.isfinite(ann.flat_parameters))
    assert str(info.value.iteration) in str(info.value)


def test_tol_stops_when_cost_stalls() -> None:
    X, Y = _circle(100)
    result = ANN(2, 4, 1).fit(X, Y, n_iter=10000, lambd=0.1, tol=1e-3, n_iter_no_change=5)
    assert result.stop_reason == "tol" and result.n_iter < 10000


def test_early_stopping_restores_best_parameters() -> None:
    X, Y, _ = _spiral(60)
    Xv, Yv, _ = _spiral(300, seed=5)
    ann = ANN(2, [64], 3, hidden_activation="relu", output_activation="softmax", seed=0)
    result = ann.fit(
        X,
        Y,
        n_iter=3000,
        lambd=0.05,
        optimizer="adam",
        X_val=Xv,
        Y_val=Yv,
        patience=20,
        record_every=5,
    )
    assert result.stop_reason == "early_stopping"
    assert result.best_iteration is not None and result.best_iteration < result.n_iter
    assert ann.cost(Xv, Yv) == pytest.approx(result.best_val_cost, rel=1e-12)
    assert min(result.history.val_costs) == result.best_val_cost


def test_max_seconds_and_callback_stop() -> None:
    X, Y = _circle(100)
    result = ANN(2, 4, 1).fit(X, Y, n_iter=10**7, max_seconds=0.2)
    assert result.stop_reason == "max_seconds" and 0.2 <= result.elapsed < 2.0
    seen: list[Progress] = []

    def callback(p: Progress) -> None:
        seen.append(p)
        if p.iteration == 40:
            raise StopTraining

    result = ANN(2, 4, 1).fit(
        X, Y, n_iter=100, callback=callback, callback_every=10, record_every=20
    )
    assert result.stop_reason == "callback" and result.n_iter == 40
    assert [p.iteration for p in seen] == [10, 20, 30, 40]
    assert seen[0].cost is not None and seen[0].n_iter == 100 and seen[0].val_cost is None
    assert seen[-1].state().iteration == 40


def test_record_every_thins_history() -> None:
    X, Y = _circle(50)
    result = ANN(2, 4, 1).fit(X, Y, n_iter=95, record_every=10)
    assert result.history.iterations == [1, *range(10, 91, 10), 95]


def test_same_seed_bit_identical_and_float32_close() -> None:
    X, Y, _ = _spiral(90)
    opts: dict[str, Any] = dict(n_iter=40, lambd=0.01, optimizer="adam", batch_size=20, seed=3)
    runs = [ANN(2, 8, 3, output_activation="softmax") for _ in range(2)]
    for ann in runs:
        ann.fit(X, Y, **opts)
    assert runs[0].flat_parameters.tobytes() == runs[1].flat_parameters.tobytes()
    f32 = ANN(2, 8, 3, output_activation="softmax", dtype="float32")
    result = f32.fit(X, Y, **opts)
    assert f32.flat_parameters.dtype == np.float32
    np.testing.assert_allclose(f32.flat_parameters, runs[0].flat_parameters, atol=1e-4)
    assert result.final_cost == pytest.approx(runs[0].cost(X, Y), rel=1e-4)


def test_no_hidden_layer_trains_logistic_regression() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 200))
    Y = (np.array([[1.0, -2.0, 0.5]]) @ X > 0).astype(float)
    ann = ANN(3, [], 1)
    ann.fit(X, Y, n_iter=300, lambd=0.5)
    assert ann.accuracy(X, Y) >= 0.97


def test_l2_shrinks_weights_but_not_biases() -> None:
    X, Y = _circle(100)
    plain, shrunk = ANN(2, 6, 1), ANN(2, 6, 1)
    plain.fit(X, Y, n_iter=300, lambd=0.5)
    result = shrunk.fit(X, Y, n_iter=300, lambd=0.5, l2=5.0)
    assert np.linalg.norm(shrunk.W1) < np.linalg.norm(plain.W1)
    assert result.final_cost == pytest.approx(shrunk.cost(X, Y, l2=5.0), rel=1e-12)


@pytest.mark.parametrize("batch_size", [None, 25])
def test_large_inputs_used_in_place_train_the_same(
    batch_size: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import propagation

    X, Y, _ = _spiral(90)
    opts: dict[str, Any] = dict(n_iter=20, lambd=0.01, optimizer="adam", batch_size=batch_size)
    copied = ANN(2, [8, 5], 3, output_activation="softmax")
    copied.fit(X, Y, **opts)
    monkeypatch.setattr(propagation, "AUGMENT_LIMIT", 0)
    in_place = ANN(2, [8, 5], 3, output_activation="softmax")
    in_place.fit(X, Y, **opts)
    np.testing.assert_allclose(in_place.flat_parameters, copied.flat_parameters, atol=1e-12)
