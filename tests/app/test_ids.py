"""Ids: random, well formed, and validated strictly."""

from __future__ import annotations

import pytest

from app.errors import InvalidId, NotFound
from app.ids import is_valid_id, new_id, validate_id


def test_new_ids_are_valid_and_distinct() -> None:
    ids = {new_id("ds") for _ in range(100)}
    assert len(ids) == 100
    assert all(is_valid_id(value, "ds") for value in ids)
    assert validate_id(new_id("job"), "job").startswith("job_")


@pytest.mark.parametrize(
    "value",
    [
        "mdl_0123456789abcdef",
        "ds_0123456789abcde",
        "ds_0123456789abcdefa",
        "ds_../../../etc",
        "ds_0123456789ABCDEF",
        "ds_0123456789abcdef\n",
        " ds_0123456789abcdef",
    ],
)
def test_malformed_ids_are_rejected(value: str) -> None:
    with pytest.raises(InvalidId) as info:
        validate_id(value, "ds")
    assert isinstance(info.value, NotFound)
    assert info.value.code == "invalid_id"
