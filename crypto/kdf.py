"""Key derivation: separate, purpose-bound subkeys from one master secret (HKDF-SHA256).

Deriving per purpose means the blind-index key can never double as an encryption key.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_MASTER_BYTES = 32
DEFAULT_KEY_BYTES = 32


def derive_key(master: bytes, purpose: str, length: int = DEFAULT_KEY_BYTES) -> bytes:
    """Derive a `length`-byte key for `purpose` (used as HKDF `info`) from `master`.

    Different purposes give independent keys; the same purpose always gives the same key.
    """
    if len(master) < MIN_MASTER_BYTES:
        raise ValueError(f"the master key must be at least {MIN_MASTER_BYTES} bytes")
    if not purpose:
        raise ValueError("a key purpose is required")
    if not 16 <= length <= 64:
        raise ValueError("a derived key must be between 16 and 64 bytes")
    # No salt: the master is already uniformly random, and a salt would be one more secret
    # that must be kept identical on every host for the index to stay stable.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode("utf-8"))
    return hkdf.derive(master)
