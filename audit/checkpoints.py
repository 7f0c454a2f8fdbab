"""Signed checkpoints of the audit chain, and a directory to keep them in.

A checkpoint says "entry N of the audit log had chain link L", signed with an
Ed25519 key (in the manner of Certificate Transparency signed tree heads and
AWS CloudTrail digest files). The HMAC chain alone proves the log was not
altered by someone *without* the audit key; a checkpoint, once copied out of
the service's reach by the data-protection officer, also pins everything up to
entry N against someone who has the audit key and rewrites the database, and
it makes truncation of the log back past entry N detectable.

Anyone can verify a checkpoint with the public key alone; only signing needs
the private key.

Signed message (ASCII; each field is validated so it cannot contain a newline)::

    b"referral-audit-checkpoint-v1\\n"
    + f"{sequence}\\n{link.hex()}\\n{signed_at}\\n{key_id}".encode("ascii")

On disk (:class:`CheckpointDirectory`), each checkpoint is one small JSON file,
``<sequence zero-padded to 20 digits>.json``, with the fields ``format``,
``sequence``, ``link`` (hex), ``signed_at``, ``key_id`` and ``signature``
(hex), so it can be read and checked with ordinary tools.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "CHECKPOINT_DOMAIN",
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "CheckpointDirectory",
    "CheckpointExistsError",
    "CheckpointFormatError",
    "checkpoint_from_json",
    "checkpoint_message",
    "checkpoint_to_json",
    "generate_signing_key",
    "key_id_of",
    "load_private_key",
    "load_public_key",
    "private_pem",
    "public_pem",
    "sign_checkpoint",
    "verify_checkpoint",
]

CHECKPOINT_DOMAIN = b"referral-audit-checkpoint-v1\n"
CHECKPOINT_FORMAT = "referral-audit-checkpoint-v1"

_LINK_SIZE = 32
_SIGNATURE_SIZE = 64
_FILENAME_DIGITS = 20  # enough for any 64-bit sequence number
_FILENAME_RE = re.compile(r"[0-9]{20}\.json")  # _FILENAME_DIGITS digits
_SIGNED_AT_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|\+00:00)"
)
_KEY_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HEX_LINK_RE = re.compile(r"[0-9a-f]{64}")  # 2 * _LINK_SIZE
_HEX_SIGNATURE_RE = re.compile(r"[0-9a-f]{128}")  # 2 * _SIGNATURE_SIZE
# All patterns are used with fullmatch(): "$" would also accept a trailing newline.
_JSON_KEYS = frozenset({"format", "sequence", "link", "signed_at", "key_id", "signature"})


class CheckpointFormatError(ValueError):
    """A checkpoint (or checkpoint file) is not well-formed."""


class CheckpointExistsError(FileExistsError):
    """A checkpoint for this sequence number is already stored; it is never overwritten."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that entry ``sequence`` of the log had chain link ``link``."""

    sequence: int
    link: bytes
    signed_at: str  # ISO-8601 UTC, e.g. "2025-03-01T02:00:00Z"
    signature: bytes
    key_id: str


# --------------------------------------------------------------------------- keys


def generate_signing_key() -> Ed25519PrivateKey:
    """Return a new random Ed25519 private key for signing checkpoints."""
    return Ed25519PrivateKey.generate()


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """Load an unencrypted PKCS#8 PEM Ed25519 private key; ``ValueError`` otherwise."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Load a SubjectPublicKeyInfo PEM Ed25519 public key; ``ValueError`` otherwise."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"expected an Ed25519 public key, got {type(key).__name__}")
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Return the public key (of a private key, or itself) as SubjectPublicKeyInfo PEM."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def private_pem(private: Ed25519PrivateKey) -> bytes:
    """Return the private key as unencrypted PKCS#8 PEM (protect it at a higher layer)."""
    return private.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Return the first 16 hex characters of SHA-256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(
        encoding=serialization.Encoding.Raw,
        format=serialization.PublicFormat.Raw,
    )
    return hashlib.sha256(raw).hexdigest()[:16]


# --------------------------------------------------------------- signing / checking


