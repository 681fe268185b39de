"""Property-based tests generated from the app's own OpenAPI schema (schemathesis).

Every operation gets a bounded number of generated requests; each response must not be a 5xx and
must match the documented status codes, content types and schemas.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.slow

DATA_DIR = Path(tempfile.mkdtemp(prefix="annserve-schemathesis-"))
APP = create_app(Settings(data_dir=DATA_DIR, max_samples=2_000, max_units=64))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def seeded_app() -> Iterator[None]:
    """Migrate, and create real resources so generated requests also reach existing ids."""
    with TestClient(APP) as client:
        dataset = client.post("/v1/datasets/generate", json={"kind": "xor", "n_samples": 40})
        client.post("/v1/models", json={"name": "m", "dataset_id": dataset.json()["id"]})
    yield
    APP.state.db.dispose()
    shutil.rmtree(DATA_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
    # positive_data_acceptance is left out on purpose: a schema-valid body can still be
    # semantically wrong (one class only, a dataset id that does not exist...), which the API
    # answers with 422 by design.
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500
