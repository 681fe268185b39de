"""What the search machinery costs: a 64-trial random search on two local workers against the
trials' own training time, with scikit-learn's GridSearchCV over the same grid in the same run.

The search: the notes' 2-4-1 network (tanh hidden units, sigmoid output, Glorot) on the circle
set (``--samples`` points, the service's stored 80/20 split, the test part scoring each trial),
``--n-iter`` full-batch gradient-descent passes per trial, ``learning_rate`` and ``seed`` drawn
from an 8 x 8 grid of choices (``strategy: random``, ``max_parallel`` 2 and 4), on a real
``annserve serve`` with ``max_concurrent_jobs`` = 2 (SQLite, the embedded default).

* ``wall``: from ``POST /v1/searches`` to the search's final status (client clock, 20 ms polls);
* ``ideal``: the sum of the trials' own training time (their jobs' ``elapsed_s``) / 2 workers;
* ``overhead`` = wall / ideal (goal: at most 1.3);
* ``GridSearchCV``: ``MLPClassifier(hidden_layer_sizes=(4,), activation="tanh", solver="sgd",
  momentum=0, batch_size=<all>, max_iter=<n_iter>, tol=0, n_iter_no_change=<n_iter>)`` over the
  same 64 (learning rate, seed) points on the same train/test rows (``PredefinedSplit``),
  ``n_jobs=2``, ``refit=False``: the same number of full-batch passes per point.

Run: ``python bench/search_throughput.py [--rounds 3]``; figures are medians over the rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import running_server

LEARNING_RATES = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5]
SEEDS = list(range(8))
FINAL = {"succeeded", "failed", "cancelled"}


def annserve_search(
    http: httpx.Client, dataset_id: str, n_iter: int, trials: int, max_parallel: int
) -> dict[str, Any]:
    """One search to its end: wall seconds, the trials' training seconds, the best score."""
    body = {
        "dataset_id": dataset_id,
        "base": {
            "hidden_layers": [{"units": 4, "activation": "tanh"}],
            "init": "glorot",
        },
        "train": {"n_iter": n_iter, "record_every": 100},
        "space": {"learning_rate": LEARNING_RATES, "seed": SEEDS},
        "strategy": "random",
        "max_trials": trials,
        "max_parallel": max_parallel,
        "seed": 0,
        "keep": "all",  # the trials' jobs stay readable, for the breakdown below
    }
    start = time.perf_counter()
    created = http.post("/v1/searches", json=body)
    created.raise_for_status()
    search_id = created.json()["id"]
    while True:
        search = http.get(f"/v1/searches/{search_id}").json()
        if search["status"] in FINAL:
            break
        time.sleep(0.02)
    wall = time.perf_counter() - start
    assert search["status"] == "succeeded", search
    done = [t for t in search["trials"] if t["status"] == "succeeded"]
    assert len(done) == trials, search["progress"]
    train_seconds = sum(float(t["train_seconds"]) for t in done)
    jobs = [http.get(f"/v1/jobs/{t['job_ids'][0]}").json() for t in done]
    waits = [seconds(j["created_at"], j["started_at"]) for j in jobs]
    runs = [seconds(j["started_at"], j["finished_at"]) for j in jobs]
    return {
        "wall": wall,
        "train": train_seconds,
        "best": search["best_value"],
        "queue_wait": statistics.mean(waits),
        "claim_to_end": statistics.mean(runs),
    }


def seconds(start: str, end: str) -> float:
    """Seconds between two ISO timestamps of the service."""
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def split_rows(http: httpx.Client, dataset_id: str) -> tuple[np.ndarray, ...]:
    """The stored train and test rows of the dataset, as the service holds them."""
    parts = []
    for split in ("train", "test"):
        page = http.get(f"/v1/datasets/{dataset_id}/data", params={"subset": split})
        page.raise_for_status()
        data = page.json()
        parts.append(np.asarray(data["features"], dtype=np.float64))
        parts.append(np.asarray(data["targets"]).astype(np.int64).ravel())
    return tuple(parts)


