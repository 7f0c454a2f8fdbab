"""Erasing one person-holder: shred its data keys, then empty every sealed field that any of
those keys sealed. The shredding is the guarantee (PostgreSQL's VACUUM does not zero pages,
and backups keep old pages); emptying the fields means that what remains on disk is not even
ciphertext.

Generic over every model with personal fields (services.keys.encrypted_models), so a record
type added later is erased without being named here. The access log is never rewritten: its
sealed details stay, unreadable once the log's key for that holder ("audit:" + holder) goes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    Table,
    Update,
    bindparam,
    exists,
    func,
    inspect,
    literal,
    literal_column,
    select,
    union_all,
    update,
)

from referral.db.base import chunks, id_array, one_of
from referral.db.data_keys import DataKey
from referral.db.encryption import EncryptedRecord, session_cipher
from referral.db.uow import UnitOfWork
from referral.scopes import KeyScope
from referral.services.keys import encrypted_models


def holders_with_the_log(person_id: str, holders: tuple[str, ...]) -> tuple[str, ...]:
    """The holders' own keys and the access log's keys about them: purging takes both."""
    logs = tuple(KeyScope(person_id, holder).for_the_log().holder for holder in holders)
    return holders + logs


def _emptied(model: type[EncryptedRecord]) -> dict[str, None]:
    """Every sealed column of `model`, its blind indexes, and its key reference, as NULLs."""
    mapper = inspect(model)
    columns: dict[str, None] = {"data_key_id": None}
    for field in model.__personal_fields__.values():
        columns[field.column_name(model)] = None
        if field.index:
            columns[str(mapper.attrs[field.index].columns[0].name)] = None
    return columns


@dataclass(frozen=True)
class _Statements:
    """Built once: a purge runs them for every unit, and building a statement costs more
    than running it."""

    probe: CompoundSelect[str] | None  # which tables hold rows sealed by the given keys
    empty: dict[str, Update]  # per table: empty the rows sealed by the given keys
    as_json: bool  # the keys go as one JSON text (SQLite), else as a list

    def keys(self, chunk: list[str]) -> object:
        """The `keys` parameter's value for a chunk of key ids."""
        return json.dumps(chunk) if self.as_json else chunk


@cache
def _statements(dialect: str) -> _Statements:
    """The keys as one parameter where the database can take them so: an array on
    PostgreSQL (as referral.db.base.one_of), a JSON text on SQLite (json_each; the index on
    data_key_id is still used for each key). Elsewhere a list, which the probe names once per
    table: twenty lists of hundreds, each value bound and checked apart."""
    keys: BindParameter[Any]
    if dialect == "postgresql":
        keys = bindparam("keys", type_=ARRAY(String))
        key_rows: Select[Any] | None = id_array(keys)
    elif dialect == "sqlite":
        keys = bindparam("keys", type_=String)
        key_rows = select(literal_column("value")).select_from(func.json_each(keys))
    else:
        keys = bindparam("keys", expanding=True)
        key_rows = None

    def sealed_by_keys(table: Table) -> ColumnElement[bool]:
        column = table.c.data_key_id
        return column.in_(key_rows) if key_rows is not None else column.in_(keys)

    tables: list[Table] = [
        model.__table__  # type: ignore[attr-defined]
        for model in encrypted_models()
        if not model.append_only  # the access log is never rewritten
    ]
    models = {model.__table__.name: model for model in encrypted_models()}  # type: ignore[attr-defined]
    empty = {
        table.name: update(table)
        .where(sealed_by_keys(table))
        .values(**_emptied(models[table.name]))
        for table in tables
    }
    probes = [
        select(literal(table.name).label("name")).where(exists().where(sealed_by_keys(table)))
        for table in tables
    ]
    return _Statements(union_all(*probes) if probes else None, empty, dialect == "sqlite")


def erase(uow: UnitOfWork, person_id: str, holders: tuple[str, ...]) -> int:
    """Shred every key of `person_id` under `holders` (and the log's keys about them), and
    empty the fields they sealed. Returns how many keys were shredded (0 when already gone).
    In the caller's transaction: it commits with the purge record, or not at all."""
    return erase_many(uow, [(person_id, holders)])[0]


def erase_many(uow: UnitOfWork, people: Sequence[tuple[str, tuple[str, ...]]]) -> list[int]:
    """`erase` for a batch of (person, holders): the keys shredded for each, in order."""
    db = uow.session
    store = session_cipher(db).keys
    wanted = {
        (person_id, holder): index
        for index, (person_id, holders) in enumerate(people)
        for holder in holders_with_the_log(person_id, holders)
    }
    persons = sorted({person_id for person_id, _holders in people})
    holders = sorted({holder for _person, holder in wanted})
    # Read and shredded set-based, not loaded: a purge shreds thousands of keys.
    key_ids: list[str] = []
    live: list[str] = []
    shredded = [0] * len(people)
    for chunk in chunks(persons):
        for key_id, person_id, holder, live_key in db.execute(
            select(
                DataKey.id, DataKey.person_id, DataKey.holder, DataKey.wrapped.is_not(None)
            ).where(one_of(db, DataKey.person_id, chunk), one_of(db, DataKey.holder, holders))
        ):
            index = wanted.get((person_id, holder))
            if index is None:
                continue
            key_ids.append(key_id)
            if live_key:
                live.append(key_id)
                shredded[index] += 1
    store.shred_many(db, live)
    statements = _statements(db.get_bind().dialect.name)
    if key_ids and statements.probe is not None:
        # (The probe repeats the list once per table: still inside the limit at 500.)
        for chunk in chunks(key_ids):
            # One query finds the tables that hold fields under these keys (usually one or
            # two of the twenty that could); only those are emptied.
            keys = statements.keys(chunk)
            for name in db.execute(statements.probe, {"keys": keys}).scalars().all():
                db.execute(statements.empty[name], {"keys": keys})
        db.expire_all()  # rows loaded before now still hold the sealed values in memory
    return shredded
