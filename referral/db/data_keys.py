"""Data-encryption keys at rest: one per person and record holder, stored only wrapped.

The district's record of a child and each partner's file on that child have separate keys,
so purging a partner's file shreds only that file's key (domain.md §5).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, make_transient_to_detached, mapped_column

from crypto import DecryptionError, DekCache, KeyProvider, new_dek
from crypto.hazmat import unwrap_dek, wrap_dek
from crypto.keys import WrappedKey
from referral.db.base import Base, UtcDateTime, chunks, new_id, one_of, utcnow
from referral.scopes import KeyScope


class DataKey(Base):
    __tablename__ = "data_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Pseudonymous ids only: which person, and which holder's record ("district:<org id>",
    # "partner-file:<file id>").
    person_id: Mapped[str] = mapped_column(String(36))
    holder: Mapped[str] = mapped_column(String(80))
    kek_id: Mapped[str] = mapped_column(String(128))
    kek_version: Mapped[int] = mapped_column(Integer)
    # NULL once shredded: every field under this key is then unreadable for good.
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    shredded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set when `flask crypto reencrypt` moved this key's fields to a newer key.
    superseded_by: Mapped[str | None] = mapped_column(ForeignKey("data_keys.id"))

    __table_args__ = (Index("ix_data_keys_person_holder", "person_id", "holder"),)

    @property
    def live(self) -> bool:
        return self.wrapped is not None


class KeyStore:
    """Finds, creates, unwraps and shreds data keys; unwrapped keys are cached briefly."""

    def __init__(self, provider: KeyProvider, cache: DekCache) -> None:
        self.provider = provider
        self.cache = cache

    def current(self, db: Session, scope: KeyScope) -> tuple[DataKey, bytes]:
        """The live key for `scope`, created (and wrapped under the primary KEK) if none."""
        return self.current_many(db, {scope})[scope]

    def current_many(
        self, db: Session, scopes: set[KeyScope]
    ) -> dict[KeyScope, tuple[DataKey, bytes]]:
        """`current` for many scopes in one query per 500 people (a flush sealing a thousand
        rows, each under its own person's key, would otherwise look each key up alone).

        Each key found is held shared (FOR SHARE) until the writer commits: `reencrypt` takes
        the key for update before it moves the key's rows and shreds it, so it waits for a
        row being sealed under the key and then moves that row too, instead of shredding the
        key under a row it could not yet see. A writer that waited for a re-encryption finds
        the old key superseded when the lock is granted, and looks once more, in a statement
        that sees the new key. (SQLite has no row locks: its writers take turns.)"""
        live = self._live_keys(db, scopes)
        missing = scopes - live.keys()
        if missing:
            live.update(self._live_keys(db, missing))
        found = {scope: (row, self.unwrap(row)) for scope, row in live.items()}
        for scope in sorted(scopes - live.keys(), key=lambda s: (s.person_id, s.holder)):
            found[scope] = self.create(db, scope)
        return found

    def _live_keys(self, db: Session, scopes: set[KeyScope]) -> dict[KeyScope, DataKey]:
        live: dict[KeyScope, DataKey] = {}
        people = sorted({scope.person_id for scope in scopes})
        holders = sorted({scope.holder for scope in scopes})
        with db.no_autoflush:
            for chunk in chunks(people):
                oldest_first = (
                    select(DataKey)
                    .where(
                        one_of(db, DataKey.person_id, chunk),
                        one_of(db, DataKey.holder, holders),
                        DataKey.wrapped.is_not(None),
                        DataKey.superseded_by.is_(None),
                    )
                    .order_by(DataKey.created_at, DataKey.id)
                    # After a wait, the database checks the conditions again on what the
                    # re-encryption committed: a superseded key is not returned at all.
                    .with_for_update(read=True)
                )
                for row in db.scalars(oldest_first):
                    scope = KeyScope(row.person_id, row.holder)
                    if scope in scopes:
                        live[scope] = row  # the newest wins
        return live

    def create(self, db: Session, scope: KeyScope) -> tuple[DataKey, bytes]:
        dek_id = new_id()
        dek = new_dek()
        wrapped = wrap_dek(self.provider, dek, dek_id)
        values = {
            "id": dek_id,
            "person_id": scope.person_id,
            "holder": scope.holder,
            "kek_id": wrapped.kek_id,
            "kek_version": wrapped.kek_version,
            "wrapped": wrapped.blob,
            "created_at": utcnow(),
        }
        # Written at once, not left to the flush: the unit of work orders the INSERTs of
        # models that no relationship links by class name, so a record sealed with a new
        # key in the same flush could otherwise be inserted before its key (ConcernReport
        # sorts before DataKey). The row then joins the session as already persistent.
        db.execute(insert(DataKey).values(**values))
        row = DataKey(**values)
        make_transient_to_detached(row)
        db.add(row)
        self.cache.put(dek_id, dek)
        return row, dek

    def by_id(self, db: Session, dek_id: uuid.UUID | str) -> bytes:
        key_id = str(dek_id)
        cached = self.cache.get(key_id)
        if cached is not None:
            return cached
        with db.no_autoflush:
            row = db.get(DataKey, key_id)
        if row is None:
            raise DecryptionError()
        return self.unwrap(row)

    def load_many(self, db: Session, dek_ids: Iterable[str | None]) -> None:
        """Unwrap into the cache the live keys of `dek_ids` that it lacks, read in one query
        per 500: reading a field of each of a thousand rows (the purge's returned files) would
        otherwise look each row's key up alone (`by_id`). Shredded or unknown ids are skipped;
        reading a field under one still fails there."""
        wanted = sorted({str(i) for i in dek_ids if i is not None and self.cache.get(i) is None})
        columns = select(DataKey.id, DataKey.kek_id, DataKey.kek_version, DataKey.wrapped)
        with db.no_autoflush:
            for chunk in chunks(wanted):
                live = columns.where(one_of(db, DataKey.id, chunk), DataKey.wrapped.is_not(None))
                for dek_id, kek_id, kek_version, wrapped in db.execute(live):
                    if wrapped is not None:  # (the query asks for live keys only)
                        self._unwrap(dek_id, WrappedKey(kek_id, kek_version, wrapped))

    def unwrap(self, row: DataKey) -> bytes:
        if row.wrapped is None:
            raise DecryptionError()
        return self._unwrap(row.id, WrappedKey(row.kek_id, row.kek_version, row.wrapped))

    def _unwrap(self, dek_id: str, wrapped: WrappedKey) -> bytes:
        return self.cache.get_or_load(dek_id, lambda: unwrap_dek(self.provider, wrapped, dek_id))

    def rewrap(self, row: DataKey) -> bool:
        """Wrap `row`'s key under the primary KEK (no field is decrypted). False if it was."""
        primary = self.provider.primary()
        if row.wrapped is None or (row.kek_id, row.kek_version) == (
            primary.kek_id,
            primary.version,
        ):
            return False
        dek = unwrap_dek(
            self.provider, WrappedKey(row.kek_id, row.kek_version, row.wrapped), row.id
        )
        wrapped = wrap_dek(self.provider, dek, row.id)
        row.kek_id, row.kek_version, row.wrapped = wrapped.kek_id, wrapped.kek_version, wrapped.blob
        return True

    def shred_many(self, db: Session, dek_ids: Sequence[str]) -> None:
        """`shred` for many keys at once, one UPDATE per 500 without loading them (a purge
        shreds thousands): a row of them already in the session is updated too."""
        now = utcnow()
        for chunk in chunks(dek_ids):
            db.execute(
                update(DataKey)
                .where(one_of(db, DataKey.id, chunk))
                .values(wrapped=None, shredded_at=now)
            )
        for dek_id in dek_ids:
            self.cache.evict(dek_id)

    def shred(self, row: DataKey) -> None:
        """Destroy the key: the wrapped copy goes, and so does any cached one in this process."""
        row.wrapped = None
        row.shredded_at = utcnow()
        self.cache.evict(row.id)
