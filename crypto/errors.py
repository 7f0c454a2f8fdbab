"""The crypto package's failure types: one opaque decryption error and one keyring error.

Neither ever carries plaintext, key material or ciphertext in its message.
"""

from __future__ import annotations


class DecryptionError(Exception):
    """Raised for every failure to decrypt or unwrap, whatever the cause.

    One type with one fixed message on purpose: telling "wrong key" from "tampered" from
    "truncated" only helps someone probing blobs, and free-text detail is how secrets end up
    in logs. The constructor takes no arguments so no caller can add detail either.
    """

    _MESSAGE = "decryption failed"

    def __init__(self) -> None:
        super().__init__(self._MESSAGE)

    def __reduce__(self) -> tuple[type[DecryptionError], tuple[()]]:
        # Exceptions pickle as cls(*args); ours takes no args, so say so explicitly
        # (keeps the error usable across process pools).
        return (type(self), ())


class KeyringError(Exception):
    """A keyring file is missing, has unsafe permissions, is malformed or cannot be written.

    Messages are one sentence naming the file and the fix; they never contain key material.
    """