def checkpoint_message(sequence: int, link: bytes, signed_at: str, key_id: str) -> bytes:
    """Return the exact bytes that are signed; ``ValueError`` if a field is malformed."""
    if type(sequence) is not int or sequence < 1:
        raise ValueError(f"checkpoint sequence must be an integer >= 1, got {sequence!r}")
    if not isinstance(link, bytes) or len(link) != _LINK_SIZE:
        raise ValueError(f"checkpoint link must be {_LINK_SIZE} bytes")
    if not isinstance(signed_at, str) or not _SIGNED_AT_RE.fullmatch(signed_at):
        raise ValueError(
            f"checkpoint signed_at must be an ISO-8601 UTC time like "
            f"2025-03-01T02:00:00Z, got {signed_at!r}"
        )
    try:
        datetime.fromisoformat(signed_at)
    except ValueError as exc:
        raise ValueError(f"checkpoint signed_at is not a real time: {signed_at!r}") from exc
    if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError(f"checkpoint key_id must match {_KEY_ID_RE.pattern}, got {key_id!r}")
    body = f"{sequence}\n{link.hex()}\n{signed_at}\n{key_id}"
    return CHECKPOINT_DOMAIN + body.encode("ascii")


def sign_checkpoint(
    private_key: Ed25519PrivateKey,
    sequence: int,
    link: bytes,
    signed_at: str,
    key_id: str | None = None,
) -> Checkpoint:
    """Sign "entry ``sequence`` has chain link ``link``" and return the checkpoint.

    ``key_id`` defaults to :func:`key_id_of` the signing key's public half.
    """
    if key_id is None:
        key_id = key_id_of(private_key.public_key())
    message = checkpoint_message(sequence, link, signed_at, key_id)
    return Checkpoint(
        sequence=sequence,
        link=link,
        signed_at=signed_at,
        signature=private_key.sign(message),
        key_id=key_id,
    )


def verify_checkpoint(cp: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """Return True iff ``cp`` is well-formed and its signature verifies under ``public_key``."""
    try:
        message = checkpoint_message(cp.sequence, cp.link, cp.signed_at, cp.key_id)
    except ValueError:
        return False
    if not isinstance(cp.signature, bytes) or len(cp.signature) != _SIGNATURE_SIZE:
        return False
    try:
        public_key.verify(cp.signature, message)
    except InvalidSignature:
        return False
    return True


# -------------------------------------------------------------------- JSON files


def checkpoint_to_json(cp: Checkpoint) -> bytes:
    """Serialise a checkpoint as the JSON document stored in a checkpoint file."""
    checkpoint_message(cp.sequence, cp.link, cp.signed_at, cp.key_id)  # validates
    if not isinstance(cp.signature, bytes) or len(cp.signature) != _SIGNATURE_SIZE:
        raise ValueError(f"checkpoint signature must be {_SIGNATURE_SIZE} bytes")
    document = {
        "format": CHECKPOINT_FORMAT,
        "sequence": cp.sequence,
        "link": cp.link.hex(),
        "signed_at": cp.signed_at,
        "key_id": cp.key_id,
        "signature": cp.signature.hex(),
    }
    return (json.dumps(document, indent=2) + "\n").encode("ascii")


def checkpoint_from_json(data: bytes) -> Checkpoint:
    """Parse a checkpoint file's contents; ``CheckpointFormatError`` says what is wrong.

    This checks the structure only, not the signature (see :func:`verify_checkpoint`).
    """
    try:
        document = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, json.JSONDecodeError, CheckpointFormatError) as exc:
        raise CheckpointFormatError(f"not a valid JSON document ({exc})") from exc
    if not isinstance(document, dict):
        raise CheckpointFormatError("not a JSON object")
    keys = set(document)
    if keys != _JSON_KEYS:
        missing = sorted(_JSON_KEYS - keys)
        extra = sorted(keys - _JSON_KEYS)
        raise CheckpointFormatError(f"wrong fields (missing {missing}, unexpected {extra})")
    if document["format"] != CHECKPOINT_FORMAT:
        raise CheckpointFormatError(f"unknown format {document['format']!r}")
    link, signature = document["link"], document["signature"]
    if not isinstance(link, str) or not _HEX_LINK_RE.fullmatch(link):
        raise CheckpointFormatError(f"link must be {2 * _LINK_SIZE} lowercase hex characters")
    if not isinstance(signature, str) or not _HEX_SIGNATURE_RE.fullmatch(signature):
        raise CheckpointFormatError(
            f"signature must be {2 * _SIGNATURE_SIZE} lowercase hex characters"
        )
    cp = Checkpoint(
        sequence=document["sequence"],
        link=bytes.fromhex(link),
        signed_at=document["signed_at"],
        signature=bytes.fromhex(signature),
        key_id=document["key_id"],
    )
    try:
        checkpoint_message(cp.sequence, cp.link, cp.signed_at, cp.key_id)
    except ValueError as exc:
        raise CheckpointFormatError(str(exc)) from exc
    return cp


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise CheckpointFormatError(f"duplicate field {key!r}")
        result[key] = value
    return result


