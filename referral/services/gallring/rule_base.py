"""What every purge rule is: its units (one person's data under one holder), the days they
fall due, and the steps the engine (services.gallring.engine) takes with a batch of them. The
rules themselves are declared in services.gallring.rules and, per programme, beside it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, inspect, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.orm.util import identity_key

from config import Settings
from referral.db.base import Base, chunks, one_of
from referral.db.retention import PurgeRecord
from referral.db.uow import UnitOfWork
from referral.services.gallring.residue import Residue
from referral.services.kept_statistics import Tally


@dataclass(frozen=True)
class Unit:
    """One person's data under one holder, due for purge on `due_on`."""

    rule: str
    unit_id: str
    person_id: str
    holders: tuple[str, ...]
    ended_at: datetime  # when the retention clock started
    due_on: date

    @property
    def reference(self) -> str:
        """What the plan shows: the unit's short reference, never a name."""
        return self.unit_id[:8]


def years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def not_purged(rule: str, unit_column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    return (
        ~select(PurgeRecord.id)
        .where(PurgeRecord.rule == rule, PurgeRecord.unit_id == unit_column)
        .exists()
    )


class PurgeRule(ABC):
    """One record type's retention: its units, their due days, what statistics keep."""

    name: str
    programme: str | None
    # The row a unit is about: locked while the unit is purged, and by whatever would hold
    # it meanwhile (a hold), so that nothing slips in between the check and the purge.
    anchor: type[Base]
    # What the page calls the record, and its basis there (translated; its %(period)s is
    # `retention` in words, "30 dagar" or "1 dag"); `basis` is the same in English, as the
    # plan command prints it.
    label: LazyString
    help: LazyString
    basis: str

    def retention(self, settings: Settings) -> dict[str, int]:
        """The configured period, for `help`'s %(period)s: {"days": n} or {"years": n}."""
        return {}

    @abstractmethod
    def _units(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str] | None
    ) -> Iterator[Unit]:
        """The units whose retention clock runs (due or not yet), not yet purged: every one,
        or only those of `unit_ids`."""

    def units(self, uow: UnitOfWork, settings: Settings, today: date) -> Iterator[Unit]:
        return self._units(uow, settings, today, None)

    def units_by_id(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str]
    ) -> dict[str, Unit]:
        """The units afresh, inside the purge's own transaction (a unit no longer one is
        missing)."""
        found: dict[str, Unit] = {}
        for chunk in chunks(unit_ids):
            found.update((unit.unit_id, unit) for unit in self._units(uow, settings, today, chunk))
        return found

    def unit(self, uow: UnitOfWork, settings: Settings, today: date, unit_id: str) -> Unit | None:
        return self.units_by_id(uow, settings, today, [unit_id]).get(unit_id)

    def lock(self, uow: UnitOfWork, unit_ids: Sequence[str]) -> None:
        """Lock the units' rows until commit, read afresh (SELECT … FOR UPDATE; SQLite's
        writers take turns anyway)."""
        key = inspect(self.anchor).primary_key[0]
        for chunk in chunks(unit_ids):
            uow.session.scalars(
                select(self.anchor)
                .where(one_of(uow.session, key, chunk))
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()

    @abstractmethod
    def residues(self, uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, Residue]:
        """What statistics keep of each unit, by unit id (read before its keys go)."""

    def kept_tallies(self, uow: UnitOfWork, units: Sequence[Unit]) -> list[Tally]:
        """What the activity report counts of these units that the purge would otherwise
        take with them (services.kept_statistics): none unless a rule says so."""
        return []

    def needing_return(self, uow: UnitOfWork, units: Sequence[Unit]) -> set[str]:
        """The units of which social services must receive a file before they are purged."""
        return set()

    def unreturned(self, uow: UnitOfWork, units: Sequence[Unit]) -> list[Unit]:
        """Of these ended units (due or not yet), those that have no file returned to social
        services yet, of a rule that returns files (`needing_return` says which need one).
        A run returns them as soon as they end (domain.md §5: on completion the data is
        purged or returned), so the district has its file the night after, and the purge,
        when the retention is over, finds it delivered."""
        return []

    def remove(self, uow: UnitOfWork, units: Sequence[Unit]) -> None:  # noqa: B027
        """Rows to delete or detach before the erasure (none by default: rows stay, emptied)."""

    def stamp(self, uow: UnitOfWork, units: Sequence[Unit], now: datetime) -> None:  # noqa: B027
        """Mark the rows that outlive the purge as purged (services.loading hides them)."""


R = TypeVar("R", bound=Base)


def locked(uow: UnitOfWork, model: type[R], units: Sequence[Unit]) -> Iterator[tuple[Unit, R]]:
    """Each unit with its anchor row, which the purge locked (and so loaded) already: these
    are look-ups in the session, not queries."""
    for unit in units:
        row = uow.session.get(model, unit.unit_id)
        assert row is not None  # locked by the purge
        yield unit, row


def in_session(db: Session, model: type[R], ids: Iterable[str]) -> dict[str, R]:
    """The rows of `ids` by id: those the batch has read already (the returned files read
    the children the residues need) from the session, the others in one query per 500."""
    found: dict[str, R] = {}
    missing: list[str] = []
    for row_id in sorted(set(ids)):
        row = db.identity_map.get(identity_key(model, row_id))
        if row is None:
            missing.append(row_id)
        else:
            found[row_id] = row
    key = inspect(model).primary_key[0]
    for chunk in chunks(missing):
        for row in db.scalars(select(model).where(one_of(db, key, chunk))):
            identity = inspect(row).identity
            assert identity is not None  # loaded, so persistent
            found[str(identity[0])] = row
    return found


def stamp_purged(uow: UnitOfWork, model: type[Base], units: Sequence[Unit], now: datetime) -> None:
    """Stamp the units' rows purged, one UPDATE per 500 (the erasure expired the rows the
    purge had loaded: setting them one by one would read each again first)."""
    key = inspect(model).primary_key[0]
    for chunk in chunks([unit.unit_id for unit in units]):
        uow.session.execute(
            update(model).where(one_of(uow.session, key, chunk)).values(purged_at=now)
        )
