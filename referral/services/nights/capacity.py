"""What a shelter offers on a night, and what is already given of it: read by the allocation,
the coordinator's capacity changes and the overview alike, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from referral.db.nights import CapacityChange, Exclusion, NightPlace, PlaceStatus, Shelter
from referral.db.uow import UnitOfWork

# A place counts as given unless it was forfeited by a no-show.
GIVEN = (PlaceStatus.ALLOCATED.value, PlaceStatus.CHECKED_IN.value)


@dataclass(frozen=True)
class Places:
    places: int
    reserved_for_women: int
    reserved_for_men: int

    def of_kind(self, kind: str) -> int:
        if kind == "women":
            return self.reserved_for_women
        if kind == "men":
            return self.reserved_for_men
        return self.places - self.reserved_for_women - self.reserved_for_men


def is_open(shelter: Shelter, night: date) -> bool:
    return shelter.opens_on <= night and (shelter.closes_on is None or night <= shelter.closes_on)


def shelters_open(uow: UnitOfWork, nights: Sequence[date], *, lock: bool = False) -> list[Shelter]:
    """The shelters open on every one of `nights`, by id (the allocation's order). With
    `lock`, their rows are locked until commit: the allocation and a capacity change (which
    locks its shelter) take turns, so neither reads places the other is changing."""
    first, last = min(nights), max(nights)
    query = (
        select(Shelter)
        .where(
            Shelter.opens_on <= first,
            or_(Shelter.closes_on.is_(None), Shelter.closes_on >= last),
        )
        .order_by(Shelter.id)
    )
    return list(uow.session.scalars(query.with_for_update() if lock else query))


def places_on(uow: UnitOfWork, shelter: Shelter, nights: Iterable[date]) -> dict[date, Places]:
    """Each night's places: the latest change for that night if the coordinator made one,
    else the shelter's usual places."""
    wanted = sorted(set(nights))
    usual = Places(shelter.places, shelter.reserved_for_women, shelter.reserved_for_men)
    changed: dict[date, Places] = {}
    if wanted:
        for change in uow.session.scalars(
            select(CapacityChange)
            .where(CapacityChange.shelter_id == shelter.id, CapacityChange.night.in_(wanted))
            .order_by(CapacityChange.changed_at, CapacityChange.id)
        ):
            changed[change.night] = Places(
                change.places, change.reserved_for_women, change.reserved_for_men
            )
    return {night: changed.get(night, usual) for night in wanted}


def given_by_kind(uow: UnitOfWork, shelter_id: str, night: date) -> dict[str, int]:
    """The places given in `shelter_id` on `night`, by kind (women, men, unreserved)."""
    rows = uow.session.execute(
        select(NightPlace.place_kind, func.count())
        .where(
            NightPlace.shelter_id == shelter_id,
            NightPlace.night == night,
            NightPlace.status.in_(GIVEN),
        )
        .group_by(NightPlace.place_kind)
    )
    return {kind: int(n) for kind, n in rows}


def exclusions_of(
    uow: UnitOfWork, person_ids: Iterable[str], nights: Sequence[date]
) -> dict[str, frozenset[str]]:
    """The shelters that have excluded each person on any of `nights` (not lifted)."""
    ids = list(set(person_ids))
    if not ids or not nights:
        return {}
    found: dict[str, set[str]] = {}
    for person_id, shelter_id in uow.session.execute(
        select(Exclusion.person_id, Exclusion.shelter_id).where(
            Exclusion.person_id.in_(ids),
            Exclusion.lifted_at.is_(None),
            Exclusion.starts_on <= max(nights),
            Exclusion.expires_on >= min(nights),
        )
    ):
        found.setdefault(person_id, set()).add(shelter_id)
    return {person_id: frozenset(shelters) for person_id, shelters in found.items()}
