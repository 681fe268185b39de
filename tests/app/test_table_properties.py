"""Random tables of mixed columns with holes, through HTTP: upload as CSV, train a few passes,
predict the same rows back by records and by CSV."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.jobs.runner import run_job
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import utcnow

# Texts that read as nothing but text: a comma, a quote and a space test the CSV quoting.
WORDS = ["red", "green", "deep blue", "a,b", 'say "hi"', "ünïcode"]
LABELS = ["no", "yes", "maybe"]


@dataclass(frozen=True)
class RandomTable:
    """Columns as JSON values (None in the holes) and the rows' targets."""

    columns: dict[str, list[Any]]
    targets: list[Any]
    regression: bool

    def records(self) -> list[dict[str, Any]]:
        return [
            {name: values[i] for name, values in self.columns.items()}
            for i in range(len(self.targets))
        ]

    def csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*self.columns, "target"])
        for i, record in enumerate(self.records()):
            writer.writerow([*(_cell(v) for v in record.values()), self.targets[i]])
        return buffer.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _holes(values: st.SearchStrategy[Any], m: int) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.one_of(st.none(), values, values, values), min_size=m, max_size=m)


@st.composite
def tables(draw: st.DrawFn) -> RandomTable:
    m = draw(st.integers(6, 30))
    numbers = st.floats(-5000, 5000, allow_nan=False).map(lambda x: round(x, 3))
    dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)).map(str)
    kinds = {
        "size": numbers,
        "colour": st.sampled_from(WORDS),
        "member": st.booleans(),
        "day": dates,
    }
    chosen = draw(st.lists(st.sampled_from(sorted(kinds)), min_size=1, max_size=4, unique=True))
    columns = {name: draw(_holes(kinds[name], m)) for name in sorted(chosen)}
    # One number column with two distinct values at least, so the table has a feature.
    columns["x"] = [float(i % 3) for i in range(m)]
    regression = draw(st.booleans())
    if regression:
        targets: list[Any] = draw(st.lists(numbers, min_size=m, max_size=m))
        targets[:2] = [0.5, 1.5]  # never whole numbers only: the task is regression
    else:
        targets = draw(st.lists(st.sampled_from(LABELS), min_size=m, max_size=m))
        targets[:2] = ["no", "yes"]
    return RandomTable(columns, targets, regression)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    from app.main import create_app

    data_dir: Path = tmp_path_factory.mktemp("properties") / "data"
    config = Settings(data_dir=data_dir, max_concurrent_jobs=0)
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        yield client, config


def _train(config: Settings, job_id: str) -> None:
    db = Database(config.database_url)
    try:
        with db.session() as session:
            assert JobQueue(session).claim(job_id, "test", utcnow())
        assert run_job(config, job_id, "test", db=db) == "succeeded"
    finally:
        db.dispose()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables())
def test_random_tables_train_and_predict_their_rows(
    served: tuple[TestClient, Settings], table: RandomTable
) -> None:
    client, config = served
    form = {"target": "target", "task": "regression" if table.regression else "auto"}
    upload = client.post("/v1/datasets/upload", files={"file": ("t.csv", table.csv())}, data=form)
    assert upload.status_code == 201, upload.text
    dataset = upload.json()
    m = len(table.targets)
    assert dataset["n_samples"] == m
    model = client.post("/v1/models", json={"name": "p", "dataset_id": dataset["id"]})
    assert model.status_code == 201, model.text
    model_id = model.json()["id"]
    job = client.post(
        f"/v1/models/{model_id}/train", json={"dataset_id": dataset["id"], "n_iter": 5}
    )
    assert job.status_code == 202, job.text
    _train(config, job.json()["id"])

    url = f"/v1/models/{model_id}/predict"
    by_records = client.post(url, json={"records": table.records()})
    assert by_records.status_code == 200, by_records.text
    by_csv = client.post(url, content=table.csv(), headers={"content-type": "text/csv"})
    assert by_csv.status_code == 200, by_csv.text
    records, rows = by_records.json(), by_csv.json()
    assert len(records["predictions"]) == m
    assert records["predictions"] == rows["predictions"]
    assert any("'target'" in w for w in rows["warnings"])  # the extra column is named
    if table.regression:
        assert all(math.isfinite(float(_scalar(p))) for p in records["predictions"])
    else:
        assert set(records["predictions"]) <= set(dataset["classes"])
        probabilities = records["probabilities"]
        assert probabilities == rows["probabilities"]
        assert len(probabilities) == m
        for row in probabilities:
            assert len(row) == len(dataset["classes"])
            assert all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in row)
            assert sum(row) == pytest.approx(1.0)


def _scalar(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value
