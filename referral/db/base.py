"""The declarative base shared by every model, with stable constraint names for migrations."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    DateTime,
    Executable,
    MetaData,
    Select,
    String,
    TypeDecorator,
    bindparam,
    func,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session

from referral import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database; SQLite would otherwise drop the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, from the service's one clock (referral.clock), so a test that freezes it freezes
    every timestamp a model stamps."""
    return clock.now()


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


IN_CHUNK = 500  # ids per IN (...): well inside every database's limit on bound parameters


def chunks(ids: Sequence[str], size: int = IN_CHUNK) -> Iterator[list[str]]:
    """`ids` in lists of at most `size`, for queries that take them as IN (...)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def uses_arrays(session: Session) -> bool:
    """PostgreSQL takes a list of ids as one array parameter (`= ANY(...)`)."""
    return session.get_bind().dialect.name == "postgresql"


def one_of(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], ids: Sequence[str]
) -> ColumnElement[bool]:
    """`column IN (ids)`, for a chunk of ids; on PostgreSQL `column IN (SELECT unnest(:ids))`,
    one array parameter instead of one per id. psycopg parses a statement with hundreds of
    placeholders anew on every execution (it caches short ones only), and the bind casts
    and the server's parse of such a statement cost more than running it. Not `= ANY(:ids)`:
    once psycopg prepares the statement (the fifth run) the server's generic plan compares
    every row of the table with every id (a seq scan, the array unhashed), where the
    semi-join hashes the ids or looks each one up in the index."""
    if uses_arrays(session):
        return column.in_(id_array(bindparam(None, list(ids), type_=ARRAY(String))))
    return column.in_(ids)


def id_param(name: str) -> BindParameter[str]:
    """A row id bound when a statement built once (at import) runs. Typed here: a foreign
    key's column takes its type from the table it names, which may not be known yet when the
    statement is built, and the parameter would then go untyped to the database."""
    return bindparam(name, type_=String(36))


# The bound parameter `in_ids` reads the ids from: `session.execute(statement, {IDS: chunk})`.
IDS = "ids"


def in_ids(
    column: ColumnElement[Any] | QueryableAttribute[Any], arrays: bool
) -> ColumnElement[bool]:
    """`column` among the ids bound as :ids when the statement runs, written as `one_of` writes
    it (`arrays`: PostgreSQL's one array parameter), for a statement built once (`ByIds`)."""
    if arrays:
        return column.in_(id_array(bindparam(IDS, type_=ARRAY(String))))
    return column.in_(bindparam(IDS, expanding=True))


_Statement = TypeVar("_Statement", bound=Executable)


class ByIds(Generic[_Statement]):
    """A statement over a chunk of ids (`in_ids`), built once per kind of database instead of
    on every call. The rules of sharing read a child's guardians, consents and keys on every
    request that shows a child; building those statements, and the cache keys SQLAlchemy
    derives from a new statement, cost a third of running them. A built statement keeps its
    cache key."""

    def __init__(self, build: Callable[[bool], _Statement]) -> None:
        self._build = build
        self._built: dict[bool, _Statement] = {}

    def __call__(self, session: Session) -> _Statement:
        arrays = uses_arrays(session)
        built = self._built.get(arrays)
        if built is None:
            built = self._built[arrays] = self._build(arrays)
        return built

    def rows(self, session: Session, ids: Iterable[str]) -> Iterator[Sequence[Any]]:
        """The statement's rows for these ids, the same statement run once per 500."""
        statement = self(session)
        for chunk in chunks(sorted(set(ids))):
            yield from session.execute(statement, {IDS: chunk})


def id_array(ids: BindParameter[Any]) -> Select[tuple[Any]]:
    """The ids of an array parameter as rows, for `column IN (...)` (PostgreSQL)."""
    return select(func.unnest(ids))
