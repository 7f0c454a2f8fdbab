"""The encrypted backup file: a header naming its format and the backup key, then the database's
dump sealed with AES-256-GCM a chunk at a time, so neither writing nor reading ever holds the
whole dump in memory.

    magic "RFBACKUP" | format (1 byte) | header length (4 bytes) | header (JSON)
    then chunks, each: length (4 bytes) | AES-256-GCM ciphertext and tag

Each chunk's nonce is its number and a last-chunk flag (the STREAM construction), so no chunk
can be changed, dropped, moved or added, and the file cannot be cut short or extended, without
a tag failing. The associated data of every chunk is the SHA-256 of all that precedes the
first chunk, so the header is authenticated too. The chunks' key is derived for this file alone
(HKDF-SHA256 with the header's random salt) from the backup key, so no nonce ever repeats
under one key. The backup key is a secret of its own purpose (REFERRAL_BACKUP_KEY); the header
names it only by an id derived from it.

Reading returns plaintext chunk by chunk as each authenticates: a caller must not use what it
wrote until `read_backup` has returned (the file's end is known to be its end only then).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto import derive_key

MAGIC = b"RFBACKUP"
FORMAT = 1
CHUNK_BYTES = 1 << 20
# A header is a few hundred bytes; a chunk size outside these bounds is not one we wrote, and
# a reader trusting it could be made to allocate without limit.
_MAX_HEADER_BYTES = 1 << 16
_MIN_CHUNK_BYTES = 1 << 12
_MAX_CHUNK_BYTES = 1 << 24
_SALT_BYTES = 32
_TAG_BYTES = 16
_COUNTER_BYTES = 11
_LAST = b"\x01"
_NOT_LAST = b"\x00"
_FILE_KEY_INFO = b"referral/backup/file-key/v1"
_KEY_ID_PURPOSE = "referral/backup/key-id/v1"


class BackupFileError(Exception):
    """The file is not a backup this version reads, is for another key, or was altered or
    damaged. The message is one sentence for an operator; it names no content."""


@dataclass(frozen=True)
class BackupHeader:
    backup_id: str
    key_id: str
    database: str  # "sqlite" or "postgresql": which kind of dump the chunks hold
    created_at: str  # UTC, ISO 8601
    salt: bytes
    chunk_bytes: int = CHUNK_BYTES
    format: int = FORMAT

    def encoded(self) -> bytes:
        document = {
            "backup_id": self.backup_id,
            "chunk_bytes": self.chunk_bytes,
            "created_at": self.created_at,
            "database": self.database,
            "key_id": self.key_id,
            "salt": base64.b64encode(self.salt).decode("ascii"),
        }
        body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return MAGIC + bytes([self.format]) + len(body).to_bytes(4, "big") + body


def key_id_of(backup_key: bytes) -> str:
    """A name for the backup key that reveals nothing of it: which key a file needs."""
    return derive_key(backup_key, _KEY_ID_PURPOSE, 16).hex()


def _file_key(backup_key: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_FILE_KEY_INFO)
    return AESGCM(hkdf.derive(backup_key))


def _nonce(number: int, last: bool) -> bytes:
    return number.to_bytes(_COUNTER_BYTES, "big") + (_LAST if last else _NOT_LAST)


def new_header(backup_key: bytes, database: str, created_at: str) -> BackupHeader:
    return BackupHeader(
        backup_id=str(uuid.uuid4()),
        key_id=key_id_of(backup_key),
        database=database,
        created_at=created_at,
        salt=os.urandom(_SALT_BYTES),
        chunk_bytes=CHUNK_BYTES,  # read now, so a test may make a small dump span chunks
    )


def _read_exactly(source: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes: fewer only at the end of the source (pipes return short reads)."""
    parts: list[bytes] = []
    remaining = size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def write_backup(
    target: IO[bytes], source: IO[bytes], backup_key: bytes, header: BackupHeader
) -> int:
    """Seal everything `source` yields into `target` after `header`; returns the dump's size.

    One chunk is read ahead, so the last one is known and flagged as such."""
    prefix = header.encoded()
    associated = hashlib.sha256(prefix).digest()
    sealer = _file_key(backup_key, header.salt)
    target.write(prefix)
    number, total = 0, 0
    current = _read_exactly(source, header.chunk_bytes)
    while True:
        following = _read_exactly(source, header.chunk_bytes) if current else b""
        last = not following
        sealed = sealer.encrypt(_nonce(number, last), current, associated)
        target.write(len(sealed).to_bytes(4, "big") + sealed)
        total += len(current)
        if last:
            return total
        number, current = number + 1, following


