"""The daily allocation: load the morning's registrations with each person's history, run
the pure allocation (referral.night_allocation), and store the run once, as it was made.

A run is immutable: its canonical inputs, their digest, the seed and its commitment, the
algorithm's version and the full result (ranking with each person's terms, places, and the
reserve with the reason each was not placed). `verify_run` reruns the algorithm on what was
stored and compares; the published ranking names card numbers only. The places a run gives
are rows of their own (night_places), so a later no-show changes them, never the run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from audit.actions import Action
from audit.record import Entry, record, record_many
from config import Settings
from referral.actors import Actor
from referral.clock import local_day
from referral.db.encryption import session_cipher
from referral.db.nights import (
    AllocationRun,
    NightPerson,
    NightPlace,
    NightRegistration,
    RegistrationDay,
)
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, NotFound
from referral.i18n import _
from referral.night_allocation import (
    AllocationInputs,
    AllocationResult,
    Parameters,
    Placement,
    PriorityTerms,
    RankedPerson,
    Registration,
    Unplaced,
    allocate,
    canonical_json,
    inputs_from_json,
)
from referral.night_allocation import Shelter as ShelterPlaces
from referral.night_calendar import next_registration_day
from referral.policy import Permission, require
from referral.services.nights import capacity
from referral.services.nights.registration import day_record, nights_of, window_of

_PLACE_GENDERS = {"woman": "woman", "man": "man"}  # "other" and unknown: unreserved places


def parameters_of(settings: Settings) -> Parameters:
    return Parameters(
        days_since_cap=settings.nights_days_since_cap,
        max_consecutive_nights=settings.nights_max_consecutive,
        max_nights_per_30_days=settings.nights_max_per_30_days,
    )


def result_json(result: AllocationResult) -> str:
    """The result with a single spelling, as stored and as compared by `verify_run`."""
    document = {
        "algorithm_version": result.algorithm_version,
        "inputs_digest": result.inputs_digest,
        "seed_commitment": result.seed_commitment,
        "day": result.day.isoformat(),
        "nights": [n.isoformat() for n in result.nights],
        "ranking": [
            {
                "rank": p.rank,
                "card_number": p.card_number,
                "override": p.terms.override_reason,
                "at_cap": p.terms.at_cap,
                "days_since_last_night": p.terms.days_since_last_night,
                "nights_last_30_days": p.terms.nights_last_30_days,
                "draw": p.terms.draw,
            }
            for p in result.ranking
        ],
        "placements": [
            {
                "card_number": p.card_number,
                "shelter_id": p.shelter_id,
                "place_kind": p.place_kind,
                "nights": [n.isoformat() for n in p.nights],
            }
            for p in result.placements
        ],
        "reserve": [
            {"card_number": u.card_number, "rank": u.rank, "reason": u.reason}
            for u in result.reserve
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class _History:
    last_night: date | None
    nights_last_30_days: int
    consecutive_nights: int


def _histories(
    uow: UnitOfWork, person_ids: Sequence[str], day: date, parameters: Parameters
) -> dict[str, _History]:
    """Each person's nights before `day` as the ranking counts them: a no-show is a night
    not had. Read back only as far as any term looks."""
    look_back = max(parameters.days_since_cap, 30, parameters.max_consecutive_nights) + 1
    nights: dict[str, set[date]] = {person_id: set() for person_id in person_ids}
    if person_ids:
        for person_id, night in uow.session.execute(
            select(NightPlace.person_id, NightPlace.night).where(
                NightPlace.person_id.in_(list(person_ids)),
                NightPlace.night < day,
                NightPlace.night >= day - timedelta(days=look_back),
                NightPlace.status.in_(capacity.GIVEN),
            )
        ):
            if person_id is not None:
                nights[person_id].add(night)
    histories = {}
    for person_id, had in nights.items():
        consecutive = 0
        while day - timedelta(days=consecutive + 1) in had:
            consecutive += 1
        histories[person_id] = _History(
            last_night=max(had) if had else None,
            nights_last_30_days=sum(1 for n in had if n >= day - timedelta(days=30)),
            consecutive_nights=consecutive,
        )
    return histories


def _holding(uow: UnitOfWork, person_ids: Sequence[str], nights: Sequence[date]) -> set[str]:
    """Who already holds a place on one of these nights (not eligible again)."""
    if not person_ids:
        return set()
    return {
        person_id
        for person_id in uow.session.scalars(
            select(NightPlace.person_id).where(
                NightPlace.person_id.in_(list(person_ids)),
                NightPlace.night.in_(list(nights)),
                NightPlace.status.in_(capacity.GIVEN),
            )
        )
        if person_id is not None
    }


def _shelter_places(uow: UnitOfWork, nights: Sequence[date]) -> tuple[ShelterPlaces, ...]:
    """The shelters open on every night, each with the places free on all of them: the
    fewest of the nights (a place given is a bed for every night the allocation covers),
    less any already given there, unreserved ones first."""
    offered = []
    for shelter in capacity.shelters_open(uow, nights, lock=True):
        per_night = capacity.places_on(uow, shelter, nights)
        free = {"women": [], "men": [], "unreserved": []}  # type: dict[str, list[int]]
        for night, places in per_night.items():
            given = capacity.given_by_kind(uow, shelter.id, night)
            for kind in free:
                free[kind].append(max(0, places.of_kind(kind) - given.get(kind, 0)))
        women, men, unreserved = (min(free[k]) for k in ("women", "men", "unreserved"))
        offered.append(ShelterPlaces(shelter.id, women + men + unreserved, women, men))
    return tuple(offered)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    day: date
    nights: tuple[date, ...]
    registered: int
    placed: int
    turned_away: int
    seed: str
    seed_commitment: str
    inputs_digest: str


def run_allocation(uow: UnitOfWork, actor: Actor, settings: Settings, now: datetime) -> RunSummary:
    """Allocate this morning's places. Once a day: a second run answers 409. Run when the
    window closes (`flask nights allocate` from a timer) or by the coordinator, which
    closes registration for the morning."""
    require(actor, Permission.NIGHT_COORDINATE)
    today = local_day(now)
    window = window_of(settings).window_on(today)
    if window is None:
        raise Conflict(_("Today is not a registration day."), field="day")
    if now < window.opens_at:
        raise Conflict(_("The registration window has not opened yet."), field="day")
    day = day_record(uow, today, lock=True)  # registrations of the morning wait for this
    if day.allocated_at is not None:
        raise Conflict(_("This morning's places have been allocated already."), field="day")
    nights = nights_of(today, settings)
    parameters = parameters_of(settings)
    rows = list(
        uow.session.execute(
            select(NightRegistration, NightPerson)
            .join(NightPerson, NightPerson.id == NightRegistration.person_id)
            .where(NightRegistration.day_id == day.id, NightPerson.purged_at.is_(None))
        )
    )
    person_ids = [person.id for _registration, person in rows]
    # Every registrant's key at once (each person has their own): read one by one, the
    # genders below cost a query each (bench/nights_run_bench.py).
    session_cipher(uow.session).keys.load_many(
        uow.session, (person.data_key_id for _registration, person in rows)
    )
    holding = _holding(uow, person_ids, nights)
    histories = _histories(uow, person_ids, today, parameters)
    excluded = capacity.exclusions_of(uow, person_ids, nights)
    eligible = [(r, p) for r, p in rows if p.id not in holding]
    registrations = tuple(
        Registration(
            card_number=person.card_number or "",
            gender=_PLACE_GENDERS.get(person.gender or ""),  # type: ignore[arg-type]
            override_reason=registration.override_kind,
            last_night=histories[person.id].last_night,
            nights_last_30_days=histories[person.id].nights_last_30_days,
            consecutive_nights=histories[person.id].consecutive_nights,
            excluded_shelters=excluded.get(person.id, frozenset()),
        )
        for registration, person in eligible
    )
    inputs = AllocationInputs(
        today, nights, registrations, _shelter_places(uow, nights), parameters
    )
    seed_hex = day.seed
    assert seed_hex is not None
    result = allocate(inputs, bytes.fromhex(seed_hex))
    the_run = AllocationRun(
        day_id=day.id,
        day=today,
        algorithm_version=result.algorithm_version,
        inputs_digest=result.inputs_digest,
        seed=seed_hex,
        seed_commitment=result.seed_commitment,
        inputs=canonical_json(inputs),
        result=result_json(result),
        registered=len(rows),
        placed=len(result.placements),
        turned_away=len(result.reserve),
        ran_by=actor.user_id,
    )
    uow.session.add(the_run)
    uow.session.flush()
    person_of = {person.card_number: person for _registration, person in eligible}
    uow.session.add_all(
        NightPlace(
            run_id=the_run.id,
            person_id=person_of[placement.card_number].id,
            shelter_id=placement.shelter_id,
            night=night,
            place_kind=placement.place_kind,
        )
        for placement in result.placements
        for night in placement.nights
    )
    day.revealed_seed = seed_hex
    day.allocated_at = now
    # The next registration day's draw, committed now: its commitment is on the result page
    # from this afternoon, long before anyone can register for it.
    day_record(uow, next_registration_day(today))
    uow.session.flush()
    record(uow.session, actor, Action.NIGHT_ALLOCATE, object_type="night_run", object_id=the_run.id)
    # Each person's gender and history were read for the ranking: in their access history.
    record_many(
        uow.session,
        actor,
        [
            Entry(
                Action.NIGHT_ALLOCATE,
                object_type="night_run",
                object_id=the_run.id,
                subject=registration.key_scope(),
            )
            for registration, _person in rows
        ],
    )
    summary = RunSummary(
        the_run.id,
        today,
        nights,
        the_run.registered,
        the_run.placed,
        the_run.turned_away,
        seed_hex,
        the_run.seed_commitment,
        the_run.inputs_digest,
    )
    uow.commit()
    return summary


@dataclass(frozen=True)
class Verification:
    day: date
    inputs_digest_matches: bool
    commitment_matches: bool
    result_matches: bool

    @property
    def ok(self) -> bool:
        return self.inputs_digest_matches and self.commitment_matches and self.result_matches


def verify_run(uow: UnitOfWork, actor: Actor, day: date) -> Verification:
    """Rerun the stored run of `day` on its stored inputs and seed: the same algorithm must
    give the same result, the inputs their digest, and the seed the commitment shown."""
    require(actor, Permission.NIGHT_COORDINATE)
    the_run = run_of(uow, day)
    if the_run.inputs is None or the_run.result is None:
        raise Conflict(_("This run's inputs have been purged."), field="day")
    inputs = inputs_from_json(the_run.inputs)
    seed = bytes.fromhex(the_run.seed)
    rerun = allocate(inputs, seed)
    registration_day = uow.session.get(RegistrationDay, the_run.day_id)
    assert registration_day is not None
    record(uow.session, actor, Action.NIGHT_VERIFY, object_type="night_run", object_id=the_run.id)
    uow.commit()
    return Verification(
        day=day,
        inputs_digest_matches=rerun.inputs_digest == the_run.inputs_digest,
        commitment_matches=hashlib.sha256(seed).hexdigest()
        == the_run.seed_commitment
        == registration_day.commitment,
        result_matches=result_json(rerun) == the_run.result,
    )


def result_from_json(text: str) -> AllocationResult:
    """The result back from `result_json` (the stored run), to work on after a no-show."""
    document = json.loads(text)
    return AllocationResult(
        algorithm_version=document["algorithm_version"],
        inputs_digest=document["inputs_digest"],
        seed_commitment=document["seed_commitment"],
        day=date.fromisoformat(document["day"]),
        nights=tuple(date.fromisoformat(n) for n in document["nights"]),
        ranking=tuple(
            RankedPerson(
                p["rank"],
                p["card_number"],
                PriorityTerms(
                    p["override"],
                    p["at_cap"],
                    p["days_since_last_night"],
                    p["nights_last_30_days"],
                    p["draw"],
                ),
            )
            for p in document["ranking"]
        ),
        placements=tuple(
            Placement(
                p["card_number"],
                p["shelter_id"],
                p["place_kind"],
                tuple(date.fromisoformat(n) for n in p["nights"]),
            )
            for p in document["placements"]
        ),
        reserve=tuple(
            Unplaced(u["card_number"], u["rank"], u["reason"]) for u in document["reserve"]
        ),
    )


def run_of(uow: UnitOfWork, day: date) -> AllocationRun:
    the_run = uow.session.scalar(select(AllocationRun).where(AllocationRun.day == day))
    if the_run is None:
        raise NotFound(_("No allocation was run on this day."), field="day")
    return the_run


def ensure_day(uow: UnitOfWork, settings: Settings, now: datetime) -> date | None:
    """Draw today's seed if today is a registration day (`flask nights open`, before the
    window): the commitment is then on show before anyone can register."""
    today = local_day(now)
    if window_of(settings).window_on(today) is None:
        return None
    day_record(uow, today)
    uow.commit()
    return today
