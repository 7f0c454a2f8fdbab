"""Development secrets for `make run`: one random value per purpose, kept in a 0600 file.

Run as `python -m config.dev_secrets instance/dev.env`. Adds only what is missing, so an
older file gains a secret that a newer version of the service needs.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

REQUIRED = (
    "REFERRAL_SECRET_KEY",
    "REFERRAL_MFA_KEY",
    "REFERRAL_BLIND_INDEX_KEY",
    "REFERRAL_AUDIT_KEY",
    "REFERRAL_BACKUP_KEY",
)


def ensure(path: Path) -> list[str]:
    # instance/ holds the database, the keyring and these secrets: owner-only, new or not.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    present = set()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            present.add(line.split("=", 1)[0].strip())
    missing = [name for name in REQUIRED if name not in present]
    if missing:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            for name in missing:
                handle.write(f"{name}={secrets.token_urlsafe(48)}\n")
    os.chmod(path, 0o600)
    return missing


if __name__ == "__main__":
    added = ensure(Path(sys.argv[1]))
    if added:
        print("Generated development secrets:", ", ".join(added))
