"""Programme C's night places (issue 14, seed 002 §2.6.1, §2.9): who gets tonight's places.

A pure function of values: the morning's registrations, the shelters' places, the day, the
nights the allocation covers and a 32-byte seed. No clock, no database; the service loads the
rows, calls `allocate` and stores the inputs and the result, and `flask nights verify-run DATE`
calls it again on the stored inputs and compares (frozen dataclasses compare by value).

Ranking, most urgent first:
  (a) an override set by staff with a reason (danger to life, children involved);
  (b) a person at a cap (consecutive nights, nights per 30 days) after everyone not at one;
  (c) most days since the last allocated night, capped (never had one counts as the cap);
  (d) fewest nights in the last 30 days;
  (e) the daily draw u = HMAC-SHA256(seed, card number), lowest first. The seed is drawn
      when the window opens and only its SHA-256 (`commitment`) is shown before anyone
      registers, so nobody can steer the draw, and a fresh seed each day means nobody loses
      every tie (a fixed per-person number makes the same people lose every time).
The card number breaks the (never seen) case of two equal draws, so the order is total and
independent of the order the rows were loaded in.

Filling: the people placed are the highest-ranked set that can all be placed together. In
ranking order, a person is placed when there is a place they may take (a shelter not excluded
for them, a place reserved for their gender or an unreserved one) or when one can be freed by
moving people already placed to other places *they* may take (an augmenting path, as in
bipartite matching). Without the moves, a person free to go anywhere could take the last place
in the one shelter someone ranked below them is not excluded from, and that person would be
turned away although both fit. Because these sets form a matroid, the greedy in ranking order
is exact: a person is turned away only when placing them would need the place of someone ranked
above them. Between free places, a person takes one reserved for their gender before an
unreserved one, since the unreserved place can go to anyone and the reserved one cannot; ties
between shelters go to the lower shelter id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal, get_args

ALGORITHM_VERSION = "night-allocation/1"
SEED_BYTES = 32

Gender = Literal["woman", "man"]
PlaceKind = Literal["women", "men", "unreserved"]
UnplacedReason = Literal["no_place_left", "excluded_everywhere", "no_place_open_to_them"]
"""Why a person was not placed.

- `no_place_left`: there were places they may take, all given to people ranked above them;
- `excluded_everywhere`: every shelter with places tonight has excluded them;
- `no_place_open_to_them`: the shelters they may use have only places reserved for another
  gender (or, for a person whose gender is not recorded, only reserved places).