def grid_search_cv(X: np.ndarray, y: np.ndarray, n_train: int, n_iter: int) -> dict[str, Any]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.neural_network import MLPClassifier

    folds = np.where(np.arange(len(y)) < n_train, -1, 0)  # train rows, then the test rows
    estimator = MLPClassifier(
        hidden_layer_sizes=(4,),
        activation="tanh",
        solver="sgd",
        momentum=0.0,
        nesterovs_momentum=False,
        batch_size=n_train,
        alpha=0.0,
        max_iter=n_iter,
        tol=0.0,
        n_iter_no_change=n_iter,
        shuffle=False,
    )
    grid = {"learning_rate_init": LEARNING_RATES, "random_state": SEEDS}
    search = GridSearchCV(estimator, grid, cv=PredefinedSplit(folds), n_jobs=2, refit=False)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        os.environ["PYTHONWARNINGS"] = "ignore"  # the joblib workers too
        search.fit(X, y)
    wall = time.perf_counter() - start
    fit_total = float(np.sum(search.cv_results_["mean_fit_time"]))
    return {"wall": wall, "train": fit_total, "best": float(search.best_score_)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--n-iter", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument(
        "--max-parallel",
        type=int,
        nargs="+",
        default=[2, 4],
        help="the searches' max_parallel (above the 2 workers, the next trial waits queued)",
    )
    args = parser.parse_args()
    import sklearn

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, load {os.getloadavg()}")
    ours: dict[int, list[dict[str, Any]]] = {}
    theirs: list[dict[str, Any]] = []
    with (
        running_server(max_concurrent_jobs=2) as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        generated = http.post(
            "/v1/datasets/generate",
            json={"kind": "circle", "n_samples": args.samples, "noise": 0.1, "seed": 0},
        )
        generated.raise_for_status()
        dataset_id = generated.json()["id"]
        X_train, y_train, X_test, y_test = split_rows(http, dataset_id)
        X, y = np.vstack([X_train, X_test]), np.concatenate([y_train, y_test])
        for k in range(args.rounds):
            for parallel in args.max_parallel:
                run = annserve_search(http, dataset_id, args.n_iter, args.trials, parallel)
                ours.setdefault(parallel, []).append(run)
            theirs.append(grid_search_cv(X, y, len(y_train), args.n_iter))
            b = theirs[-1]
            for parallel in args.max_parallel:
                a = ours[parallel][-1]
                print(
                    f"round {k + 1}, max_parallel {parallel}: annserve wall {a['wall']:.2f} s, "
                    f"trials' training "
                    f"{a['train']:.2f} s, overhead {a['wall'] / (a['train'] / 2):.3f}, best "
                    f"{a['best']:.3f}, mean queue wait {a['queue_wait'] * 1000:.0f} ms, mean "
                    f"claim-to-end {a['claim_to_end'] * 1000:.0f} ms per trial | "
                    f"GridSearchCV wall {b['wall']:.2f} s, fits "
                    f"{b['train']:.2f} s, best {b['best']:.3f}"
                )

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(float(r[key]) for r in rows)

    def ratio(rows: list[dict[str, Any]]) -> float:
        return statistics.median(r["wall"] / (r["train"] / 2) for r in rows)

    print()
    print("| | wall (s) | sum of training (s) | wall / (sum / 2) | best test accuracy |")
    print("|---|---:|---:|---:|---:|")
    for parallel, rows in ours.items():
        print(
            f"| annserve, random, 2 local workers, max_parallel {parallel} | "
            f"{median(rows, 'wall'):.2f} | {median(rows, 'train'):.2f} | {ratio(rows):.3f} | "
            f"{median(rows, 'best'):.3f} |"
        )
    print(
        f"| GridSearchCV(MLPClassifier), n_jobs=2 | {median(theirs, 'wall'):.2f} | "
        f"{median(theirs, 'train'):.2f} | {ratio(theirs):.3f} | {median(theirs, 'best'):.3f} |"
    )
    for parallel, rows in ours.items():
        print(
            f"annserve (max_parallel {parallel}) wall / GridSearchCV wall: "
            f"{median(rows, 'wall') / median(theirs, 'wall'):.3f}"
        )


if __name__ == "__main__":
    main()
