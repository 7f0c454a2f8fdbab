"""The low-level layer, for code that stores data keys or handles ciphertext as bytes.

Named as pyca/cryptography names its own: wrapping a data key under a KEK, and encrypting raw
bytes, are easy to misuse (the wrong AAD, a key kept too long). Application code uses the
high-level names in `crypto` (encrypt_field, decrypt_field, blind_index); only the data-key
store and tests of the core reach in here.
"""

from __future__ import annotations

from .dek import dek_wrap_aad, unwrap_dek, wrap_dek
from .fields import decrypt_bytes, dek_id_of, dek_id_text_of, encrypt_bytes

__all__ = [
    "decrypt_bytes",
    "dek_id_of",
    "dek_id_text_of",
    "dek_wrap_aad",
    "encrypt_bytes",
    "unwrap_dek",
    "wrap_dek",
]