"""

_RESERVED_FOR: Mapping[Gender, PlaceKind] = {"woman": "women", "man": "men"}


@dataclass(frozen=True)
class Parameters:
    """The caps of the ranking. The issue sets the cap on days since the last night (30);
    it leaves the two caps that keep stays short to the partnership. Seed §2.6.1: "stays must
    not become long periods" (the individuals should not stay overnight for longer periods),
    so until the cooperation group decides, a person who has had a week of consecutive nights,
    or two thirds of the last 30 nights, ranks after everyone else (but still gets a place
    left over). Not half: with twice as many people as places, half the nights is what a
    person who comes every morning gets by the rotation alone, and a cap there sent every
    such person to the back for a week at a time (bench/nights_fairness.py: five refusals in
    a row instead of two)."""

    days_since_cap: int = 30
    max_consecutive_nights: int = 7
    max_nights_per_30_days: int = 20

    def __post_init__(self) -> None:
        if min(self.days_since_cap, self.max_consecutive_nights, self.max_nights_per_30_days) < 1:
            raise ValueError("every cap must be at least 1")


@dataclass(frozen=True)
class Registration:
    """One person's registration this morning, with their history as the service counts it.

    `consecutive_nights` are the allocated nights in a row up to tonight (0 when last night
    was not one); `override_reason` is set only by staff, with the reason stated."""

    card_number: str
    gender: Gender | None
    override_reason: str | None
    last_night: date | None
    nights_last_30_days: int
    consecutive_nights: int
    excluded_shelters: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.card_number:
            raise ValueError("a registration needs a card number")
        if self.gender is not None and self.gender not in get_args(Gender):
            raise ValueError(f"unknown gender {self.gender!r} on card {self.card_number}")
        if self.override_reason is not None and not self.override_reason.strip():
            raise ValueError(f"an override needs a reason (card {self.card_number})")
        if self.nights_last_30_days < 0 or self.consecutive_nights < 0:
            raise ValueError(f"night counts cannot be negative (card {self.card_number})")


@dataclass(frozen=True)
class Shelter:
    """A shelter's places for the nights of this allocation (seed §2.9: some may be reserved
    for women or for men; the rest are open to anyone)."""

    id: str
    places: int
    reserved_for_women: int = 0
    reserved_for_men: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a shelter needs an id")
        if min(self.places, self.reserved_for_women, self.reserved_for_men) < 0:
            raise ValueError(f"shelter {self.id}: places cannot be negative")
        if self.reserved_for_women + self.reserved_for_men > self.places:
            raise ValueError(f"shelter {self.id}: more places reserved than it has")

    def capacity(self, kind: PlaceKind) -> int:
        if kind == "women":
            return self.reserved_for_women
        if kind == "men":
            return self.reserved_for_men
        return self.places - self.reserved_for_women - self.reserved_for_men


@dataclass(frozen=True)
class AllocationInputs:
    """Everything the allocation reads except the seed (which has its own commitment)."""

    day: date
    nights: tuple[date, ...]
    registrations: tuple[Registration, ...]
    shelters: tuple[Shelter, ...]
    parameters: Parameters = field(default_factory=Parameters)

    def __post_init__(self) -> None:
        if not self.nights:
            raise ValueError("an allocation covers at least one night")
        if any(b <= a for a, b in zip(self.nights, self.nights[1:], strict=False)):
            raise ValueError("the nights must be distinct and in order")
        if self.nights[0] < self.day:
            raise ValueError("an allocation cannot cover a night before its day")
        cards = [r.card_number for r in self.registrations]
        if len(set(cards)) != len(cards):
            raise ValueError("a card number is registered twice")
        ids = [s.id for s in self.shelters]
        if len(set(ids)) != len(ids):
            raise ValueError("a shelter is listed twice")


@dataclass(frozen=True)
class PriorityTerms:
    """What placed a person where they are in the ranking, as published by card number."""

    override_reason: str | None
    at_cap: bool
    days_since_last_night: int
    nights_last_30_days: int
    draw: str  # hex HMAC-SHA256(seed, card number)

    def sort_key(self) -> tuple[bool, bool, int, int, str]:
        return (
            self.override_reason is None,
            self.at_cap,
            -self.days_since_last_night,
            self.nights_last_30_days,
            self.draw,
        )


@dataclass(frozen=True)
class RankedPerson:
    rank: int  # 1 is the most urgent
    card_number: str
    terms: PriorityTerms


@dataclass(frozen=True)
class Placement:
    card_number: str
    shelter_id: str
    place_kind: PlaceKind
    nights: tuple[date, ...]


@dataclass(frozen=True)
class Unplaced:
    card_number: str
    rank: int
    reason: UnplacedReason


@dataclass(frozen=True)
class AllocationResult:
    """A run: the ranking with everyone's terms, the places in ranking order, and the reserve
    list (everyone not placed, in ranking order, with the reason)."""

    algorithm_version: str
    inputs_digest: str
    seed_commitment: str
    day: date
    nights: tuple[date, ...]
    ranking: tuple[RankedPerson, ...]
    placements: tuple[Placement, ...]
    reserve: tuple[Unplaced, ...]

    def placement_of(self, card_number: str) -> Placement | None:
        return next((p for p in self.placements if p.card_number == card_number), None)


@dataclass(frozen=True)
class NoShowOutcome:
    """What happened to one shelter's places not taken tonight: who lost them, who moved in
    from the reserve, which places stay empty, and the result as it stands afterwards (to pass
    to the next call)."""

    shelter_id: str
    night: date
    forfeited: tuple[str, ...]
    moved_in: tuple[Placement, ...]
    left_empty: tuple[PlaceKind, ...]
    result: AllocationResult


# -- commitment and digest ---------------------------------------------------------------


def commitment(seed: bytes) -> str:
    """The SHA-256 of the seed, shown on the registration page before anyone registers."""
    _check_seed(seed)
    return hashlib.sha256(seed).hexdigest()


def draw(seed: bytes, card_number: str) -> str:
    """The daily draw of one card: anyone with the revealed seed can recompute it."""
    return hmac.digest(seed, card_number.encode("utf-8"), "sha256").hex()


def canonical_json(inputs: AllocationInputs) -> str:
    """The inputs as JSON with a single spelling: registrations by card number, shelters by
    id, exclusions sorted, no whitespace. What the service stores and the digest covers."""
    document = {
        "day": inputs.day.isoformat(),
        "nights": [n.isoformat() for n in inputs.nights],
        "parameters": {
            "days_since_cap": inputs.parameters.days_since_cap,
            "max_consecutive_nights": inputs.parameters.max_consecutive_nights,
            "max_nights_per_30_days": inputs.parameters.max_nights_per_30_days,
        },
        "registrations": [
            {
                "card_number": r.card_number,
                "gender": r.gender,
                "override_reason": r.override_reason,
                "last_night": r.last_night.isoformat() if r.last_night else None,
                "nights_last_30_days": r.nights_last_30_days,
                "consecutive_nights": r.consecutive_nights,
                "excluded_shelters": sorted(r.excluded_shelters),
            }
            for r in sorted(inputs.registrations, key=lambda r: r.card_number)
        ],
        "shelters": [
            {
                "id": s.id,
                "places": s.places,
                "reserved_for_women": s.reserved_for_women,
                "reserved_for_men": s.reserved_for_men,
            }
            for s in sorted(inputs.shelters, key=lambda s: s.id)
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def inputs_from_json(text: str) -> AllocationInputs:
    """The inputs back from `canonical_json`, for rerunning a stored run."""
    document: dict[str, Any] = json.loads(text)
    return AllocationInputs(
        day=date.fromisoformat(document["day"]),
        nights=tuple(date.fromisoformat(n) for n in document["nights"]),
        registrations=tuple(
            Registration(
                card_number=r["card_number"],
                gender=r["gender"],
                override_reason=r["override_reason"],
                last_night=date.fromisoformat(r["last_night"]) if r["last_night"] else None,
                nights_last_30_days=r["nights_last_30_days"],
                consecutive_nights=r["consecutive_nights"],
                excluded_shelters=frozenset(r["excluded_shelters"]),
            )
            for r in document["registrations"]
        ),
        shelters=tuple(Shelter(**s) for s in document["shelters"]),
        parameters=Parameters(**document["parameters"]),
    )


def inputs_digest(inputs: AllocationInputs) -> str:
    return hashlib.sha256(canonical_json(inputs).encode("utf-8")).hexdigest()


def _check_seed(seed: bytes) -> None:
    if len(seed) != SEED_BYTES:
        raise ValueError(f"the seed must be {SEED_BYTES} bytes")


# -- ranking -----------------------------------------------------------------------------


def priority_terms(
    registration: Registration, day: date, parameters: Parameters, seed: bytes
) -> PriorityTerms:
    if registration.last_night is None:
        days_since = parameters.days_since_cap
    else:
        days_since = min(parameters.days_since_cap, max(0, (day - registration.last_night).days))
    at_cap = (
        registration.consecutive_nights >= parameters.max_consecutive_nights
        or registration.nights_last_30_days >= parameters.max_nights_per_30_days
    )
    return PriorityTerms(
        override_reason=registration.override_reason,
        at_cap=at_cap,
        days_since_last_night=days_since,
        nights_last_30_days=registration.nights_last_30_days,
        draw=draw(seed, registration.card_number),
    )


def rank(inputs: AllocationInputs, seed: bytes) -> tuple[RankedPerson, ...]:
    """Everyone registered, most urgent first, with the terms that put them there."""
    _check_seed(seed)
    terms = [
        (priority_terms(r, inputs.day, inputs.parameters, seed), r.card_number)
        for r in inputs.registrations
    ]
    terms.sort(key=lambda pair: (pair[0].sort_key(), pair[1]))
    return tuple(
        RankedPerson(rank=position, card_number=card, terms=t)
        for position, (t, card) in enumerate(terms, start=1)
    )


# -- filling -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    shelter_id: str
    kind: PlaceKind
    capacity: int


def _slots(shelters: Iterable[Shelter]) -> list[_Slot]:
    kinds: tuple[PlaceKind, ...] = ("women", "men", "unreserved")
    return [
        _Slot(s.id, kind, s.capacity(kind))
        for s in sorted(shelters, key=lambda s: s.id)
        for kind in kinds
        if s.capacity(kind) > 0
    ]


def may_take(registration: Registration, shelter_id: str, kind: PlaceKind) -> bool:
    """Whether this person may be given a place of this kind in this shelter."""
    if shelter_id in registration.excluded_shelters:
        return False
    if kind == "unreserved":
        return True
    return registration.gender is not None and _RESERVED_FOR[registration.gender] == kind


def _unplaced_reason(registration: Registration, slots: Sequence[_Slot]) -> UnplacedReason:
    shelters_with_places = {slot.shelter_id for slot in slots}
    if shelters_with_places and shelters_with_places <= registration.excluded_shelters:
        return "excluded_everywhere"
    if not any(may_take(registration, slot.shelter_id, slot.kind) for slot in slots):
        return "no_place_open_to_them" if shelters_with_places else "no_place_left"
    return "no_place_left"


class _Filling:
    """The state of a filling: who sits in which slot, grouped by the set of slots they may
    take (their "type"), so that a search for a free place moves whole types, not people —
    most people share the same few types, which keeps 2 000 people over 300 places fast."""

    def __init__(self, slots: list[_Slot]) -> None:
        self.slots = slots
        self.count = [0] * len(slots)
        self.members: list[dict[int, list[int]]] = [{} for _ in slots]
        self.type_slots: list[tuple[int, ...]] = []
        self.type_reason: list[UnplacedReason] = []
        self._type_ids: dict[tuple[Gender | None, frozenset[str]], int] = {}

    def type_of(self, registration: Registration) -> int:
        key = (registration.gender, registration.excluded_shelters)
        if key not in self._type_ids:
            allowed = [
                i
                for i, slot in enumerate(self.slots)
                if may_take(registration, slot.shelter_id, slot.kind)
            ]
            # Reserved places before unreserved ones: a reserved place can serve fewer people.
            allowed.sort(key=lambda i: self.slots[i].kind == "unreserved")
            self._type_ids[key] = len(self.type_slots)
            self.type_slots.append(tuple(allowed))
            self.type_reason.append(_unplaced_reason(registration, self.slots))
        return self._type_ids[key]

    def _free(self, slot: int) -> bool:
        return self.count[slot] < self.slots[slot].capacity

    def _put(self, person: int, person_type: int, slot: int) -> None:
        self.members[slot].setdefault(person_type, []).append(person)
        self.count[slot] += 1

    def place(self, person: int, person_type: int) -> bool:
        """Place the person, moving people already placed if that frees a place for them."""
        starts = self.type_slots[person_type]
        for slot in starts:
            if self._free(slot):
                self._put(person, person_type, slot)
                return True
        visited = [False] * len(self.slots)
        for slot in starts:
            visited[slot] = True
        came_from: dict[int, tuple[int, int]] = {}
        queue = deque(starts)
        while queue:
            current = queue.popleft()
            for moved_type, people in self.members[current].items():
                if not people:
                    continue
                for target in self.type_slots[moved_type]:
                    if visited[target]:
                        continue
                    visited[target] = True
                    came_from[target] = (current, moved_type)
                    if self._free(target):
                        start = self._shift_along(target, came_from)
                        self._put(person, person_type, start)
                        return True
                    queue.append(target)
        return False

    def _shift_along(self, free_slot: int, came_from: dict[int, tuple[int, int]]) -> int:
        """Move one person one step along the path into the free slot; answer the freed
        starting slot."""
        slot = free_slot
        while slot in came_from:
            previous, moved_type = came_from[slot]
            moved = self.members[previous][moved_type].pop()
            self.count[previous] -= 1
            self._put(moved, moved_type, slot)
            slot = previous
        return slot

    def seat_of(self) -> dict[int, int]:
        return {
            person: slot
            for slot, by_type in enumerate(self.members)
            for people in by_type.values()
            for person in people
        }


def place_in_order(
    ordered: Sequence[Registration], shelters: Sequence[Shelter], nights: tuple[date, ...]
) -> tuple[tuple[Placement, ...], tuple[tuple[Registration, UnplacedReason], ...]]:
    """Fill the places in the given order (the ranking, or another rule to compare with):
    the placements and the people left out with the reason, both in that order."""
    slots = _slots(shelters)
    filling = _Filling(slots)
    placed = [False] * len(ordered)
    types = [filling.type_of(registration) for registration in ordered]
    # The search for a type that found no place is not repeated until someone is placed,
    # since nothing changes in between.
    hopeless: set[int] = set()
    for index, person_type in enumerate(types):
        if person_type in hopeless:
            continue
        if filling.place(index, person_type):
            placed[index] = True
            hopeless.clear()
        else:
            hopeless.add(person_type)
    seats = filling.seat_of()
    placements = tuple(
        Placement(
            card_number=registration.card_number,
            shelter_id=slots[seats[index]].shelter_id,
            place_kind=slots[seats[index]].kind,
            nights=nights,
        )
        for index, registration in enumerate(ordered)
        if placed[index]
    )
    left_out = tuple(
        (registration, filling.type_reason[types[index]])
        for index, registration in enumerate(ordered)
        if not placed[index]
    )
    return placements, left_out


def allocate(inputs: AllocationInputs, seed: bytes) -> AllocationResult:
    """One allocation run; the same inputs and seed always give an equal result."""
    ranking = rank(inputs, seed)
    by_card = {r.card_number: r for r in inputs.registrations}
    placements, left_out = place_in_order(
        [by_card[person.card_number] for person in ranking], inputs.shelters, inputs.nights
    )
    rank_of = {person.card_number: person.rank for person in ranking}
    return AllocationResult(
        algorithm_version=ALGORITHM_VERSION,
        inputs_digest=inputs_digest(inputs),
        seed_commitment=commitment(seed),
        day=inputs.day,
        nights=inputs.nights,
        ranking=ranking,
        placements=placements,
        reserve=tuple(
            Unplaced(r.card_number, rank_of[r.card_number], reason) for r, reason in left_out
        ),
    )


# -- no-shows ----------------------------------------------------------------------------


def fill_no_shows(
    inputs: AllocationInputs,
    result: AllocationResult,
    shelter_id: str,
    night: date,
    no_shows: Iterable[str],
) -> NoShowOutcome:
    """Give the places of those who did not come to `shelter_id` tonight to the reserve.

    A no-show loses the place from tonight to the end of the allocation. Going down the
    reserve list in ranking order, each person who may take one of the freed places (not
    excluded from this shelter; a reserved place only for its gender) takes it from tonight
    on, one reserved for their gender first: within one shelter that order fills as many of
    the freed places as any other. Pass the outcome's result to the next call."""
    if result.inputs_digest != inputs_digest(inputs):
        raise ValueError("the result is not the run of these inputs")
    if night not in result.nights:
        raise ValueError(f"{night} is not a night of this allocation")
    missing = set(no_shows)
    holders = {
        p.card_number: p
        for p in result.placements
        if p.shelter_id == shelter_id and night in p.nights
    }
    strangers = sorted(missing - holders.keys())
    if strangers:
        raise ValueError(f"no place in {shelter_id} tonight for {', '.join(strangers)}")

    freed: list[PlaceKind] = [holders[card].place_kind for card in sorted(missing)]
    remaining_nights = tuple(n for n in result.nights if n >= night)
    by_card = {r.card_number: r for r in inputs.registrations}
    moved_in: list[Placement] = []
    for waiting in result.reserve:
        if not freed:
            break
        registration = by_card[waiting.card_number]
        choices = [kind for kind in freed if may_take(registration, shelter_id, kind)]
        if not choices:
            continue
        kind = min(choices, key=lambda k: k == "unreserved")
        freed.remove(kind)
        moved_in.append(Placement(waiting.card_number, shelter_id, kind, remaining_nights))

    kept: list[Placement] = []
    for placement in result.placements:
        if placement.card_number in missing and placement.shelter_id == shelter_id:
            before = tuple(n for n in placement.nights if n < night)
            if before:
                kept.append(replace(placement, nights=before))
        else:
            kept.append(placement)
    rank_of = {person.card_number: person.rank for person in result.ranking}
    placements = sorted([*kept, *moved_in], key=lambda p: rank_of[p.card_number])
    taken = {p.card_number for p in moved_in}
    after = replace(
        result,
        placements=tuple(placements),
        reserve=tuple(u for u in result.reserve if u.card_number not in taken),
    )
    return NoShowOutcome(
        shelter_id=shelter_id,
        night=night,
        forfeited=tuple(sorted(missing, key=lambda card: rank_of[card])),
        moved_in=tuple(moved_in),
        left_empty=tuple(sorted(freed)),
        result=after,
    )
