"""Public API of the crypto core: field encryption, DEK/KEK handling and the blind index.

Only the safe, high-level names are exported; raw KEK objects and AES-GCM helpers stay private,
and wrapping data keys or encrypting raw bytes lives apart in `crypto.hazmat`.
"""

from .blind_index import (
    IDENTIFIER_INDEX_PURPOSE,
    INDEX_BITS,
    PERSONNUMMER_INDEX_PURPOSE,
    InvalidPersonnummer,
    blind_index,
    constant_time_equal,
    identifier_index,
    keyword_index,
    normalise_personnummer,
)
from .dek import DekCache, new_dek
from .errors import DecryptionError, KeyringError
from .fields import FieldContext, decrypt_field, encrypt_field
from .kdf import derive_key
from .keys import KekRef, KeyProvider, WrappedKey
from .local_keyring import LocalKeyring

__all__ = [
    "IDENTIFIER_INDEX_PURPOSE",
    "INDEX_BITS",
    "PERSONNUMMER_INDEX_PURPOSE",
    "DecryptionError",
    "DekCache",
    "FieldContext",
    "InvalidPersonnummer",
    "KekRef",
    "KeyProvider",
    "KeyringError",
    "LocalKeyring",
    "WrappedKey",
    "blind_index",
    "constant_time_equal",
    "decrypt_field",
    "derive_key",
    "encrypt_field",
    "identifier_index",
    "keyword_index",
    "new_dek",
    "normalise_personnummer",
]
