"""Wiring of the key provider and field cipher from settings.

The provider is opened on first use, so commands such as `flask crypto init` run before a
keyring exists; `referral.wsgi` opens it at start-up, so a server never starts without keys.
"""

from __future__ import annotations

import threading
from pathlib import Path

from audit.record import AuditConfig
from audit.sinks import sink_from_setting
from config import Settings
from crypto import DekCache, KeyProvider, LocalKeyring
from crypto.blind_index import (
    IDENTIFIER_INDEX_PURPOSE,
    PERSONNUMMER_INDEX_PURPOSE,
    derive_key,
)
from crypto.keys import KekRef, WrappedKey
from referral import clock
from referral.db.audit_log import AUDIT_TABLES, seal_details
from referral.db.data_keys import KeyStore
from referral.db.encryption import FieldCipher

AUDIT_CHAIN_PURPOSE = "referral/audit-chain/v1"


class UnknownKeyProvider(Exception):
    pass


def open_provider(settings: Settings) -> KeyProvider:
    if settings.key_provider == "local":
        return LocalKeyring(settings.keyring_path)
    # A KMS or Vault Transit provider is added here, behind the same KeyProvider interface.
    raise UnknownKeyProvider(
        f"REFERRAL_KEY_PROVIDER={settings.key_provider!r} is not a known key provider (local)."
    )


class LazyProvider:
    """A KeyProvider that opens the configured one on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._provider: KeyProvider | None = None
        self._lock = threading.Lock()

    @property
    def provider(self) -> KeyProvider:
        with self._lock:
            if self._provider is None:
                self._provider = open_provider(self._settings)
            return self._provider

    def primary(self) -> KekRef:
        return self.provider.primary()

    def wrap(self, plaintext_dek: bytes, aad: bytes) -> WrappedKey:
        return self.provider.wrap(plaintext_dek, aad)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        return self.provider.unwrap(wrapped, aad)

    def versions(self) -> list[KekRef]:
        return self.provider.versions()

    def add_version(self) -> KekRef:
        return self.provider.add_version()

    def retire(self, kek_id: str, version: int) -> None:
        self.provider.retire(kek_id, version)


def build_cipher(settings: Settings) -> FieldCipher:
    store = KeyStore(
        LazyProvider(settings),
        DekCache(max_entries=settings.dek_cache_entries, ttl_seconds=settings.dek_cache_seconds),
    )
    # The index key is its own secret; HKDF with a purpose label keeps any future index
    # (e.g. on another identifier) independent of this one.
    index_key = derive_key(settings.blind_index_key.encode(), PERSONNUMMER_INDEX_PURPOSE)
    identifier_key = derive_key(settings.blind_index_key.encode(), IDENTIFIER_INDEX_PURPOSE)
    return FieldCipher(store, index_key, identifier_key)


def build_audit_config(settings: Settings) -> AuditConfig:
    return AuditConfig(
        tables=AUDIT_TABLES,
        now=lambda: clock.now(),  # late-bound: a frozen clock in tests is seen here too
        seal_details=seal_details,
        audit_key=derive_key(settings.audit_key.encode(), AUDIT_CHAIN_PURPOSE),
        checkpoint_dir=Path(settings.audit_checkpoint_dir),
        signing_key_path=Path(settings.audit_signing_key_path),
        checkpoint_every=settings.audit_checkpoint_every,
        checkpoint_seconds=settings.audit_checkpoint_seconds,
        mirror=sink_from_setting(settings.audit_checkpoint_mirror),
    )
