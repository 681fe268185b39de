"""Training speed of the core engine against scikit-learn's MLPClassifier (same settings).

Workloads (both full batch, plain gradient descent, no L2, every iteration done):

* P1, the notes' workload: 2-4-1 tanh/sigmoid, 400 circle samples, 10,000 iterations, lr 0.1;
* P2, a wide net: 784-128-10 relu/softmax, 10,000 samples, 30 iterations, float64 and float32,
  with the "BLAS floor": the first layer's two matrix products per iteration alone, which bound
  any full-batch trainer of that net on this machine.

scikit-learn runs with ``solver="sgd"``, ``batch_size=m``, ``momentum=0``, ``alpha=0``,
``shuffle=False`` and a ``n_iter_no_change`` larger than ``max_iter``, so it also does all
iterations. A textbook numpy loop (the notes' code, allocating every array) is a reference point.
Each figure is the median of ``--repeats`` interleaved rounds.
Run: ``python bench/train_vs_sklearn.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from core import ANN
from core.datasets import make_dataset


def median_times(
    contenders: list[tuple[str, Callable[[], Any]]], repeats: int
) -> list[tuple[str, float]]:
    """Median wall-clock seconds of each contender over ``repeats`` rounds.

    Each round runs every contender once, in turn, so a change in machine load during the run
    hits all of them alike instead of whichever happened to run then.
    """
    times: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for _ in range(repeats):
        for name, fn in contenders:
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return [(name, statistics.median(times[name])) for name, _ in contenders]


def sklearn_fit(
    X_rows: np.ndarray, y: np.ndarray, hidden: int, activation: str, n_iter: int, lr: float
) -> Callable[[], Any]:
    """A closure fitting MLPClassifier with the engine's settings (rows are samples)."""

    def fit() -> Any:
        clf = MLPClassifier(
            hidden_layer_sizes=(hidden,),
            activation=activation,
            solver="sgd",
            batch_size=X_rows.shape[0],
            learning_rate="constant",
            learning_rate_init=lr,
            momentum=0.0,
            nesterovs_momentum=False,
            alpha=0.0,
            shuffle=False,
            max_iter=n_iter,
            tol=0.0,
            n_iter_no_change=n_iter + 1,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_rows, y)
        assert clf.n_iter_ == n_iter
        return clf

    return fit


def textbook_loop(X: np.ndarray, Y: np.ndarray, n_h: int, n_iter: int, lr: float) -> None:
    """The notes' loop, written plainly (tanh hidden layer, sigmoid output)."""
    rng = np.random.default_rng(2)
    n_x, m = X.shape
    W1 = rng.standard_normal((n_h, n_x)) * np.sqrt(2 / (n_x + n_h))
    b1 = np.zeros((n_h, 1))
    W2 = rng.standard_normal((1, n_h)) * np.sqrt(2 / (n_h + 1))
    b2 = np.zeros((1, 1))
    for _ in range(n_iter):
        A1 = np.tanh(W1 @ X + b1)
        A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
        dZ2 = A2 - Y
        dW2 = dZ2 @ A1.T / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dZ1 = (W2.T @ dZ2) * (1 - A1**2)
        dW1 = dZ1 @ X.T / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2


def p1(repeats: int) -> list[tuple[str, float]]:
    """The notes' workload."""
    ds = make_dataset("circle", 400, 0.0, 0)
    X, y = ds.X, ds.y
    Y = y[None, :].astype(float)
    rows = np.ascontiguousarray(X.T)
    contenders = [
        ("scikit-learn", sklearn_fit(rows, y, 4, "tanh", 10_000, 0.1)),
        ("textbook numpy loop", lambda: textbook_loop(X, Y, 4, 10_000, 0.1)),
        ("core, cost every iteration", lambda: ANN(2, 4, 1).fit(X, Y, n_iter=10_000, lambd=0.1)),
        (
            "core, cost every 100",
            lambda: ANN(2, 4, 1).fit(X, Y, n_iter=10_000, lambd=0.1, record_every=100),
        ),
    ]
    return median_times(contenders, repeats)


def p2(repeats: int) -> list[tuple[str, float]]:
    """The wide workload on random data (the timing does not depend on the values)."""
    rng = np.random.default_rng(0)
    m = 10_000
    X = rng.standard_normal((784, m))
    y = rng.integers(0, 10, m)
    Y = np.eye(10)[:, y]
    rows = np.ascontiguousarray(X.T)
    rows32 = rows.astype(np.float32)
    X32 = X.astype(np.float32)

    def core_fit(X_: np.ndarray, dtype: str) -> Callable[[], Any]:
        def fit() -> Any:
            ann = ANN(784, 128, 10, hidden_activation="relu", output_activation="softmax",
                      seed=0, dtype=dtype)  # fmt: skip
            return ann.fit(X_, Y, n_iter=30, lambd=0.1)

        return fit

    contenders = [
        ("scikit-learn float64", sklearn_fit(rows, y, 128, "relu", 30, 0.1)),
        ("scikit-learn float32", sklearn_fit(rows32, y, 128, "relu", 30, 0.1)),
        ("core float64", core_fit(X, "float64")),
        ("core float32", core_fit(X32, "float32")),
        ("BLAS floor float64", first_layer_products(X, 128, 30)),
        ("BLAS floor float32", first_layer_products(X32, 128, 30)),
    ]
    return median_times(contenders, repeats)


def first_layer_products(X: np.ndarray, n_h: int, n_iter: int) -> Callable[[], Any]:
    """The products no full-batch trainer of this net can skip, alone: per iteration
    ``Z1 = W1 X`` and ``dW1^T = X dZ1^T`` (``2 n_h n_x m`` flops each), plus the forward pass
    that gives the final cost. Their time bounds any such trainer on this machine's BLAS."""
    rng = np.random.default_rng(1)
    W1 = rng.standard_normal((n_h, X.shape[0])).astype(X.dtype)
    dZ1 = rng.standard_normal((n_h, X.shape[1])).astype(X.dtype)
    Z1 = np.empty_like(dZ1)
    dW1_T = np.empty((X.shape[0], n_h), X.dtype)

    def products() -> None:
        for _ in range(n_iter):
            np.dot(W1, X, out=Z1)
            np.dot(X, dZ1.T, out=dW1_T)
        np.dot(W1, X, out=Z1)

    return products


def machine() -> str:
    """CPU model, core count, numpy and BLAS versions (with the kernel OpenBLAS picked)."""
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas" and "numpy" in i.get("filepath", "")
    ]
    return (
        f"CPU {model}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"numpy {np.__version__}, BLAS {'; '.join(blas)}"
    )


def report(title: str, rows: list[tuple[str, float]], baseline: str) -> None:
    """Print times and speed-ups against ``baseline``."""
    base = dict(rows)[baseline]
    print(f"\n{title}")
    for name, seconds in rows:
        print(f"  {name:28s} {seconds:8.3f} s   {base / seconds:5.2f}x vs {baseline}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--blas-threads", type=int, default=None, help="limit BLAS threads (default: BLAS's own)"
    )
    parser.add_argument("--only", choices=["p1", "p2"], default=None)
    args = parser.parse_args()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")
    print(machine())
    print(f"load average before: {os.getloadavg()}")
    if args.only in (None, "p1"):
        report("P1: 2-4-1 tanh/sigmoid, m=400, 10,000 iterations", p1(args.repeats), "scikit-learn")
    if args.only in (None, "p2"):
        report(
            "P2: 784-128-10 relu/softmax, m=10,000, 30 iterations",
            p2(args.repeats),
            "scikit-learn float64",
        )
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
