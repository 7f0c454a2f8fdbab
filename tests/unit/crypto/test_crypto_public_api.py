"""The crypto package's public surface: safe names in, hazardous internals out."""

from __future__ import annotations

import importlib
from pathlib import Path

import crypto


def test_the_agreed_names_are_exported() -> None:
    agreed = {
        "encrypt_field",
        "decrypt_field",
        "DecryptionError",
        "FieldContext",
        "blind_index",
        "normalise_personnummer",
        "LocalKeyring",
        "KeyProvider",
        "DekCache",
        "new_dek",
    }
    assert agreed <= set(crypto.__all__)
    assert all(hasattr(crypto, name) for name in crypto.__all__)


def test_raw_key_objects_and_cipher_helpers_are_not_exported() -> None:
    assert not {"Kek", "AESGCM", "_wrap_with", "_unwrap_with"} & set(crypto.__all__)
    assert not hasattr(crypto, "Kek")


def test_the_crypto_core_pulls_in_no_web_or_database_framework() -> None:
    for name in ("errors", "keys", "dek", "fields", "blind_index", "kdf", "_encoding"):
        # import_module, not attribute access: crypto.blind_index is the re-exported function.
        module = importlib.import_module(f"crypto.{name}")
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert "flask" not in source.lower()
        assert "sqlalchemy" not in source.lower()


def test_wrapping_keys_and_raw_byte_encryption_live_apart_in_hazmat() -> None:
    import crypto.hazmat

    low_level = {"wrap_dek", "unwrap_dek", "dek_wrap_aad", "encrypt_bytes", "decrypt_bytes"}
    assert not low_level & set(crypto.__all__)
    assert low_level <= set(crypto.hazmat.__all__)
