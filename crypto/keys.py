"""Key-encryption keys (KEKs): the KeyProvider interface and LocalKeyring, a 0600 JSON file.

KEKs only wrap data-encryption keys; a KMS or Vault Transit provider can replace LocalKeyring.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._encoding import length_prefixed
from .errors import DecryptionError

KEK_BYTES = 32
DEK_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16

# Wrapped-key blob: format byte | 96-bit nonce | AES-256-GCM(ciphertext + tag).
_WRAP_FORMAT = 0x01
_WRAP_BLOB_BYTES = 1 + _NONCE_BYTES + DEK_BYTES + _TAG_BYTES
# Domain label in the AAD so a KEK-wrapped blob can never pass as any other ciphertext.
_WRAP_LABEL = b"referral/kek-wrap/v1"

_FILE_FORMAT = 1
# A keyring with thousands of versions is still a few hundred kB; anything bigger is not ours.
_MAX_FILE_BYTES = 1 << 20
# Ids end up in file names, logs and AAD, so keep them to a boring, unambiguous alphabet.
_KEK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
# Never follow a planted symlink, never reuse an existing file, never leak into a child process.
_CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# Anything beyond the owner's own bits lets another account read or plant a KEK.
_UNSAFE_MODE_BITS = 0o077


@dataclass(frozen=True)
class Kek:
    """One version of a key-encryption key. Material is empty once the version is retired."""

    kek_id: str
    version: int
    material: bytes = field(repr=False)  # repr=False: a logged Kek must not leak its key
    created_at: str
    retired: bool

    def __post_init__(self) -> None:
        if not _KEK_ID.fullmatch(self.kek_id):
            raise ValueError("a KEK id must be 1-128 letters, digits, '_', '.', ':' or '-'")
        if self.version < 1:
            raise ValueError("a KEK version must be a positive integer")
        if self.retired and self.material:
            raise ValueError("a retired KEK must not keep its material")
        if not self.retired and len(self.material) != KEK_BYTES:
            raise ValueError(f"KEK material must be {KEK_BYTES} bytes")

    @property
    def ref(self) -> KekRef:
        return KekRef(self.kek_id, self.version, retired=self.retired, created_at=self.created_at)


@dataclass(frozen=True)
class KekRef:
    """Names one KEK version. Equality and hashing use only kek_id and version.

    `retired` and `created_at` are status information for listings; they are excluded from
    comparison so that a ref taken before retirement still names the same key.
    """

    kek_id: str
    version: int
    retired: bool = field(default=False, compare=False)
    created_at: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class WrappedKey:
    """A DEK encrypted under one KEK version; store all three fields next to the DEK id."""

    kek_id: str
    kek_version: int
    blob: bytes = field(repr=False)  # ciphertext stays out of logs as a matter of habit


@runtime_checkable
class KeyProvider(Protocol):
    """Where KEKs live. Callers use only this interface, never a provider's internals.

    A KMS or Vault Transit provider implements the same six methods; key material then never
    leaves the service and `wrap`/`unwrap` become remote calls.
    """

    def primary(self) -> KekRef:
        """The version that `wrap` uses now."""
        ...

    def wrap(self, plaintext_dek: bytes, aad: bytes) -> WrappedKey:
        """Encrypt a DEK under the primary KEK, bound to `aad`."""
        ...

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Decrypt a wrapped DEK; any failure at all raises DecryptionError."""
        ...

    def versions(self) -> list[KekRef]:
        """Every version known, retired ones included, oldest first."""
        ...

    def add_version(self) -> KekRef:
        """Create a new KEK version and make it the primary."""
        ...

    def retire(self, kek_id: str, version: int) -> None:
        """Destroy a version's material; whatever only it wrapped is unrecoverable."""
        ...


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_kek(kek_id: str, version: int) -> Kek:
    return Kek(kek_id, version, AESGCM.generate_key(bit_length=256), _now_iso(), retired=False)


def _wrap_aad(kek_id: str, version: int, aad: bytes) -> bytes:
    # Bind the blob to the KEK version it claims, not only to the caller's AAD, so that
    # relabelling kek_id/kek_version on a stored row cannot go unnoticed.
    return bytes([_WRAP_FORMAT]) + length_prefixed(
        _WRAP_LABEL, kek_id.encode("ascii"), version.to_bytes(8, "big"), aad
    )


def _wrap_with(kek: Kek, plaintext_dek: bytes, aad: bytes) -> WrappedKey:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(kek.material).encrypt(
        nonce, plaintext_dek, _wrap_aad(kek.kek_id, kek.version, aad)
    )
    return WrappedKey(kek.kek_id, kek.version, bytes([_WRAP_FORMAT]) + nonce + sealed)


def _unwrap_with(kek: Kek, wrapped: WrappedKey, aad: bytes) -> bytes:
    blob = bytes(wrapped.blob)
    if len(blob) != _WRAP_BLOB_BYTES or blob[0] != _WRAP_FORMAT:
        raise DecryptionError()
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(kek.material).decrypt(nonce, sealed, _wrap_aad(kek.kek_id, kek.version, aad))
    except InvalidTag:
        raise DecryptionError() from None
