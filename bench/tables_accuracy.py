"""Accuracy of the service's default training on public tables, uploaded as they ship, against a
scikit-learn pipeline on the same split.

Each table comes inside an installed package (nothing generated here) and is uploaded as is: the
package's CSV bytes, or, for tables the package ships in another format, the CSV pandas writes
from the package's frame with no cleaning. For each table the script, against one real
``annserve serve`` process over HTTP:

1. uploads the table (only ``target`` given; column types inferred, missing cells as shipped);
2. creates a model with the service's defaults (one hidden layer of 4 tanh units) and trains it
   with the default training options (the notes' gradient descent, learning rate 0.1, 10,000
   passes);
3. predicts the stored test split's rows, sent as records, and scores them (accuracy, or R² for
   regression).

The peer is scikit-learn fitted on the service's own train split (``GET /v1/datasets/{id}/data
?subset=train``) and scored on its test split: a ``ColumnTransformer`` of ``SimpleImputer``
(median) + ``StandardScaler`` for numeric and boolean columns, ``SimpleImputer`` (constant) +
``OneHotEncoder(handle_unknown="ignore")`` for text, date columns as the same numeric parts the
service uses (year, month, day of week, day of year), then ``MLPClassifier``/``MLPRegressor`` with
the same hidden shape and activation (its own defaults otherwise: Adam, up to 2,000 epochs),
regression targets standardized (``TransformedTargetRegressor``) as the service does.
Columns the service ignores (identifiers, constants) are left out of both.
Goal: the service within 5% of the peer (score ratio >= 0.95).
Run: ``python bench/tables_accuracy.py`` (needs the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import running_server

FINAL = {"succeeded", "failed", "cancelled"}
GOAL = 0.95


@dataclass(frozen=True)
class Table:
    """A public table: where it comes from, how it reads, and its target column."""

    name: str
    source: str
    target: str
    csv: Callable[[], bytes]
    notes: str


def _package_file(package: str, *parts: str) -> bytes:
    return resources.files(package).joinpath(*parts).read_bytes()


def _gz(package: str, *parts: str) -> bytes:
    return gzip.decompress(_package_file(package, *parts))


def _frame_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _cars() -> bytes:
    return _frame_csv(
        pd.read_json(io.BytesIO(_package_file("vega_datasets", "_data", "cars.json")))
    )


def _sklearn_frame(loader: Callable[..., Any]) -> bytes:
    return _frame_csv(loader(as_frame=True).frame)


TABLES = [
    Table(
        "penguins",
        "palmerpenguins `data/penguins.csv`",
        "species",
        lambda: _package_file("palmerpenguins", "data", "penguins.csv"),
        "text, NA cells",
    ),
    Table(
        "seattle-weather",
        "vega_datasets `_data/seattle-weather.csv`",
        "weather",
        lambda: _package_file("vega_datasets", "_data", "seattle-weather.csv"),
        "date column, text target",
    ),
    Table(
        "cars (mpg)",
        "vega_datasets `_data/cars.json` via pandas",
        "Miles_per_Gallon",
        _cars,
        "regression; text, date, empty cells",
    ),
    Table(
        "tips",
        "plotly `package_data/datasets/tips.csv.gz`",
        "tip",
        lambda: _gz("plotly", "package_data", "datasets", "tips.csv.gz"),
        "regression; text",
    ),
    Table(
        "gapminder",
        "plotly `package_data/datasets/gapminder.csv.gz`",
        "lifeExp",
        lambda: _gz("plotly", "package_data", "datasets", "gapminder.csv.gz"),
        "regression; 142-category text, scales to 1e9",
    ),
    Table(
        "breast cancer",
        "scikit-learn `load_breast_cancer` via pandas",
        "target",
        lambda: _sklearn_frame(load_breast_cancer),
        "binary; 30 numbers, 0.001 to 4,254",
    ),
    Table(
        "wine",
        "scikit-learn `load_wine` via pandas",
        "target",
        lambda: _sklearn_frame(load_wine),
        "3 classes; 13 numbers, 0.1 to 1,680",
    ),
]


@dataclass
class Outcome:
    """One table's figures."""

    table: Table
    task: str
    n_train: int
    n_test: int
    types: str
    service: float
    peer: float
    peer_notes: float
    stopped: float
    train_s: float


