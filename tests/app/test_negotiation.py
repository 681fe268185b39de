"""Accept-header negotiation."""

from __future__ import annotations

import pytest

from app.api.http.negotiation import choose
from app.errors import NotAcceptable

OFFERS = ("application/json", "text/csv")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/csv", "text/csv"),
        ("text/*", "text/csv"),
        ("application/json;q=0.5, text/csv", "text/csv"),
        ("text/csv;q=0.2, */*;q=0.9", "application/json"),
        ("TEXT/CSV", "text/csv"),
        (",,", "application/json"),
        ("text/csv;q=oops, application/json", "application/json"),
    ],
)
def test_choose(accept: str | None, expected: str) -> None:
    assert choose(accept, OFFERS) == expected


@pytest.mark.parametrize("accept", ["image/png", "image/*", "text/csv;q=0, application/json;q=0"])
def test_not_acceptable(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        choose(accept, OFFERS)