class CheckpointDirectory:
    """Checkpoints kept as files in a directory outside the database.

    One JSON file per checkpoint, named by the zero-padded sequence number, so
    the data-protection officer can copy the directory away (and later compare
    the copy with the service's view). Files are written atomically and a
    checkpoint is never overwritten. A missing directory reads as empty; hidden
    files and files not ending in ``.json`` are ignored, any other ``.json``
    file must be a well-formed checkpoint.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def file_for(self, sequence: int) -> Path:
        """Return the path of the file that holds the checkpoint for ``sequence``."""
        return self.path / f"{sequence:0{_FILENAME_DIGITS}d}.json"

    def write(self, cp: Checkpoint) -> Path:
        """Store ``cp`` atomically; ``CheckpointExistsError`` if one exists for its sequence.

        The file appears complete or not at all: it is written to a temporary
        file in the same directory, flushed to disk, and then hard-linked into
        place, which fails atomically if the name is taken (where hard links
        are not supported, a check followed by ``os.replace`` is used).
        """
        data = checkpoint_to_json(cp)  # validates before touching the disk
        self.path.mkdir(parents=True, exist_ok=True)
        final = self.file_for(cp.sequence)
        if final.exists():
            raise self._exists(final, cp.sequence)
        fd, tmp_name = tempfile.mkstemp(dir=self.path, prefix=".checkpoint-", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.chmod(0o444)  # a hint only; the signature is the real protection
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise self._exists(final, cp.sequence) from None
            except OSError:
                # Filesystem without hard links: not race-free, but still atomic.
                if final.exists():
                    raise self._exists(final, cp.sequence) from None
                os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        self._sync_directory()
        return final

    def read_all(self) -> list[Checkpoint]:
        """Return every stored checkpoint, sorted by sequence.

        Raises ``CheckpointFormatError`` naming the file if one is malformed.
        """
        return [self._read(path) for path in self._checkpoint_files()]

    def latest(self) -> Checkpoint | None:
        """Return the checkpoint with the highest sequence, or None if there is none."""
        files = self._checkpoint_files()
        return self._read(files[-1]) if files else None

    def _checkpoint_files(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        files = []
        for entry in self.path.iterdir():
            name = entry.name
            if name.startswith(".") or not name.endswith(".json"):
                continue
            if not _FILENAME_RE.fullmatch(name):
                raise CheckpointFormatError(
                    f"{entry}: not a checkpoint file name (expected "
                    f"{_FILENAME_DIGITS} digits followed by .json)"
                )
            files.append(entry)
        # Zero-padded names sort in sequence order.
        return sorted(files, key=lambda p: p.name)

    def _read(self, path: Path) -> Checkpoint:
        try:
            cp = checkpoint_from_json(path.read_bytes())
        except CheckpointFormatError as exc:
            raise CheckpointFormatError(f"{path}: malformed checkpoint file: {exc}") from exc
        if path.name != self.file_for(cp.sequence).name:
            raise CheckpointFormatError(
                f"{path}: file name does not match the checkpoint's sequence {cp.sequence}"
            )
        return cp

    def _exists(self, final: Path, sequence: int) -> CheckpointExistsError:
        return CheckpointExistsError(
            f"{final}: a checkpoint for entry {sequence} already exists and is never overwritten"
        )

    def _sync_directory(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
