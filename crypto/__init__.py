"""Public API of the crypto core: field encryption, DEK/KEK handling and the blind index.

Only the safe, high-level names are exported; raw KEK objects and AES-GCM helpers stay private.
"""

from .blind_index import (
    INDEX_BITS,
    PERSONNUMMER_INDEX_PURPOSE,
    InvalidPersonnummer,
    blind_index,
    constant_time_equal,
    normalise_personnummer,
)
from .dek import DekCache, dek_wrap_aad, new_dek, unwrap_dek, wrap_dek
from .errors import DecryptionError, KeyringError
from .fields import (
    FieldContext,
    decrypt_bytes,
    decrypt_field,
    dek_id_of,
    encrypt_bytes,
    encrypt_field,
)
from .kdf import derive_key
from .keys import KekRef, KeyProvider, WrappedKey
from .local_keyring import LocalKeyring

__all__ = [
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
    "decrypt_bytes",
    "decrypt_field",
    "dek_id_of",
    "dek_wrap_aad",
    "derive_key",
    "encrypt_bytes",
    "encrypt_field",
    "new_dek",
    "normalise_personnummer",
    "unwrap_dek",
    "wrap_dek",
]
