"""Is a restored database whole and readable? The access log's chain up to the head the backup
holds, a sample of personal fields opened with today's keyring, and which of its data keys
that keyring can no longer unwrap (a backup from before a key epoch ended).

The fields are opened only to prove they can be; nothing of what they hold is kept or shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from audit.actions import Action
from audit.chain import VerificationReport
from audit.record import record
from crypto import DecryptionError
from referral.actors import Actor
from referral.db.data_keys import DataKey
from referral.db.encryption import session_cipher
from referral.db.uow import UnitOfWork
from referral.policy import Permission, require
from referral.services.audit_integrity import signed_beyond, verify_log
from referral.services.keys import encrypted_models


@dataclass(frozen=True)
class Unreadable:
    """A sampled field that did not open: where, by ids only."""

    table: str
    field: str
    row_id: str


@dataclass(frozen=True)
class RestoreCheck:
    chain: VerificationReport
    # The last entry a checkpoint signed after the backup covers: the log went this far
    # before the restore, and entries after the backup's head are not in it.
    signed_beyond: int | None
    rows_sampled: int
    fields_opened: int
    unreadable: tuple[Unreadable, ...]
    # Live data keys wrapped by KEK versions the keyring holds no material for (retired, or
    # never known to it): whatever they sealed is beyond reach with this keyring.
    keys_past_their_epoch: int
    live_keys: int

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.unreadable and not self.keys_past_their_epoch


def record_backup(uow: UnitOfWork, actor: Actor, backup_id: str) -> None:
    """Every personal record is about to be read into a backup: recorded and committed
    before the database is read, so the backup holds its own entry and no backup is taken
    that the log does not show."""
    require(actor, Permission.KEYS_MANAGE)
    record(uow.session, actor, Action.BACKUP_CREATE, object_type="backup", object_id=backup_id)
    uow.commit()


def record_restore(uow: UnitOfWork, actor: Actor, backup_id: str) -> None:
    """The restored database was verified and is about to be put into service: its log says
    from which backup it came, after that backup's own entry."""
    require(actor, Permission.KEYS_MANAGE)
    record(uow.session, actor, Action.BACKUP_RESTORE, object_type="backup", object_id=backup_id)
    uow.commit()


def check_restored(uow: UnitOfWork, actor: Actor, sample_per_table: int) -> RestoreCheck:
    """Verify the restored chain, and open up to `sample_per_table` rows' personal fields of
    each kind of record (chosen at random among rows under a live data key)."""
    require(actor, Permission.AUDIT_VERIFY)
    require(actor, Permission.KEYS_MANAGE)
    session = uow.session
    chain = verify_log(session, restored=True).report
    beyond = signed_beyond(session)
    past, live = _keys_past_their_epoch(uow)
    sampled, opened = 0, 0
    unreadable: list[Unreadable] = []
    for model in encrypted_models():
        rows = session.scalars(
            select(model)
            .join(DataKey, DataKey.id == model.data_key_id)
            .where(DataKey.wrapped.is_not(None))
            .order_by(func.random())
            .limit(sample_per_table)
        ).all()
        for row in rows:
            sampled += 1
            for name, field in model.__personal_fields__.items():
                if getattr(row, field.sealed_attr) is None:
                    continue
                try:
                    getattr(row, name)
                except DecryptionError:
                    table = model.__table__.name  # type: ignore[attr-defined]
                    unreadable.append(Unreadable(table, name, row.id))
                else:
                    opened += 1
        session.expunge_all()  # no opened value stays in memory longer than its check
    return RestoreCheck(chain, beyond, sampled, opened, tuple(unreadable), past, live)


def _keys_past_their_epoch(uow: UnitOfWork) -> tuple[int, int]:
    provider = session_cipher(uow.session).keys.provider
    readable = {(ref.kek_id, ref.version) for ref in provider.versions() if not ref.retired}
    rows = uow.session.execute(
        select(DataKey.kek_id, DataKey.kek_version, func.count())
        .where(DataKey.wrapped.is_not(None))
        .group_by(DataKey.kek_id, DataKey.kek_version)
    )
    counts = Counter({(kek_id, version): count for kek_id, version, count in rows})
    past = sum(count for ref, count in counts.items() if ref not in readable)
    return past, sum(counts.values())
