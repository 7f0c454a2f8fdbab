"""Canonical byte encodings shared by the crypto modules (length prefixes, UUIDs).

Associated data must be unambiguous, so every variable-length part is length-prefixed.
"""

from __future__ import annotations

import uuid

# 4-byte big-endian lengths: far above any id or table name, and fixed width keeps the
# encoding injective (no two different tuples can produce the same bytes).
_LENGTH_BYTES = 4


def length_prefixed(*parts: bytes) -> bytes:
    """Concatenate parts, each preceded by its length, so that the result is unambiguous."""
    out = bytearray()
    for part in parts:
        out += len(part).to_bytes(_LENGTH_BYTES, "big")
        out += part
    return bytes(out)


def as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    """Return value as a UUID, so that "ABC…" and "abc…" name the same key everywhere."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        # uuid.UUID's own ValueError message does not echo its input.
        return uuid.UUID(value)
    raise TypeError("a key id must be a uuid.UUID or its string form")
