"""Small helpers shared by the HTTP tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from app.settings import Settings

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The response is a problem+json error with this status (and code); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    text = response.text
    assert "Traceback" not in text
    assert "/work/" not in text and "/tmp/" not in text
    return body


def stored_files(settings: Settings) -> list[Path]:
    """Every array file under the data dir (to prove failures leave nothing behind)."""
    return sorted(p for p in settings.data_dir.rglob("*.npz"))


CIRCLE = {"kind": "circle", "n_samples": 60, "noise": 0.1, "seed": 3}
XOR_ROWS = {
    "name": "xor",
    "features": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 3,
    "targets": ["no", "yes", "yes", "no"] * 3,
}
