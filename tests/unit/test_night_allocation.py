"""Programme C's night places (issue 14): who is ranked first, who gets a place, and what happens
to the places of those who do not come. Properties over generated mornings (registrations,
shelters with places reserved for women or men, exclusions, overrides), then examples."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referral.night_allocation import (
    ALGORITHM_VERSION,
    AllocationInputs,
    AllocationResult,
    Parameters,
    PlaceKind,
    Registration,
    Shelter,
    allocate,
    canonical_json,
    commitment,
    draw,
    fill_no_shows,
    inputs_digest,
    inputs_from_json,
    may_take,
)

MONDAY = date(2027, 1, 11)
FRIDAY = date(2027, 1, 15)
SHELTER_IDS = ("convictus", "frälsningsarmén", "ny-gemenskap", "stadsmissionen")
SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))
KINDS: tuple[PlaceKind, ...] = ("women", "men", "unreserved")

seeds = st.binary(min_size=32, max_size=32)


@st.composite
def shelters(draw_: st.DrawFn) -> Shelter:
    shelter_id = draw_(st.sampled_from(SHELTER_IDS))
    places = draw_(st.integers(0, 6))
    women = draw_(st.integers(0, places))
    men = draw_(st.integers(0, places - women))
    return Shelter(shelter_id, places, reserved_for_women=women, reserved_for_men=men)


def registrations(day: date) -> st.SearchStrategy[Registration]:
    return st.builds(
        Registration,
        card_number=st.integers(0, 9999).map(lambda n: f"{n:04d}"),
        gender=st.sampled_from(["woman", "man", None]),
        override_reason=st.one_of(
            st.none(),
            st.none(),
            st.none(),
            st.sampled_from(["danger_to_life", "children_involved"]),
        ),
        last_night=st.one_of(st.none(), st.integers(1, 45).map(lambda k: day - timedelta(days=k))),
        nights_last_30_days=st.integers(0, 30),
        consecutive_nights=st.integers(0, 12),
        excluded_shelters=st.frozensets(st.sampled_from(SHELTER_IDS), max_size=3),
    )


@st.composite
def mornings(draw_: st.DrawFn) -> AllocationInputs:
    day = draw_(st.sampled_from([MONDAY, FRIDAY]))
    nights = tuple(day + timedelta(days=n) for n in range(3 if day.weekday() == 4 else 1))
    return AllocationInputs(
        day=day,
        nights=nights,
        registrations=tuple(
            draw_(st.lists(registrations(day), max_size=24, unique_by=lambda r: r.card_number))
        ),
        shelters=tuple(draw_(st.lists(shelters(), max_size=4, unique_by=lambda s: s.id))),
        parameters=draw_(
            st.builds(
                Parameters,
                days_since_cap=st.integers(1, 40),
                max_consecutive_nights=st.integers(1, 10),
                max_nights_per_30_days=st.integers(1, 30),
            )
        ),
    )


def registration(card: str, **history: Any) -> Registration:
    """A registration with no history, no override and no gender recorded, unless told."""
    return replace(Registration(card, None, None, None, 0, 0), **history)


def morning(
    people: list[Registration], places: list[Shelter], day: date = MONDAY
) -> AllocationInputs:
    nights = tuple(day + timedelta(days=n) for n in range(3 if day.weekday() == 4 else 1))
    return AllocationInputs(day, nights, tuple(people), tuple(places))


def ranks(result: AllocationResult) -> dict[str, int]:
    return {person.card_number: person.rank for person in result.ranking}


def by_card(inputs: AllocationInputs) -> dict[str, Registration]:
    return {r.card_number: r for r in inputs.registrations}


def assert_places_respect_the_shelters(inputs: AllocationInputs, result: AllocationResult) -> None:
    people = by_card(inputs)
    for night in inputs.nights:
        tonight = [p for p in result.placements if night in p.nights]
        cards = [p.card_number for p in tonight]
        assert len(cards) == len(set(cards)), "someone holds two places tonight"
        for shelter in inputs.shelters:
            here = [p for p in tonight if p.shelter_id == shelter.id]
            assert len(here) <= shelter.places
            for kind in KINDS:
                assert sum(p.place_kind == kind for p in here) <= shelter.capacity(kind)
        for placement in tonight:
            assert may_take(
                people[placement.card_number], placement.shelter_id, placement.place_kind
            )
        assert {p.shelter_id for p in tonight} <= {s.id for s in inputs.shelters}


def can_all_be_placed(people: list[Registration], places: tuple[Shelter, ...]) -> bool:
    """An independent check, place by place (Kuhn's augmenting paths), of whether everyone in
    `people` can have a place at once."""
    seats = [(s.id, kind) for s in places for kind in KINDS for _ in range(s.capacity(kind))]
    holder: dict[int, int] = {}

    def seat(person: int, seen: set[int]) -> bool:
        for index, (shelter_id, kind) in enumerate(seats):
            if index in seen or not may_take(people[person], shelter_id, kind):
                continue
            seen.add(index)
            if index not in holder or seat(holder[index], seen):
                holder[index] = person
                return True
        return False

    return all(seat(person, set()) for person in range(len(people)))


# -- the places ---------------------------------------------------------------------------


@given(mornings(), seeds)
@settings(max_examples=300)
def test_nobody_holds_two_places_no_shelter_is_overfilled_and_reservations_hold(
    inputs: AllocationInputs, seed: bytes
) -> None:
    result = allocate(inputs, seed)
    assert_places_respect_the_shelters(inputs, result)
    assert all(p.nights == inputs.nights for p in result.placements)


@given(mornings(), seeds)
def test_everyone_registered_is_either_placed_or_on_the_reserve_list_in_ranking_order(
    inputs: AllocationInputs, seed: bytes
) -> None:
    result = allocate(inputs, seed)
    placed = [p.card_number for p in result.placements]
    waiting = [u.card_number for u in result.reserve]
    assert sorted(placed + waiting) == sorted(r.card_number for r in inputs.registrations)
    assert not set(placed) & set(waiting)
    rank_of = ranks(result)
    assert [rank_of[c] for c in waiting] == sorted(rank_of[c] for c in waiting)
    assert [u.rank for u in result.reserve] == [rank_of[c] for c in waiting]


@given(mornings(), seeds)
@settings(max_examples=300)
def test_nobody_is_turned_away_while_someone_ranked_below_holds_a_place_they_could_take(
    inputs: AllocationInputs, seed: bytes
) -> None:
    result = allocate(inputs, seed)
    people = by_card(inputs)
    for waiting in result.reserve:
        for placement in result.placements:
            if ranks(result)[placement.card_number] > waiting.rank:
                assert not may_take(
                    people[waiting.card_number], placement.shelter_id, placement.place_kind
                )


@given(mornings(), seeds)
@settings(max_examples=300)
def test_nobody_is_turned_away_who_fits_if_those_ranked_above_move_to_other_places(
    inputs: AllocationInputs, seed: bytes
) -> None:
    result = allocate(inputs, seed)
    people = by_card(inputs)
    rank_of = ranks(result)
    for waiting in result.reserve:
        above = [
            people[p.card_number]
            for p in result.placements
            if rank_of[p.card_number] < waiting.rank
        ]
        assert not can_all_be_placed([*above, people[waiting.card_number]], inputs.shelters)


@given(mornings(), seeds)
def test_nobody_sits_in_an_unreserved_place_while_one_reserved_for_them_is_free(
    inputs: AllocationInputs, seed: bytes
) -> None:
    result = allocate(inputs, seed)
    people = by_card(inputs)
    for placement in result.placements:
        person = people[placement.card_number]
        if placement.place_kind != "unreserved" or person.gender is None:
            continue
        own: PlaceKind = "women" if person.gender == "woman" else "men"
        for shelter in inputs.shelters:
            taken = sum(
                p.shelter_id == shelter.id and p.place_kind == own for p in result.placements
            )
            if may_take(person, shelter.id, own):
                assert taken == shelter.capacity(own)


# -- the ranking --------------------------------------------------------------------------


@given(mornings(), seeds)
def test_an_override_always_ranks_before_everyone_without_one(
    inputs: AllocationInputs, seed: bytes
) -> None:
    ranking = allocate(inputs, seed).ranking
    overridden = [p.terms.override_reason is not None for p in ranking]
    assert overridden == sorted(overridden, reverse=True)


@given(mornings(), seeds)
def test_more_days_since_the_last_night_never_ranks_after_fewer_when_neither_is_at_a_cap(
    inputs: AllocationInputs, seed: bytes
) -> None:
    ranking = allocate(inputs, seed).ranking
    for earlier, later in pairwise(ranking):
        a, b = earlier.terms, later.terms
        same_override = (a.override_reason is None) == (b.override_reason is None)
        if same_override and not a.at_cap and not b.at_cap:
            assert a.days_since_last_night >= b.days_since_last_night


@given(mornings(), seeds)
def test_a_person_at_a_cap_ranks_after_everyone_not_at_one_with_the_same_override(
    inputs: AllocationInputs, seed: bytes
) -> None:
    ranking = allocate(inputs, seed).ranking
    for with_override in (True, False):
        caps = [
            p.terms.at_cap
            for p in ranking
            if (p.terms.override_reason is not None) is with_override
        ]
        assert caps == sorted(caps)


@given(mornings(), seeds)
def test_the_published_terms_are_the_registrations_history_and_the_draw_of_the_seed(
    inputs: AllocationInputs, seed: bytes
) -> None:
    people = by_card(inputs)
    cap = inputs.parameters
    for person in allocate(inputs, seed).ranking:
        registered = people[person.card_number]
        assert person.terms.draw == draw(seed, person.card_number)
        assert person.terms.nights_last_30_days == registered.nights_last_30_days
        assert 0 <= person.terms.days_since_last_night <= cap.days_since_cap
        if registered.last_night is None:
            assert person.terms.days_since_last_night == cap.days_since_cap
        assert person.terms.at_cap == (
            registered.consecutive_nights >= cap.max_consecutive_nights
            or registered.nights_last_30_days >= cap.max_nights_per_30_days
        )


# -- reproducible and checkable -----------------------------------------------------------


@given(mornings(), seeds, st.randoms(use_true_random=False))
def test_the_same_inputs_in_any_order_give_the_same_result_and_digest(
    inputs: AllocationInputs, seed: bytes, shuffler: random.Random
) -> None:
    shuffled_people = list(inputs.registrations)
    shuffled_places = list(inputs.shelters)
    shuffler.shuffle(shuffled_people)
    shuffler.shuffle(shuffled_places)
    reordered = AllocationInputs(
        inputs.day, inputs.nights, tuple(shuffled_people), tuple(shuffled_places), inputs.parameters
    )
    assert allocate(reordered, seed) == allocate(inputs, seed)
    assert inputs_digest(reordered) == inputs_digest(inputs) == allocate(inputs, seed).inputs_digest


@given(mornings(), seeds)
def test_a_stored_run_reruns_from_its_stored_inputs_to_the_same_result(
    inputs: AllocationInputs, seed: bytes
) -> None:
    stored = canonical_json(inputs)
    again = inputs_from_json(stored)
    assert again == AllocationInputs(
        inputs.day,
        inputs.nights,
        tuple(sorted(inputs.registrations, key=lambda r: r.card_number)),
        tuple(sorted(inputs.shelters, key=lambda s: s.id)),
        inputs.parameters,
    )
    result = allocate(again, seed)
    assert result == allocate(inputs, seed)
    assert result.algorithm_version == ALGORITHM_VERSION


@given(seeds, seeds, st.integers(0, 9999).map(lambda n: f"{n:04d}"))
def test_the_draw_of_a_card_changes_with_the_seed(first: bytes, second: bytes, card: str) -> None:
    assert (draw(first, card) == draw(second, card)) == (first == second)


@given(mornings(), seeds)
def test_the_seed_revealed_with_the_result_matches_the_commitment_shown_before_registration(
    inputs: AllocationInputs, seed: bytes
) -> None:
    shown_before = commitment(seed)
    result = allocate(inputs, seed)
    assert result.seed_commitment == shown_before == hashlib.sha256(seed).hexdigest()
    assert shown_before != seed.hex()


# -- no-shows -----------------------------------------------------------------------------


@given(mornings(), seeds, st.data())
@settings(max_examples=300)
def test_places_of_no_shows_go_down_the_reserve_in_ranking_order_within_the_rules(
    inputs: AllocationInputs, seed: bytes, data: st.DataObject
) -> None:
    result = allocate(inputs, seed)
    occupied = sorted({p.shelter_id for p in result.placements})
    if not occupied:
        return
    shelter_id = data.draw(st.sampled_from(occupied))
    night = data.draw(st.sampled_from(inputs.nights))
    holders = sorted(p.card_number for p in result.placements if p.shelter_id == shelter_id)
    no_shows = data.draw(st.lists(st.sampled_from(holders), unique=True, min_size=1))
    outcome = fill_no_shows(inputs, result, shelter_id, night, no_shows)

    after = outcome.result
    assert_places_respect_the_shelters(inputs, after)
    people = by_card(inputs)
    rank_of = ranks(result)
    moved = [p.card_number for p in outcome.moved_in]
    assert set(moved) <= {u.card_number for u in result.reserve}
    assert [rank_of[c] for c in moved] == sorted(rank_of[c] for c in moved)
    assert len(outcome.moved_in) + len(outcome.left_empty) == len(no_shows)
    for placement in outcome.moved_in:
        assert placement.shelter_id == shelter_id
        assert placement.nights == tuple(n for n in inputs.nights if n >= night)
        for skipped in result.reserve:
            if skipped.rank < rank_of[placement.card_number] and skipped.card_number not in moved:
                assert not may_take(people[skipped.card_number], shelter_id, placement.place_kind)
        person = people[placement.card_number]
        if placement.place_kind == "unreserved" and person.gender is not None:
            own = "women" if person.gender == "woman" else "men"
            assert own not in outcome.left_empty, "took an open place and left their own empty"
    still_waiting = [people[u.card_number] for u in after.reserve]
    for kind in outcome.left_empty:
        assert not any(may_take(p, shelter_id, kind) for p in still_waiting)
    for card in no_shows:
        kept = after.placement_of(card)
        assert kept is None or all(n < night for n in kept.nights)


# -- examples ----------------------------------------------------------------------------


def test_a_person_who_never_had_a_night_ranks_before_one_who_had_a_night_yesterday() -> None:
    inputs = morning(
        [
            registration("1001", last_night=MONDAY - timedelta(days=1), consecutive_nights=1),
            registration("1002"),
        ],
        [Shelter("convictus", 1)],
    )
    result = allocate(inputs, SEED)
    assert [p.card_number for p in result.ranking] == ["1002", "1001"]
    assert [p.card_number for p in result.placements] == ["1002"]
    assert result.reserve[0].card_number == "1001"
    assert result.reserve[0].reason == "no_place_left"


def test_danger_to_life_comes_first_even_after_a_night_yesterday() -> None:
    inputs = morning(
        [
            registration("1001"),
            registration(
                "1002",
                override_reason="danger_to_life",
                last_night=MONDAY - timedelta(days=1),
                consecutive_nights=9,
            ),
        ],
        [Shelter("convictus", 1)],
    )
    assert [p.card_number for p in allocate(inputs, SEED).placements] == ["1002"]


def test_with_equal_days_the_person_with_fewer_nights_this_month_comes_first() -> None:
    last = MONDAY - timedelta(days=4)
    inputs = morning(
        [
            registration("1001", last_night=last, nights_last_30_days=6),
            registration("1002", last_night=last, nights_last_30_days=2),
        ],
        [Shelter("convictus", 1)],
    )
    assert [p.card_number for p in allocate(inputs, SEED).ranking] == ["1002", "1001"]


def test_a_person_at_the_cap_of_consecutive_nights_waits_but_takes_a_place_left_over() -> None:
    yesterday = MONDAY - timedelta(days=1)
    week = Parameters().max_consecutive_nights
    long_stay = registration("1001", last_night=yesterday, consecutive_nights=week)
    inputs = morning(
        [long_stay, registration("1002", last_night=yesterday, consecutive_nights=1)],
        [Shelter("convictus", 1)],
    )
    assert [p.card_number for p in allocate(inputs, SEED).placements] == ["1002"]
    roomier = morning([long_stay], [Shelter("convictus", 1)])
    result = allocate(roomier, SEED)
    assert result.ranking[0].terms.at_cap
    assert [p.card_number for p in result.placements] == ["1001"]


def test_a_woman_takes_the_place_reserved_for_women_and_leaves_the_open_place_to_a_man() -> None:
    inputs = morning(
        [registration("1001", gender="woman"), registration("1002", gender="man")],
        [Shelter("stadsmissionen", 2, reserved_for_women=1)],
    )
    result = allocate(inputs, SEED)
    assert {(p.card_number, p.place_kind) for p in result.placements} == {
        ("1001", "women"),
        ("1002", "unreserved"),
    }


def test_a_person_whose_gender_is_not_recorded_is_not_given_a_reserved_place() -> None:
    inputs = morning([registration("1001")], [Shelter("stadsmissionen", 2, reserved_for_women=2)])
    result = allocate(inputs, SEED)
    assert result.placements == ()
    assert result.reserve[0].reason == "no_place_open_to_them"


def test_a_person_excluded_from_every_shelter_is_told_so() -> None:
    inputs = morning(
        [registration("1001", excluded_shelters=frozenset({"convictus", "ny-gemenskap"}))],
        [Shelter("convictus", 3), Shelter("ny-gemenskap", 3), Shelter("empty", 0)],
    )
    assert allocate(inputs, SEED).reserve[0].reason == "excluded_everywhere"


def test_someone_free_to_go_anywhere_is_moved_so_that_someone_excluded_also_fits() -> None:
    # "1001" is ranked first and could take the last place in either shelter; "1002" may
    # only go to Convictus. Both get a place.
    inputs = morning(
        [
            registration("1001"),
            registration(
                "1002",
                last_night=MONDAY - timedelta(days=2),
                excluded_shelters=frozenset({"ny-gemenskap"}),
            ),
        ],
        [Shelter("convictus", 1), Shelter("ny-gemenskap", 1)],
    )
    result = allocate(inputs, SEED)
    assert {(p.card_number, p.shelter_id) for p in result.placements} == {
        ("1001", "ny-gemenskap"),
        ("1002", "convictus"),
    }


def test_fridays_allocation_grants_the_same_place_for_the_whole_weekend() -> None:
    inputs = morning([registration("1001")], [Shelter("convictus", 1)], day=FRIDAY)
    (placement,) = allocate(inputs, SEED).placements
    assert placement.nights == (FRIDAY, FRIDAY + timedelta(days=1), FRIDAY + timedelta(days=2))


def test_among_equals_a_different_person_loses_the_tie_on_different_days() -> None:
    equals = [registration(card) for card in ("1001", "1002", "1003")]
    placed_some_day = set()
    for day in range(30):
        daily_seed = hashlib.sha256(f"window {day}".encode()).digest()
        (placement,) = allocate(morning(equals, [Shelter("convictus", 1)]), daily_seed).placements
        placed_some_day.add(placement.card_number)
    assert placed_some_day == {"1001", "1002", "1003"}


def test_a_different_seed_gives_a_different_tie_break_but_the_same_digest() -> None:
    inputs = morning([registration(f"{n:04d}") for n in range(12)], [Shelter("convictus", 1)])
    today, tomorrow = allocate(inputs, SEED), allocate(inputs, OTHER_SEED)
    assert today.inputs_digest == tomorrow.inputs_digest
    assert [p.card_number for p in today.ranking] != [p.card_number for p in tomorrow.ranking]


def test_the_digest_changes_when_any_registration_changes() -> None:
    inputs = morning([registration("1001"), registration("1002")], [Shelter("convictus", 1)])
    changed = morning(
        [registration("1001"), registration("1002", nights_last_30_days=1)],
        [Shelter("convictus", 1)],
    )
    assert inputs_digest(inputs) != inputs_digest(changed)


def test_a_no_show_place_goes_to_the_first_on_the_reserve_who_may_take_it() -> None:
    inputs = morning(
        [
            registration("1001", gender="woman"),
            registration("1002", gender="man", last_night=MONDAY - timedelta(days=3)),
            registration("1003", gender="woman", last_night=MONDAY - timedelta(days=2)),
        ],
        [Shelter("stadsmissionen", 1, reserved_for_women=1)],
    )
    result = allocate(inputs, SEED)
    assert [u.card_number for u in result.reserve] == ["1002", "1003"]
    outcome = fill_no_shows(inputs, result, "stadsmissionen", MONDAY, ["1001"])
    assert [p.card_number for p in outcome.moved_in] == ["1003"]
    assert outcome.forfeited == ("1001",)
    assert [p.card_number for p in outcome.result.placements] == ["1003"]
    assert [u.card_number for u in outcome.result.reserve] == ["1002"]


def test_a_no_show_on_saturday_keeps_friday_night_and_gives_up_the_rest() -> None:
    inputs = morning(
        [registration("1001"), registration("1002", last_night=FRIDAY - timedelta(days=1))],
        [Shelter("convictus", 1)],
        day=FRIDAY,
    )
    saturday = FRIDAY + timedelta(days=1)
    outcome = fill_no_shows(inputs, allocate(inputs, SEED), "convictus", saturday, ["1001"])
    kept = outcome.result.placement_of("1001")
    assert kept is not None
    assert kept.nights == (FRIDAY,)
    assert outcome.moved_in[0].nights == (saturday, saturday + timedelta(days=1))


def test_a_no_show_must_hold_a_place_in_that_shelter_tonight() -> None:
    inputs = morning([registration("1001"), registration("1002")], [Shelter("convictus", 1)])
    result = allocate(inputs, SEED)
    waiting = result.reserve[0].card_number
    with pytest.raises(ValueError, match="no place in convictus"):
        fill_no_shows(inputs, result, "convictus", MONDAY, [waiting])


@pytest.mark.parametrize(
    "make",
    [
        lambda: morning([registration("1001"), registration("1001")], []),
        lambda: Shelter("convictus", 2, reserved_for_women=2, reserved_for_men=1),
        lambda: registration("1001", override_reason=" "),
        lambda: AllocationInputs(MONDAY, (MONDAY - timedelta(days=1),), (), ()),
        lambda: allocate(morning([], []), b"too short"),
    ],
    ids=[
        "a card twice",
        "more reserved than places",
        "override without reason",
        "a night before the day",
        "a short seed",
    ],
)
def test_inputs_that_cannot_be_allocated_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        make()
