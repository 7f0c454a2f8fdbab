"""The local keyring: KEKs in a 0600 JSON file outside the database, for the embedded default.

Written atomically (temp file, fsync, rename), reloaded when another process changes it, and
refused when group or others may read it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import secrets
import stat
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from .errors import DecryptionError, KeyringError
from .keys import (
    _CREATE_NEW,
    _FILE_FORMAT,
    _KEK_ID,
    _MAX_FILE_BYTES,
    _UNSAFE_MODE_BITS,
    DEK_BYTES,
    KEK_BYTES,
    Kek,
    KekRef,
    WrappedKey,
    _new_kek,
    _unwrap_with,
    _wrap_with,
)

# -- file handling ---------------------------------------------------------------------------


def _serialise(kek_id: str, keks: list[Kek]) -> bytes:
    versions: list[dict[str, Any]] = []
    for kek in sorted(keks, key=lambda k: k.version):
        entry: dict[str, Any] = {
            "version": kek.version,
            "created_at": kek.created_at,
            "retired": kek.retired,
        }
        if not kek.retired:
            entry["material"] = base64.b64encode(kek.material).decode("ascii")
        versions.append(entry)
    doc = {"format": _FILE_FORMAT, "kek_id": kek_id, "versions": versions}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _malformed(path: Path, reason: str) -> KeyringError:
    return KeyringError(f"Keyring file {path} is malformed: {reason}.")


def _parse(path: Path, raw: bytes) -> tuple[str, dict[int, Kek]]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _malformed(path, "it is not valid UTF-8 JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != _FILE_FORMAT:
        raise _malformed(path, f"expected an object with format {_FILE_FORMAT}")
    kek_id = doc.get("kek_id")
    if not isinstance(kek_id, str) or not _KEK_ID.fullmatch(kek_id):
        raise _malformed(path, "kek_id is missing or not a valid id")
    entries = doc.get("versions")
    if not isinstance(entries, list) or not entries:
        raise _malformed(path, "versions must be a non-empty list")
    keks: dict[int, Kek] = {}
    for entry in entries:
        kek = _parse_entry(path, kek_id, entry)
        if kek.version in keks:
            raise _malformed(path, f"version {kek.version} appears twice")
        keks[kek.version] = kek
    if all(kek.retired for kek in keks.values()):
        raise _malformed(path, "every version is retired, so nothing can wrap new keys")
    return kek_id, keks


def _parse_entry(path: Path, kek_id: str, entry: object) -> Kek:
    if not isinstance(entry, dict):
        raise _malformed(path, "each version must be an object")
    version = entry.get("version")
    created_at = entry.get("created_at")
    retired = entry.get("retired")
    # bool is an int subclass; `true` is not a version number.
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _malformed(path, "a version number is missing or not a positive integer")
    if not isinstance(created_at, str) or not isinstance(retired, bool):
        raise _malformed(path, f"version {version} lacks created_at or retired")
    encoded = entry.get("material")
    if retired:
        if encoded is not None:
            raise _malformed(path, f"retired version {version} still holds key material")
        material = b""
    else:
        if not isinstance(encoded, str):
            raise _malformed(path, f"version {version} has no key material")
        try:
            material = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            material = b""
        if len(material) != KEK_BYTES:
            raise _malformed(path, f"version {version} material is not {KEK_BYTES} base64 bytes")
    return Kek(kek_id, version, material, created_at, retired)


def _fsync_directory(directory: Path) -> None:
    # Without this, the rename itself may not survive a power cut.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace path with data so that readers see the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, _CREATE_NEW, 0o600)
        try:
            with os.fdopen(fd, "wb", closefd=False) as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_directory(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise KeyringError(f"Cannot write keyring file {path}: {exc.strerror}.") from None


# -- the provider ----------------------------------------------------------------------------


class LocalKeyring:
    """KEKs in a local JSON file (mode 0600) for single-host deployments and development.

    Every call re-checks the file (one stat) and reloads it if another process changed it, so
    a version added or retired by the CLI takes effect in running workers without a restart.
    Limits: KEK material is in this process's memory; retiring rewrites the file but cannot
    scrub old copies from backups, snapshots or freed disk blocks.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.RLock()
        self._kek_id = ""
        self._keks: dict[int, Kek] = {}
        self._stamp: tuple[int, ...] | None = None
        with self._lock:
            self._load()

    @classmethod
    def create(cls, path: str | os.PathLike[str], kek_id: str | None = None) -> LocalKeyring:
        """Create a new keyring file holding one fresh KEK; refuse if the file exists."""
        target = Path(path)
        # A random default id keeps a re-created keyring from reusing the old one's name.
        first = _new_kek(kek_id or f"local-{uuid.uuid4()}", 1)
        try:
            # O_EXCL claims the name (never overwrite a keyring); 0o600 from the first instant.
            fd = os.open(target, _CREATE_NEW, 0o600)
        except FileExistsError:
            raise KeyringError(
                f"Keyring file {target} already exists; refusing to overwrite it."
            ) from None
        except OSError as exc:
            raise KeyringError(f"Cannot create keyring file {target}: {exc.strerror}.") from None
        os.close(fd)
        try:
            _write_atomically(target, _serialise(first.kek_id, [first]))
        except KeyringError:
            with contextlib.suppress(OSError):
                os.unlink(target)
            raise
        return cls(target)

    @property
    def path(self) -> Path:
        return self._path

    # -- KeyProvider -------------------------------------------------------------------------

    def primary(self) -> KekRef:
        with self._lock:
            self._refresh()
            return self._primary().ref

    def wrap(self, plaintext_dek: bytes, aad: bytes) -> WrappedKey:
        if len(plaintext_dek) != DEK_BYTES:
            raise ValueError(f"a DEK must be {DEK_BYTES} bytes")
        with self._lock:
            self._refresh()
            kek = self._primary()
        return _wrap_with(kek, plaintext_dek, aad)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        with self._lock:
            self._refresh()  # file problems are KeyringError, deliberately not hidden
            kek = self._keks.get(wrapped.kek_version) if wrapped.kek_id == self._kek_id else None
        if kek is None or kek.retired:
            raise DecryptionError()
        return _unwrap_with(kek, wrapped, aad)

    def versions(self) -> list[KekRef]:
        with self._lock:
            self._refresh()
            return [self._keks[v].ref for v in sorted(self._keks)]

    def add_version(self) -> KekRef:
        with self._lock, self._file_lock():
            self._load()  # start from what is on disk now, not from our cached copy
            new = _new_kek(self._kek_id, max(self._keks) + 1)
            _write_atomically(self._path, _serialise(self._kek_id, [*self._keks.values(), new]))
            self._load()
            return new.ref

    def retire(self, kek_id: str, version: int) -> None:
        with self._lock, self._file_lock():
            self._load()
            kek = self._keks.get(version) if kek_id == self._kek_id else None
            if kek is None:
                raise KeyringError(f"Keyring file {self._path} has no KEK {kek_id} v{version}.")
            if kek.retired:
                return  # idempotent: the material is already gone
            if kek.ref == self._primary().ref:
                # Retiring the primary would leave nothing to wrap with; rotate first.
                raise KeyringError(
                    f"KEK {kek_id} v{version} is the primary; add a new version and rewrap "
                    "its DEKs before retiring it."
                )
            keks = {**self._keks, version: replace(kek, material=b"", retired=True)}
            _write_atomically(self._path, _serialise(self._kek_id, list(keks.values())))
            self._load()

    # -- internals ---------------------------------------------------------------------------

    def _primary(self) -> Kek:
        return self._keks[max(v for v, kek in self._keks.items() if not kek.retired)]

    def _refresh(self) -> None:
        try:
            st = os.stat(self._path)
        except OSError:
            st = None
        if st is None or _stamp_of(st) != self._stamp:
            self._load()

    def _load(self) -> None:
        try:
            fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise KeyringError(
                f"Keyring file {self._path} does not exist; create it with LocalKeyring.create."
            ) from None
        except OSError as exc:
            raise KeyringError(f"Cannot open keyring file {self._path}: {exc.strerror}.") from None
        with os.fdopen(fd, "rb") as fh:
            # fstat on the open descriptor: the checked file is the file we read.
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise KeyringError(f"Keyring file {self._path} is not a regular file.")
            if st.st_mode & _UNSAFE_MODE_BITS:
                raise KeyringError(
                    f"Keyring file {self._path} is accessible by group or others "
                    f"(mode {stat.S_IMODE(st.st_mode):04o}); run chmod 600 on it."
                )
            raw = fh.read(_MAX_FILE_BYTES + 1)
        if len(raw) > _MAX_FILE_BYTES:
            raise _malformed(self._path, "it is larger than 1 MiB")
        self._kek_id, self._keks = _parse(self._path, raw)
        self._stamp = _stamp_of(st)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        # A sidecar lock file, because os.replace swaps the keyring's inode under any lock
        # taken on the keyring itself. Serialises add_version/retire across processes, so
        # two concurrent rotations cannot silently drop a KEK.
        lock_path = self._path.with_name(self._path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise KeyringError(f"Cannot lock keyring file {self._path}: {exc.strerror}.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def _stamp_of(st: os.stat_result) -> tuple[int, ...]:
    # ctime and mode too: a chmod to 0644 changes neither content nor mtime, yet must be seen.
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)
