"""Data-encryption keys (DEKs): generation, wrapping bound to the DEK's id, and a short cache.

A DEK encrypts field values; at rest it exists only wrapped by a KEK (see keys.py).
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._encoding import as_uuid
from .errors import DecryptionError
from .keys import DEK_BYTES, KeyProvider, WrappedKey

# Domain label, so DEK-wrapping AAD can never equal the AAD of any other construction.
_DEK_WRAP_LABEL = b"referral/dek-wrap/v1:"


def new_dek() -> bytes:
    """Return a fresh random 256-bit DEK (from the OS CSPRNG)."""
    return AESGCM.generate_key(bit_length=DEK_BYTES * 8)


def dek_wrap_aad(dek_id: uuid.UUID | str) -> bytes:
    """AAD for wrapping the DEK `dek_id`: a wrapped blob copied to another DEK row won't unwrap."""
    return _DEK_WRAP_LABEL + as_uuid(dek_id).bytes


def wrap_dek(provider: KeyProvider, dek: bytes, dek_id: uuid.UUID | str) -> WrappedKey:
    """Wrap `dek` under the provider's primary KEK, bound to `dek_id`."""
    return provider.wrap(dek, dek_wrap_aad(dek_id))


def unwrap_dek(provider: KeyProvider, wrapped: WrappedKey, dek_id: uuid.UUID | str) -> bytes:
    """Unwrap the DEK stored for `dek_id`; raises DecryptionError if it is not that DEK's."""
    dek = provider.unwrap(wrapped, dek_wrap_aad(dek_id))
    if len(dek) != DEK_BYTES:
        raise DecryptionError()
    return dek


# A DEK's id as the database and the blobs write it: lower-case, hyphenated.
_CANONICAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _cache_key(dek_id: uuid.UUID | str) -> str:
    """The cache's key for `dek_id`: its canonical form, so that "ABC…" and "abc…" name the
    same entry. A canonical string is taken as it is rather than parsed into a UUID and back
    (a purge looks up tens of thousands; the parse was most of each look-up)."""
    if isinstance(dek_id, str) and _CANONICAL_ID.fullmatch(dek_id):
        return dek_id
    return str(as_uuid(dek_id))


class DekCache:
    """A bounded, thread-safe LRU of unwrapped DEKs whose entries expire `ttl_seconds` after put.

    Why: unwrapping may be a remote KMS call per field read. The TTL is absolute (not
    refreshed by reads) because it bounds how long a DEK shredded by *another* process stays
    usable here; in this process, call `evict` when a DEK is shredded.
    """

    def __init__(
        self,
        max_entries: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if not (ttl_seconds > 0 and math.isfinite(ttl_seconds)):
            raise ValueError("ttl_seconds must be a positive, finite number")
        self._max_entries = max_entries
        self._ttl = float(ttl_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # expiry, DEK
        # The same keys in the order they expire: put order, as every entry lives `ttl` from
        # its put (`_entries` is in order of use instead). Dropping the expired ones pops from
        # the front, rather than scanning every entry on every put (a purge puts thousands).
        self._expiring: OrderedDict[str, float] = OrderedDict()
        # Bumped by evict/clear, so a load that raced with a shred is not cached afterwards.
        self._generation = 0

    def get(self, dek_id: uuid.UUID | str) -> bytes | None:
        """The cached DEK, or None if absent or expired."""
        key = _cache_key(dek_id)
        with self._lock:
            return self._get_locked(key)

    def put(self, dek_id: uuid.UUID | str, dek: bytes) -> None:
        """Cache `dek` for `ttl_seconds`, dropping expired and then least recently used entries."""
        if len(dek) != DEK_BYTES:
            raise ValueError(f"a DEK must be {DEK_BYTES} bytes")
        key = _cache_key(dek_id)
        with self._lock:
            self._put_locked(key, dek)

    def get_or_load(self, dek_id: uuid.UUID | str, load: Callable[[], bytes]) -> bytes:
        """Return the cached DEK or call `load()` (outside the lock) and cache its result.

        If `evict` or `clear` ran while `load` was in flight, the result is returned but not
        cached, so a DEK shredded meanwhile cannot be put back.
        """
        key = _cache_key(dek_id)
        with self._lock:
            cached = self._get_locked(key)
            generation = self._generation
        if cached is not None:
            return cached
        dek = load()
        if len(dek) != DEK_BYTES:
            raise ValueError(f"a DEK must be {DEK_BYTES} bytes")
        with self._lock:
            if generation == self._generation:
                self._put_locked(key, dek)
        return dek

    def evict(self, dek_id: uuid.UUID | str) -> None:
        """Forget one DEK now. Must be called when that DEK is shredded."""
        key = _cache_key(dek_id)
        with self._lock:
            self._entries.pop(key, None)
            self._expiring.pop(key, None)
            self._generation += 1

    def clear(self) -> None:
        """Forget every DEK (e.g. after a KEK is retired)."""
        with self._lock:
            self._entries.clear()
            self._expiring.clear()
            self._generation += 1

    def __len__(self) -> int:
        with self._lock:
            self._drop_expired_locked()
            return len(self._entries)

    def _get_locked(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, dek = entry
        if self._clock() >= expires_at:
            del self._entries[key]
            self._expiring.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return dek

    def _put_locked(self, key: str, dek: bytes) -> None:
        expires_at = self._clock() + self._ttl
        self._entries[key] = (expires_at, dek)
        self._entries.move_to_end(key)
        self._expiring[key] = expires_at
        self._expiring.move_to_end(key)
        # Expired keys go first, and on every put, so stale key material does not linger in
        # memory.
        self._drop_expired_locked()
        while len(self._entries) > self._max_entries:
            dropped, _entry = self._entries.popitem(last=False)
            del self._expiring[dropped]

    def _drop_expired_locked(self) -> None:
        """Pop expired entries from the front of the expiry order, stopping at the first
        live one: the cost is the number dropped, not the size of the cache."""
        now = self._clock()
        while self._expiring:
            key, expires_at = next(iter(self._expiring.items()))
            if now < expires_at:
                break
            del self._expiring[key]
            del self._entries[key]
