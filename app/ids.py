"""Opaque resource ids: a short prefix, an underscore and 16 lowercase hex digits.

Every id that arrives from a client is checked with :func:`validate_id` before it is used, and
file paths are only ever built from validated ids. A malformed id cannot name any resource, so it
is answered like an unknown one (404) with the distinct code ``invalid_id``.
"""

from __future__ import annotations

import re
import secrets
from typing import Final, Literal

from app.errors import InvalidId

Prefix = Literal["ds", "mdl", "job", "srch"]

DATASET: Final = "ds"
MODEL: Final = "mdl"
JOB: Final = "job"
SEARCH: Final = "srch"

PREFIXES: Final[tuple[str, ...]] = (DATASET, MODEL, JOB, SEARCH)
_KINDS: Final = {DATASET: "dataset", MODEL: "model", JOB: "job", SEARCH: "search"}
_PATTERNS: Final = {prefix: re.compile(rf"{prefix}_[0-9a-f]{{16}}") for prefix in PREFIXES}


def new_id(prefix: Prefix) -> str:
    """A fresh random id such as ``ds_0123456789abcdef`` (64 random bits)."""
    return f"{prefix}_{secrets.token_hex(8)}"


def is_valid_id(value: str, prefix: Prefix) -> bool:
    """Whether ``value`` is a well-formed id of the given kind."""
    return _PATTERNS[prefix].fullmatch(value) is not None


def validate_id(value: str, prefix: Prefix) -> str:
    """``value`` unchanged if it is a well-formed id of this kind; ``InvalidId`` otherwise."""
    if not is_valid_id(value, prefix):
        kind = _KINDS[prefix]
        raise InvalidId(
            f"{kind} id must look like '{prefix}_' followed by 16 lowercase hex digits",
        )
    return value
