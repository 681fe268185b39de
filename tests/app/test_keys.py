"""Configured API keys: tenants, roles, hashed secrets, constant-time matching, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.keys import KeyRing, Principal, hash_key, new_key, parse_entry
from app.settings import Settings

KEY = "a-key-of-twenty-chars"


def test_entries_name_a_tenant_and_a_role_or_default_to_an_admin_of_default() -> None:
    assert parse_entry(KEY).principal == Principal("default", "admin")
    assert parse_entry(f"team-a:read:{KEY}").principal == Principal("team-a", "read")
    assert parse_entry(f"b:write:{hash_key(KEY)}").digest == parse_entry(KEY).digest
    # A key that merely contains colons is a key.
    assert parse_entry("x:y:z-long-enough-123").principal == Principal("default", "admin")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("short", "at least 16"),
        ("team:read:short", "at least 16"),
        ("sha256:abc", "64 lowercase hex"),
        (f"bad tenant!:read:{KEY}", "tenant"),
    ],
)
def test_bad_entries_are_refused_without_echoing_the_secret(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_entry(entry)
    assert "short" not in str(caught.value) or message == "at least 16"


def test_the_ring_matches_every_entry_and_only_those() -> None:
    ring = KeyRing.parse([f"a:write:{KEY}", f"b:read:{hash_key('another-key-0123456')}"])
    assert ring.match(KEY) == Principal("a", "write")
    assert ring.match("another-key-0123456") == Principal("b", "read")
    assert ring.match("x" * 20) is None and ring.match("") is None
    assert not KeyRing() and ring
    assert len(new_key()) >= 40 and new_key() != new_key()


def test_settings_read_keys_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# tenants\nteam-a:write:{KEY}\n\nteam-b:read:{hash_key(KEY + 'x')}\n")
    settings = Settings(data_dir=tmp_path, api_keys=[], api_keys_file=path)
    ring = KeyRing.parse(settings.api_keys)
    assert ring.match(KEY) == Principal("team-a", "write")
    assert ring.match(KEY + "x") == Principal("team-b", "read")
    path.write_text("team-a:write:short\n")
    with pytest.raises(ValidationError, match="entry 1"):
        Settings(data_dir=tmp_path, api_keys_file=path)
