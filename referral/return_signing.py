"""The key that signs files returned to social services (referral.services.returned_files).

One secret per purpose: this Ed25519 key signs returned files only, never the access log's
checkpoints (whose key `flask audit init` makes). The private key is a 0600 PEM file at
`REFERRAL_RETURN_SIGNING_KEY_PATH`; its public key lies beside it as `<stem>.pub.pem`, for
the district (and anyone it hands a file to) to check a signature with. No Flask here: the
operator's command (`flask gallring init`), the purge engine and the pages call these.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from audit.checkpoints import (
    generate_signing_key,
    load_private_key,
    load_public_key,
    private_pem,
    public_pem,
)
from referral.errors import DomainError

INIT_HINT = "run `flask gallring init`"


class MissingSigningKey(DomainError):
    """The signing key is not there (or not a key): nothing can be signed until the operator
    makes one. Said in English, for the operator's console and the server log."""

    status = 503
    code = "no_return_signing_key"


def public_key_path(path: str | os.PathLike[str]) -> Path:
    """Where the public key lies: beside the private key, `<stem>.pub.pem`."""
    private = Path(path)
    return private.with_name(f"{private.stem}.pub.pem")


def create_key(path: str | os.PathLike[str]) -> bool:
    """Make the signing key (0600, never overwritten) and write its public key beside it.
    False when a key exists already (its public key is written again if it went missing)."""
    key_path = Path(path)
    if key_path.exists():
        public = public_key_path(key_path)
        if not public.exists():
            public.write_bytes(public_pem(load_key(key_path)))
        return False
    key_path.parent.mkdir(parents=True, exist_ok=True)
    private = generate_signing_key()
    try:
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made at the same moment by another process: keep that one
        return False
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem(private))
    public_key_path(key_path).write_bytes(public_pem(private))
    return True


def load_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The private key, or MissingSigningKey naming the path and what to do."""
    key_path = Path(path)
    try:
        return load_private_key(key_path.read_bytes())
    except FileNotFoundError:
        raise MissingSigningKey(
            f"There is no key to sign returned files at {key_path}: {INIT_HINT}."
        ) from None
    except ValueError as error:
        raise MissingSigningKey(
            f"{key_path} is not an Ed25519 private key ({error}): move it away and {INIT_HINT}."
        ) from None


def public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """The public key of the signing key at `path`: the copy beside it, else the private
    key's own (MissingSigningKey when neither is there)."""
    public = public_key_path(path)
    if public.exists():
        try:
            return load_public_key(public.read_bytes())
        except ValueError as error:
            raise MissingSigningKey(f"{public} is not an Ed25519 public key ({error}).") from None
    return load_key(path).public_key()