def read_header(source: IO[bytes], name: str) -> tuple[BackupHeader, bytes]:
    """The header and the bytes it was read from (they authenticate every chunk). Needs no
    key: the header says which key the file needs."""
    start = _read_exactly(source, len(MAGIC) + 5)
    if len(start) < len(MAGIC) + 5 or not start.startswith(MAGIC):
        raise BackupFileError(f"{name} is not a backup of this service (no backup header).")
    version = start[len(MAGIC)]
    if version != FORMAT:
        raise BackupFileError(
            f"{name} is a backup in format {version}; this version reads format {FORMAT}."
        )
    length = int.from_bytes(start[len(MAGIC) + 1 :], "big")
    if length > _MAX_HEADER_BYTES:
        raise BackupFileError(f"{name} has a header too large to be one of ours (altered).")
    body = _read_exactly(source, length)
    try:
        document = json.loads(body.decode("utf-8"))
        header = BackupHeader(
            backup_id=str(document["backup_id"]),
            key_id=str(document["key_id"]),
            database=str(document["database"]),
            created_at=str(document["created_at"]),
            salt=base64.b64decode(document["salt"], validate=True),
            chunk_bytes=int(document["chunk_bytes"]),
            format=version,
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error):
        raise BackupFileError(f"{name} has a header that cannot be read (altered).") from None
    if not _MIN_CHUNK_BYTES <= header.chunk_bytes <= _MAX_CHUNK_BYTES:
        raise BackupFileError(f"{name} has a header that cannot be read (altered).")
    return header, start + body


def read_backup(source: IO[bytes], backup_key: bytes, target: IO[bytes], name: str) -> BackupHeader:
    """Check and decrypt the backup in `source` into `target`. Raises BackupFileError, naming
    the first chunk that fails, when the file was altered, damaged, cut short or extended, or
    is for another key; what was written to `target` must then be thrown away."""
    header, prefix = read_header(source, name)
    wanted = key_id_of(backup_key)
    if header.key_id != wanted:
        raise BackupFileError(
            f"{name} was encrypted with backup key {header.key_id}, but REFERRAL_BACKUP_KEY "
            f"is key {wanted}: set the key the backup was made with."
        )
    associated = hashlib.sha256(prefix).digest()
    opener = _file_key(backup_key, header.salt)
    number = 0
    while True:
        length_bytes = _read_exactly(source, 4)
        if len(length_bytes) < 4:
            raise BackupFileError(
                f"{name} ends before its last chunk: it was cut short (an interrupted copy?)."
            )
        length = int.from_bytes(length_bytes, "big")
        if not _TAG_BYTES <= length <= header.chunk_bytes + _TAG_BYTES:
            raise BackupFileError(f"{name} was altered or damaged at chunk {number + 1}.")
        sealed = _read_exactly(source, length)
        if len(sealed) < length:
            raise BackupFileError(
                f"{name} ends before its last chunk: it was cut short (an interrupted copy?)."
            )
        # A chunk is the last one if and only if it opens as the last one.
        for last in (False, True):
            try:
                plain = opener.decrypt(_nonce(number, last), sealed, associated)
            except InvalidTag:
                continue
            break
        else:
            raise BackupFileError(f"{name} was altered or damaged at chunk {number + 1}.")
        target.write(plain)
        if last:
            if source.read(1):
                raise BackupFileError(f"{name} has data after its last chunk (altered).")
            return header
        number += 1
