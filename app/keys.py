"""API keys: who a key speaks for (its tenant) and what it may do (its role), kept as hashes.

A configured key is ``<tenant>:<role>:<secret>`` or just ``<secret>`` (tenant ``default``, role
``admin``). The secret is either the key itself (16 characters or more) or its SHA-256 digest
written ``sha256:<64 hex digits>`` (``annserve hash-key`` prints one for a new key), so a
deployment need not store keys in clear. Either way only the digest is kept in memory, and a
presented key is compared, in constant time, with every configured digest.

Roles: ``read`` may read and score (GET, and POST to predict, infer and evaluate); ``write`` may
also create, change and delete; ``admin`` may do everything ``write`` may.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Role = Literal["admin", "write", "read"]
ROLES: Final[tuple[Role, ...]] = ("admin", "write", "read")
DEFAULT_TENANT: Final = "default"
MIN_KEY_LENGTH: Final = 16
_TENANT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Principal:
    """What a request's key speaks for."""

    tenant: str
    role: Role

    @property
    def may_write(self) -> bool:
        """Whether the key may create, change or delete."""
        return self.role != "read"


@dataclass(frozen=True)
class KeyEntry:
    """One configured key: its principal and the SHA-256 digest of its secret."""

    principal: Principal
    digest: bytes


def digest(key: str) -> bytes:
    """The SHA-256 digest of ``key``."""
    return hashlib.sha256(key.encode()).digest()


def hash_key(key: str) -> str:
    """``key`` as the ``sha256:<hex>`` form a configuration may hold instead of it."""
    return "sha256:" + digest(key).hex()


def new_key() -> str:
    """A fresh random key (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def parse_entry(text: str) -> KeyEntry:
    """A configured key; ``ValueError`` naming what is wrong (never echoing the secret)."""
    tenant, role, secret = DEFAULT_TENANT, "admin", text.strip()
    parts = secret.split(":", 2)
    if len(parts) == 3 and parts[1] in ROLES and _TENANT.fullmatch(parts[0]):
        tenant, role, secret = parts
    elif len(parts) >= 2 and parts[0] != "sha256" and parts[1] in ROLES:
        raise ValueError("a tenant is 1-64 letters, digits, '.', '_' or '-' (tenant:role:key)")
    hashed = _DIGEST.fullmatch(secret)
    if hashed is not None:
        value = bytes.fromhex(hashed.group(1))
    elif secret.startswith("sha256:"):
        raise ValueError("a hashed key is 'sha256:' and 64 lowercase hex digits")
    elif len(secret) < MIN_KEY_LENGTH:
        raise ValueError(f"every API key must be at least {MIN_KEY_LENGTH} characters long")
    else:
        value = digest(secret)
    return KeyEntry(Principal(tenant, role), value)  # type: ignore[arg-type]


class KeyRing:
    """The configured keys; empty means an open deployment."""

    def __init__(self, entries: Iterable[KeyEntry] = ()) -> None:
        self.entries = tuple(entries)

    @classmethod
    def parse(cls, texts: Iterable[str]) -> KeyRing:
        """The ring of configured key texts (see :func:`parse_entry`)."""
        return cls(parse_entry(text) for text in texts if text.strip())

    def __bool__(self) -> bool:
        return bool(self.entries)

    def match(self, presented: str) -> Principal | None:
        """The principal of the key ``presented``, or None; every digest is compared, whatever
        matches, so the time taken does not tell which key was right."""
        candidate = digest(presented)
        found: Principal | None = None
        for entry in self.entries:
            if hmac.compare_digest(candidate, entry.digest):
                found = entry.principal
        return found