def _check(response: httpx.Response, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:500]}")
    return response.json()


EARLY_STOPPING = {"validation": 0.2, "early_stopping": {"patience": 200}}
"""A second service run per table: the defaults plus a validation share of the training rows
and early stopping (not the defaults; shown to tell overfitting from preprocessing)."""


def upload(client: httpx.Client, table: Table) -> dict[str, Any]:
    """The table, uploaded as is with only its target named."""
    return _check(  # type: ignore[no-any-return]
        client.post(
            "/v1/datasets/upload",
            files={"file": (f"{table.name}.csv", table.csv(), "text/csv")},
            data={"target": table.target},
        ),
        201,
    )


def service_score(
    client: httpx.Client, dataset: dict[str, Any], training: dict[str, Any]
) -> tuple[float, float]:
    """Create a model with the defaults, train it with ``training`` (none: the defaults),
    score the test split's rows sent as records to /predict; the score and the training time."""
    model = _check(
        client.post("/v1/models", json={"name": dataset["name"], "dataset_id": dataset["id"]}),
        201,
    )
    job = _check(
        client.post(
            f"/v1/models/{model['id']}/train", json={"dataset_id": dataset["id"], **training}
        ),
        202,
    )
    start = time.monotonic()
    while job["status"] not in FINAL:
        time.sleep(0.2)
        job = _check(client.get(f"/v1/jobs/{job['id']}"), 200)
    if job["status"] != "succeeded":
        raise RuntimeError(f"{dataset['name']}: training {job['status']}: {job['error']}")
    train_s = time.monotonic() - start
    test = _check(client.get(f"/v1/datasets/{dataset['id']}/data", params={"subset": "test"}), 200)
    records = [dict(zip(test["feature_names"], row, strict=True)) for row in test["features"]]
    answer = _check(
        client.post(f"/v1/models/{model['id']}/predict", json={"records": records}), 200
    )
    return _score(dataset["task"], test["targets"], answer["predictions"]), train_s


def _score(task: str, truth: list[Any], predicted: list[Any]) -> float:
    if task == "regression":
        return float(r2_score(np.asarray(truth, float), np.asarray(predicted, float).ravel()))
    return float(accuracy_score([str(v) for v in truth], [str(v) for v in predicted]))


