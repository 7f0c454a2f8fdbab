"""Field ciphertext: AES-256-GCM blobs that name their DEK and are bound to their exact place.

Layout (v1): 0x01 | DEK id (16 raw UUID bytes) | 96-bit random nonce | ciphertext + 16-byte tag.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._encoding import as_uuid, length_prefixed
from .errors import DecryptionError

FORMAT_V1 = 0x01
_DEK_BYTES = 32
_DEK_ID_BYTES = 16
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER_BYTES = 1 + _DEK_ID_BYTES + _NONCE_BYTES
MIN_BLOB_BYTES = _HEADER_BYTES + _TAG_BYTES

# Random 96-bit nonces stay collision-safe for up to 2**32 encryptions per DEK (NIST SP
# 800-38D); a DEK here protects one person's fields, many orders of magnitude below that.

# Table and column names: plain SQL identifiers (PostgreSQL truncates at 63 characters).
_SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# Row and person ids: opaque ids (UUIDs, integers). The alphabet excludes spaces and '@', so
# names and e-mail addresses cannot slip into the associated data by mistake; and the
# look-ahead refuses a personnummer in any common form outright, for the same reason. One
# pattern, not two: every field read builds a context (a partner's inbox page, hundreds).
_OPAQUE_ID = re.compile(r"(?!(?:\d{2})?\d{6}-?\d{4}\Z)[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


# What a field read would otherwise work out again and again, kept per process: a row's id
# and its person's id are the same for each of its sealed fields, and a partner's inbox of
# fifty children reads some four hundred fields (issue 18). Emptied when full, so bounded.
_MAX_KEPT = 8192


def _keep(kept: dict[Any, Any], key: object, value: object) -> None:
    if len(kept) >= _MAX_KEPT:
        kept.clear()
    kept[key] = value


class _CheckedParts:
    """The parts of a context that passed one pattern, each length-prefixed as the associated
    data holds it. Only a part that passed is kept, never a refused one (which could be a
    personnummer); what is kept are table and column names and the pseudonymous row and
    person ids that the rows themselves hold in the same memory."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self._pattern = pattern
        self._kept: dict[str, bytes] = {}

    def encoded(self, value: object) -> bytes | None:
        """`value` length-prefixed, or None when the pattern refuses it."""
        if not isinstance(value, str):
            return None
        # An exact str, not a subclass (an ORM's quoted table name is one): a subclass's own
        # __eq__ and __hash__ could find another value's entry and skip the check.
        text = str.__str__(value)
        encoded = self._kept.get(text)
        if encoded is None:
            if not self._pattern.fullmatch(text):
                return None
            encoded = length_prefixed(text.encode("ascii"))
            _keep(self._kept, text, encoded)
        return encoded

    def __len__(self) -> int:
        return len(self._kept)

    def __contains__(self, value: object) -> bool:
        return value in self._kept


_SQL_NAMES = _CheckedParts(_SQL_NAME)
_OPAQUE_IDS = _CheckedParts(_OPAQUE_ID)


@dataclass(frozen=True)
class FieldContext:
    """Where a value lives. It becomes the associated data, so a moved value won't decrypt.

    Holds only table/column names and opaque ids, never personal data: associated data is
    authenticated but stored and processed in the clear. Note that because the person id is
    bound, re-assigning a row to another person requires re-encrypting its fields.
    """

    table: str
    column: str
    row_id: str
    person_id: str
    # The four names length-prefixed, as the associated data ends: built with the checks.
    # (A field of the dataclass only so that it may be set once here; not compared.)
    _encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Messages name the field but never echo its value (it might be personal data).
        parts: list[bytes] = []
        for name, value in (("table", self.table), ("column", self.column)):
            part = _SQL_NAMES.encoded(value)
            if part is None:
                raise ValueError(f"FieldContext.{name} must be a plain SQL identifier")
            parts.append(part)
        for name, value in (("row_id", self.row_id), ("person_id", self.person_id)):
            part = _OPAQUE_IDS.encoded(value)
            if part is None:
                raise ValueError(
                    f"FieldContext.{name} must be an opaque id (letters, digits, '_', '.', ':', "
                    "'-'), never personal data"
                )
            parts.append(part)
        object.__setattr__(self, "_encoded", b"".join(parts))

    def associated_data(self, dek_id: uuid.UUID, version: int = FORMAT_V1) -> bytes:
        """Deterministic AAD: version | DEK id | length-prefixed table, column, row, person."""
        return self._associated_data(dek_id.bytes, version)

    def _associated_data(self, dek_id: bytes, version: int = FORMAT_V1) -> bytes:
        # The DEK id as its 16 raw bytes, as a blob's header holds them: a read need not
        # parse them into a UUID only to take its bytes again.
        return bytes([version]) + dek_id + self._encoded


