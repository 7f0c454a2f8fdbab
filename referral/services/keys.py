"""Key operations: rotate the key-encryption key, re-encrypt fields under new data keys,
shred a record holder's key, and report which KEK versions are still in use.

Rotation and re-encryption work in small transactions (one data key, i.e. one person's
record, at a time), so an interrupted run loses nothing and a second run resumes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from crypto.keys import KekRef
from referral.actors import Actor
from referral.db.base import Base
from referral.db.data_keys import DataKey
from referral.db.encryption import EncryptedRecord, session_cipher
from referral.db.people import PartnerFile
from referral.db.uow import UnitOfWork
from referral.errors import Conflict
from referral.policy import Permission, require
from referral.scopes import AUDIT_HOLDER_PREFIX, KeyScope


def encrypted_models() -> list[type[EncryptedRecord]]:
    """Every mapped model with personal fields, found in the registry so none is forgotten."""
    import referral.db.schema  # noqa: F401 - registers every model

    return sorted(
        (m.class_ for m in Base.registry.mappers if issubclass(m.class_, EncryptedRecord)),
        key=lambda model: model.__name__,
    )


Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class KekUsage:
    kek: KekRef
    primary: bool
    live_keys: int


def status(uow: UnitOfWork, actor: Actor) -> list[KekUsage]:
    """How many live data keys each KEK version still wraps, so old versions can be retired."""
    require(actor, Permission.KEYS_MANAGE)
    provider = session_cipher(uow.session).keys.provider
    rows = uow.session.execute(
        select(DataKey.kek_id, DataKey.kek_version).where(DataKey.wrapped.is_not(None))
    )
    counts = Counter((kek_id, version) for kek_id, version in rows)
    primary = provider.primary()
    return [
        KekUsage(ref, ref == primary, counts.get((ref.kek_id, ref.version), 0))
        for ref in provider.versions()
    ]


def _batches(uow: UnitOfWork, query_ids: list[str]) -> Iterator[DataKey]:
    for key_id in query_ids:
        row = uow.session.get(DataKey, key_id)
        if row is not None:
            yield row


def _locked_live_key(uow: UnitOfWork, key_id: str) -> DataKey | None:
    """The key, held for update until this transaction commits, or None when it is no
    longer live (another run moved or shredded it meanwhile). A writer sealing a row under
    it holds it shared (KeyStore.current_many): the lock waits for that writer, and the row
    it committed is then among those moved."""
    return uow.session.scalars(
        select(DataKey)
        .where(
            DataKey.id == key_id,
            DataKey.wrapped.is_not(None),
            DataKey.superseded_by.is_(None),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def rotate(uow: UnitOfWork, actor: Actor, progress: Progress | None = None) -> tuple[KekRef, int]:
    """Make a new primary KEK and rewrap every live data key under it.

    No field is decrypted. Safe to interrupt: a key is either still under its old KEK or
    already under the new one, and `rewrap` (run again) finishes the rest."""
    require(actor, Permission.KEYS_MANAGE)
    primary = session_cipher(uow.session).keys.provider.add_version()
    record(
        uow.session,
        actor,
        Action.KEYS_ROTATE,
        object_type="kek",
        object_id=f"{primary.kek_id}:v{primary.version}",
    )
    uow.commit()
    return primary, rewrap(uow, actor, progress)


def rewrap(uow: UnitOfWork, actor: Actor, progress: Progress | None = None) -> int:
    """Rewrap every live data key not yet under the primary KEK; returns how many moved."""
    require(actor, Permission.KEYS_MANAGE)
    store = session_cipher(uow.session).keys
    primary = store.provider.primary()
    pending = list(
        uow.session.scalars(
            select(DataKey.id).where(
                DataKey.wrapped.is_not(None),
                (DataKey.kek_id != primary.kek_id) | (DataKey.kek_version != primary.version),
            )
        )
    )
    moved = 0
    for done, row in enumerate(_batches(uow, pending), start=1):
        if store.rewrap(row):
            moved += 1
        uow.commit()  # one key per transaction: an interruption loses at most this one
        if progress:
            progress(done, len(pending))
    record(uow.session, actor, Action.KEYS_REWRAP, object_type="kek", object_id=f"{moved} keys")
    uow.commit()
    return moved


@dataclass(frozen=True)
class Reencryption:
    replaced: int  # data keys whose fields moved to a fresh key
    # Old keys that entries of the access log were sealed under before the log had keys of its
    # own (KeyScope.for_the_log): no record uses them any more, but shredding them would make
    # those entries unreadable, and the entries cannot be rewritten. Kept, and counted.
    kept_for_the_log: int = 0


def reencrypt(
    uow: UnitOfWork, actor: Actor, created_before: datetime, progress: Progress | None = None
) -> Reencryption:
    """Move the fields under every live data key made before `created_before` to a fresh key,
    then shred the old one. One person's record per transaction; a rerun with the same
    `created_before` resumes where an interrupted one stopped.

    The access log is never rewritten: its keys (the "audit:" holders) are left alone, and so
    are its entries. Its keys are still rewrapped by `rotate` and shredded by purge."""
    require(actor, Permission.KEYS_MANAGE)
    db = uow.session
    cipher = session_cipher(db)
    models = [model for model in encrypted_models() if not model.append_only]
    pending = list(
        db.scalars(
            select(DataKey.id).where(
                DataKey.wrapped.is_not(None),
                DataKey.superseded_by.is_(None),
                DataKey.created_at < created_before,
                DataKey.holder.not_like(AUDIT_HOLDER_PREFIX + "%"),
            )
        )
    )
    kept = replaced = 0
    for done, key_id in enumerate(pending, start=1):
        old = _locked_live_key(uow, key_id)
        if old is None:
            uow.commit()
            continue
        replaced += 1
        scope = KeyScope(old.person_id, old.holder)
        new_row, _dek = cipher.keys.create(db, scope)
        db.flush()  # the new key must exist before the old one can point at it
        old.superseded_by = new_row.id
        db.flush()  # the new key is now the current one for this person and holder
        for model in models:
            for row in db.scalars(select(model).where(model.data_key_id == old.id)):
                cipher.seal(db, row)  # moves every field of the row to the new key
        db.flush()
        if _sealed_in_the_log(uow, old):
            kept += 1
        else:
            cipher.keys.shred(old)
        record(
            db,
            actor,
            Action.KEYS_REENCRYPT,
            object_type="data_key",
            object_id=old.id,
            subject=scope,
        )
        uow.commit()
        if progress:
            progress(done, len(pending))
    return Reencryption(replaced=replaced, kept_for_the_log=kept)


def _sealed_in_the_log(uow: UnitOfWork, key: DataKey) -> bool:
    append_only = [model for model in encrypted_models() if model.append_only]
    return any(
        uow.session.scalar(select(model.id).where(model.data_key_id == key.id).limit(1)) is not None
        for model in append_only
    )


def shred_partner_file_key(uow: UnitOfWork, actor: Actor, partner_file: PartnerFile) -> None:
    """Crypto-shred a partner's file: the basis of purge (gallring). The district's record
    of the same child is under another key and is untouched."""
    require(actor, Permission.KEYS_MANAGE)
    db = uow.session
    store = session_cipher(db).keys
    scope = partner_file.key_scope()
    # The file's own keys, and the keys of the access log's details about it: both go.
    holders = (scope.holder, scope.for_the_log().holder)
    for row in db.scalars(
        select(DataKey).where(DataKey.person_id == scope.person_id, DataKey.holder.in_(holders))
    ):
        store.shred(row)
        # No subject: the entry must not need the key it records the end of.
        record(db, actor, Action.KEYS_SHRED, object_type="data_key", object_id=row.id)
    uow.commit()


def retire(uow: UnitOfWork, actor: Actor, kek_id: str, version: int) -> None:
    """Destroy an old KEK version once no live data key depends on it. Backups taken while it
    was in use can then no longer unwrap keys shredded since."""
    require(actor, Permission.KEYS_MANAGE)
    still = uow.session.scalar(
        select(DataKey.id)
        .where(
            DataKey.wrapped.is_not(None),
            DataKey.kek_id == kek_id,
            DataKey.kek_version == version,
        )
        .limit(1)
    )
    if still is not None:
        raise Conflict(
            "Live data keys are still wrapped by this version: run `flask crypto rotate` first."
        )
    session_cipher(uow.session).keys.provider.retire(kek_id, version)
    record(
        uow.session, actor, Action.KEYS_RETIRE, object_type="kek", object_id=f"{kek_id}:v{version}"
    )
    uow.commit()