def _frame(data: dict[str, Any], kinds: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(data["features"], columns=data["feature_names"])
    for name in data["feature_names"]:  # the ignored columns are not among them
        kind = kinds[name]
        if kind == "datetime":
            when = pd.to_datetime(frame.pop(name), errors="coerce", utc=True)
            frame[f"{name}.year"] = when.dt.year
            frame[f"{name}.month"] = when.dt.month
            frame[f"{name}.dow"] = when.dt.day_of_week
            frame[f"{name}.doy"] = when.dt.day_of_year
        elif kind in ("numeric", "boolean"):
            frame[name] = pd.to_numeric(frame[name].map(_number), errors="coerce")
        elif kind == "categorical":
            frame[name] = frame[name].map(lambda v: "" if v is None else str(v))
    return frame


def _number(value: Any) -> float:
    if value is None:
        return float("nan")
    return float(value)


NOTES_TRAINING = {
    "solver": "sgd",
    "learning_rate": "constant",
    "learning_rate_init": 0.1,
    "momentum": 0.0,
    "nesterovs_momentum": False,
    "alpha": 0.0,
    "shuffle": False,
    "max_iter": 10_000,
    "tol": 0.0,
    "n_iter_no_change": 10_001,
}
"""scikit-learn trained as the service trains by default: full-batch gradient descent, 0.1,
every one of 10,000 passes, no L2 (``batch_size`` is set to the row count)."""


def peer_scores(
    client: httpx.Client, dataset: dict[str, Any], hidden: tuple[int, ...]
) -> tuple[float, float]:
    """scikit-learn on the service's own split: with its own training defaults, and with the
    service's training (:data:`NOTES_TRAINING`)."""
    kinds = {c["name"]: c["type"] for c in dataset["stats"]["columns"]}
    url = f"/v1/datasets/{dataset['id']}/data"
    train = _check(client.get(url, params={"subset": "train"}), 200)
    test = _check(client.get(url, params={"subset": "test"}), 200)
    X_train, X_test = _frame(train, kinds), _frame(test, kinds)
    text = [n for n in train["feature_names"] if kinds[n] == "categorical"]
    numbers = [c for c in X_train.columns if c not in text]
    regression = dataset["task"] == "regression"
    y_train = (
        np.asarray(train["targets"], float) if regression else [str(v) for v in train["targets"]]
    )
    scores = []
    for training in ({"max_iter": 2000}, {**NOTES_TRAINING, "batch_size": len(X_train)}):
        encode = ColumnTransformer(
            [
                (
                    "numbers",
                    make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                    numbers,
                ),
                (
                    "text",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value="", missing_values=""),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    text,
                ),
            ]
        )
        options = {"hidden_layer_sizes": hidden, "activation": "tanh", "random_state": 0,
                   **training}  # fmt: skip
        net: Any = MLPClassifier(**options)
        if regression:  # targets standardized as the service does (unscaled, mpg's R² is < 0)
            net = TransformedTargetRegressor(MLPRegressor(**options), transformer=StandardScaler())
        pipeline = make_pipeline(encode, net)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipeline.fit(X_train, y_train)
        scores.append(_score(dataset["task"], test["targets"], list(pipeline.predict(X_test))))
    return scores[0], scores[1]


def _types(dataset: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    missing = 0
    for column in dataset["stats"]["columns"]:
        counts[column["type"]] = counts.get(column["type"], 0) + 1
        missing += column.get("missing") or 0
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return f"{kinds}; {missing} missing cells"


def run(names: list[str] | None) -> list[Outcome]:
    """Every table (or those named) against one server."""
    outcomes = []
    with running_server() as server, httpx.Client(base_url=server.base_url, timeout=120) as client:
        for table in TABLES:
            if names and table.name not in names:
                continue
            dataset = upload(client, table)
            service, train_s = service_score(client, dataset, {})
            stopped, _ = service_score(client, dataset, EARLY_STOPPING)
            peer, peer_notes = peer_scores(client, dataset, (4,))
            outcome = Outcome(
                table,
                dataset["task"],
                dataset["n_train"],
                dataset["n_test"],
                _types(dataset),
                service,
                peer,
                peer_notes,
                stopped,
                train_s,
            )
            print(f"{table.name}: service {service:.3f}, scikit-learn {peer:.3f}, "
                  f"with the service's training {peer_notes:.3f}", file=sys.stderr)  # fmt: skip
            outcomes.append(outcome)
    return outcomes


def markdown(outcomes: list[Outcome]) -> str:
    """The table for docs/performance.md."""
    lines = [
        "| table (package file) | task | train / test rows | columns | metric | annserve "
        "| scikit-learn | ratio | train time | scikit-learn, the service's training "
        "| annserve, early stopping |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        metric = "R²" if o.task == "regression" else "accuracy"
        ratio = o.service / o.peer if o.peer > 0 else float("nan")
        mark = "" if ratio >= GOAL else " (below goal)"
        lines.append(
            f"| {o.table.name} ({o.table.source}) | {o.task} | {o.n_train} / {o.n_test} | "
            f"{o.types} | {metric} | {o.service:.3f} | {o.peer:.3f} | {ratio:.3f}{mark} | "
            f"{o.train_s:.1f} s | {o.peer_notes:.3f} | {o.stopped:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="append", help="only this table (repeatable)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, numpy {np.__version__}, "
          f"pandas {pd.__version__}")  # fmt: skip
    print(markdown(run(args.table)))


if __name__ == "__main__":
    main()