def _check_dek(dek: bytes) -> None:
    if len(dek) != _DEK_BYTES:
        raise ValueError(f"a DEK must be {_DEK_BYTES} bytes")


def encrypt_bytes(
    plaintext: bytes, dek: bytes, dek_id: uuid.UUID | str, context: FieldContext
) -> bytes:
    """Encrypt raw bytes for the place `context` describes, under the DEK `dek_id`."""
    _check_dek(dek)
    key_id = as_uuid(dek_id)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(dek).encrypt(nonce, bytes(plaintext), context.associated_data(key_id))
    return bytes([FORMAT_V1]) + key_id.bytes + nonce + sealed


def decrypt_bytes(blob: bytes, dek: bytes, context: FieldContext) -> bytes:
    """Decrypt a blob from encrypt_bytes. Every failure raises the same DecryptionError."""
    # bytes(): database drivers may hand back memoryview or bytearray.
    data = bytes(blob)
    if len(data) < MIN_BLOB_BYTES or data[0] != FORMAT_V1 or len(dek) != _DEK_BYTES:
        raise DecryptionError()
    key_id = data[1 : 1 + _DEK_ID_BYTES]
    nonce = data[1 + _DEK_ID_BYTES : _HEADER_BYTES]
    try:
        return AESGCM(dek).decrypt(nonce, data[_HEADER_BYTES:], context._associated_data(key_id))
    except InvalidTag:
        raise DecryptionError() from None


def encrypt_field(
    plaintext: str, dek: bytes, dek_id: uuid.UUID | str, context: FieldContext
) -> bytes:
    """Encrypt a text value (UTF-8) for the place `context` describes."""
    try:
        encoded: bytes | None = plaintext.encode("utf-8")
    except UnicodeEncodeError:
        encoded = None
    if encoded is None:
        # Raised outside the except block: the codec error holds the text in .object, and
        # chaining it (even `from None` keeps __context__) would carry it into tracebacks.
        raise ValueError("the value is not encodable as UTF-8 (lone surrogate?)")
    return encrypt_bytes(encoded, dek, dek_id, context)


def decrypt_field(blob: bytes, dek: bytes, context: FieldContext) -> str:
    """Decrypt a blob from encrypt_field back to text; every failure is DecryptionError."""
    plaintext = decrypt_bytes(blob, dek, context)
    try:
        text: str | None = plaintext.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None:
        # Outside the except block, so the decoded bytes are not reachable via __context__.
        raise DecryptionError()
    return text


# The text of each DEK id read from a blob: a page reads the same few keys' ids hundreds of
# times, and parsing the 16 bytes into a UUID to print it cost more than the decryption. Ids
# only, never a key.
_DEK_ID_TEXTS: dict[bytes, str] = {}


def _dek_id_bytes(blob: bytes) -> bytes:
    data = bytes(blob)
    if len(data) < MIN_BLOB_BYTES or data[0] != FORMAT_V1:
        raise DecryptionError()
    return data[1 : 1 + _DEK_ID_BYTES]


def dek_id_text_of(blob: bytes) -> str:
    """`dek_id_of` as its canonical text, the form the key store looks keys up by."""
    raw = _dek_id_bytes(blob)
    text = _DEK_ID_TEXTS.get(raw)
    if text is None:
        text = str(uuid.UUID(bytes=raw))
        _keep(_DEK_ID_TEXTS, raw, text)
    return text


def dek_id_of(blob: bytes) -> uuid.UUID:
    """The id of the DEK a blob was encrypted under, so the caller knows which DEK to fetch.

    Unauthenticated until decryption succeeds; a forged id only leads to a failed decrypt.
    """
    return uuid.UUID(bytes=_dek_id_bytes(blob))
