"""Fairness of Programme C's night places (issue 14): 90 days of weekday-morning allocations
(Friday's covering Friday to Sunday) with about twice as many registrations as places, comparing
in the same run, on the same people and the same mornings:

  daily draw      this rule (`referral.night_allocation.allocate`, a fresh seed each morning);
  first come      first come, first served: the order people reach the desk, a random order
                  each morning (overrides still first, as staff would see to);
  fixed tie-break the same priorities, but the ties broken by a number fixed per person (the
                  same seed every morning), as the systems the anchors describe do;
  fixed number    for context: that fixed number alone, without the priorities.

All rules fill places through the same `place_in_order`, so only the order differs. The people
come and go: about 12 arrive in Stockholm a day and stay for some five weeks on average; some
register most mornings, some every other, some rarely; a quarter are women (places in two of the
four shelters are reserved for women, a few for men), a few have no gender recorded, one in
twenty is excluded from one shelter, and one registration in two hundred carries an override.
Who registers each morning is drawn once, before any allocation, so the rules face the same
queue; no-shows and holidays are not simulated.

Reported per rule, not asserted:
  longest wait      the longest run of refusals while a person kept registering (came back
                    the next weekday morning), in days from the first refusal to the morning
                    they were placed (or the day after the last refusal, when they missed a
                    morning or the 90 days ended), and in registrations; also the 95th
                    percentile of each person's longest wait in days;
  Gini              of nights per person, among everyone who registered;
  never placed      the share of people who registered at least 5 times but had no night;
  lost every tie    for the two rules ranked by the priority terms: among people who faced at
                    least 3 ties (equal on every term but the draw, some of them placed, some
                    not), the share who lost all of them.
And the speed of one allocation of 2 000 registrations over 300 places (median of repeats;
target under 100 ms). The daily draw is "clearly shorter" than a rule when its longest wait is
at most two thirds of that rule's.

What it showed (seeds 14 to 17): the daily draw's longest wait is a third of first come's, and
equal to the fixed tie-break's. The days-since term does that work: whoever loses a tie today
has one day more than today's winners tomorrow, so no tie-break can keep anyone waiting long; the
fixed number without those terms (for context) keeps some waiting for most of the 90 days.
What the daily draw changes is who loses the ties, not how long anyone waits.

Run: .venv/bin/python bench/nights_fairness.py [--seed N] [--days N]
(writes bench/results/nights-fairness.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from referral.night_allocation import (
    AllocationInputs,
    Gender,
    Registration,
    Shelter,
    allocate,
    draw,
    place_in_order,
    priority_terms,
)

HERE = Path(__file__).resolve().parent
START = date(2027, 1, 4)  # a Monday in winter, when the places are most wanted
SHELTERS = (
    Shelter("convictus", 30),
    Shelter("frälsningsarmén", 30, reserved_for_women=10),
    Shelter("ny-gemenskap", 20),
    Shelter("stadsmissionen", 40, reserved_for_women=15, reserved_for_men=5),
)
PLACES = sum(s.places for s in SHELTERS)
DEMAND_RATIO = 2.0
MEAN_STAY_DAYS = 35
# How often a person comes to the registration: (share of people, chance on a weekday morning).
HABITS = ((0.4, 0.9), (0.3, 0.5), (0.3, 0.15))
GENDERS: tuple[tuple[Gender | None, float], ...] = (("man", 0.70), ("woman", 0.25), (None, 0.05))
EXCLUDED_SHARE = 0.05
OVERRIDE_CHANCE = 0.005
NEVER_PLACED_AFTER = 5
TIES_TO_COUNT = 3
SPEED_REGISTRATIONS = 2000
SPEED_PLACES = 300
SPEED_REPEATS = 41
SPEED_GENDERS: tuple[Gender | None, ...] = ("woman", "man", "man", None)
TARGET_MS = 100.0


@dataclass
class Person:
    card_number: str
    arrives: date
    leaves: date  # first day no longer in Stockholm
    habit: float
    gender: Gender | None
    excluded: frozenset[str]


@dataclass(frozen=True)
class Morning:
    day: date
    nights: tuple[date, ...]
    arrivals: tuple[str, ...]  # who registered, in the order they reached the desk
    overrides: frozenset[str]
    seed: bytes


@dataclass
class History:
    """One rule's record of who slept where."""

    nights: dict[str, list[date]] = field(default_factory=dict)
    outcomes: dict[str, list[tuple[date, bool]]] = field(default_factory=dict)
    ties: dict[str, list[bool]] = field(default_factory=dict)  # a tie faced: lost?

    def registration(self, person: Person, day: date, override: bool) -> Registration:
        had = self.nights.get(person.card_number, [])
        last = had[-1] if had else None
        consecutive = 0
        while consecutive < len(had) and had[-1 - consecutive] == day - timedelta(
            days=consecutive + 1
        ):
            consecutive += 1
        recent = sum(1 for n in had if day - timedelta(days=30) <= n < day)
        return Registration(
            card_number=person.card_number,
            gender=person.gender,
            override_reason="children_involved" if override else None,
            last_night=last,
            nights_last_30_days=recent,
            consecutive_nights=consecutive,
            excluded_shelters=person.excluded,
        )


Choice = TypeVar("Choice")
Figures = dict[str, float | int | None]


def _pick(rng: random.Random, weighted: Sequence[tuple[Choice, float]]) -> Choice:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def people_and_mornings(rng: random.Random, days: int) -> tuple[dict[str, Person], list[Morning]]:
    """The world, drawn once: who is in Stockholm when, and who registers each morning."""
    mean_habit = sum(share * chance for share, chance in HABITS)
    present = round(DEMAND_RATIO * PLACES / mean_habit)
    arrivals_per_day = present / MEAN_STAY_DAYS
    people: dict[str, Person] = {}

    def newcomer(arrives: date) -> None:
        card = f"{len(people) + 1:05d}"
        stay = max(3, round(rng.expovariate(1 / MEAN_STAY_DAYS)))
        habit_share = [(chance, share) for share, chance in HABITS]
        excluded = (
            frozenset({rng.choice(SHELTERS).id}) if rng.random() < EXCLUDED_SHARE else frozenset()
        )
        people[card] = Person(
            card_number=card,
            arrives=arrives,
            leaves=arrives + timedelta(days=stay),
            habit=_pick(rng, habit_share),
            gender=_pick(rng, GENDERS),
            excluded=excluded,
        )

    # Those already here when the 90 days start have been here a while (a stay's remainder
    # is as long as a stay, on average, for exponential stays).
    for _ in range(present):
        newcomer(START - timedelta(days=rng.randrange(MEAN_STAY_DAYS)))
    mornings: list[Morning] = []
    for offset in range(days):
        day = START + timedelta(days=offset)
        arrivals_today = 0
        clock = rng.expovariate(arrivals_per_day)
        while clock < 1:
            arrivals_today += 1
            clock += rng.expovariate(arrivals_per_day)
        for _ in range(arrivals_today):
            newcomer(day)
        if day.weekday() >= 5:
            continue
        nights = tuple(day + timedelta(days=n) for n in range(3 if day.weekday() == 4 else 1))
        registered = [
            p.card_number
            for p in people.values()
            if p.arrives <= day < p.leaves and rng.random() < p.habit
        ]
        rng.shuffle(registered)
        overrides = frozenset(c for c in registered if rng.random() < OVERRIDE_CHANCE)
        mornings.append(Morning(day, nights, tuple(registered), overrides, rng.randbytes(32)))
    return people, mornings


Order = Callable[[AllocationInputs, Morning], list[Registration]]


def daily_draw(inputs: AllocationInputs, morning: Morning) -> list[Registration]:
    by_card = {r.card_number: r for r in inputs.registrations}
    placed = allocate(inputs, morning.seed)
    return [by_card[p.card_number] for p in placed.ranking]


def fixed_tie_break(fixed_seed: bytes) -> Order:
    def order(inputs: AllocationInputs, morning: Morning) -> list[Registration]:
        by_card = {r.card_number: r for r in inputs.registrations}
        return [by_card[p.card_number] for p in allocate(inputs, fixed_seed).ranking]

    return order


def fixed_number_only(fixed_seed: bytes) -> Order:
    """For context, not asked for: the fixed number alone, no memory of past nights."""

    def order(inputs: AllocationInputs, morning: Morning) -> list[Registration]:
        return sorted(
            inputs.registrations,
            key=lambda r: (r.override_reason is None, draw(fixed_seed, r.card_number)),
        )

    return order


def first_come(inputs: AllocationInputs, morning: Morning) -> list[Registration]:
    # `inputs.registrations` is in arrival order; a stable sort keeps it behind the overrides.
    return sorted(inputs.registrations, key=lambda r: r.override_reason is None)


def simulate(
    people: dict[str, Person], mornings: list[Morning], order: Order, ranks_by_terms: bool
) -> History:
    history = History()
    for morning in mornings:
        registrations = tuple(
            history.registration(people[card], morning.day, card in morning.overrides)
            for card in morning.arrivals
        )
        inputs = AllocationInputs(morning.day, morning.nights, registrations, SHELTERS)
        placements, _ = place_in_order(order(inputs, morning), SHELTERS, morning.nights)
        placed = {p.card_number for p in placements}
        if ranks_by_terms:
            record_ties(history, inputs, morning, placed)
        for card in morning.arrivals:
            history.outcomes.setdefault(card, []).append((morning.day, card in placed))
            if card in placed:
                history.nights.setdefault(card, []).extend(morning.nights)
    return history


def record_ties(
    history: History, inputs: AllocationInputs, morning: Morning, placed: set[str]
) -> None:
    """People equal on every term but the draw, some placed and some not, faced a tie."""
    groups: dict[tuple[object, ...], list[str]] = {}
    for registration in inputs.registrations:
        terms = priority_terms(registration, inputs.day, inputs.parameters, morning.seed)
        groups.setdefault(terms.sort_key()[:-1], []).append(registration.card_number)
    for cards in groups.values():
        if any(c in placed for c in cards) and not all(c in placed for c in cards):
            for card in cards:
                history.ties.setdefault(card, []).append(card not in placed)


def next_weekday(day: date) -> date:
    return day + timedelta(days=3 if day.weekday() == 4 else 1)


def longest_waits(outcomes: list[tuple[date, bool]]) -> tuple[int, int]:
    """A person's longest run of refusals while they kept registering: (days, registrations).

    A run goes on while they come back the next weekday morning, and ends when they are
    placed (its days reach that morning) or miss a morning (its days reach the day after
    their last refusal), so time away from the desk is not counted as waiting."""
    longest_days = longest_count = 0
    first_refused: date | None = None
    last_refused: date | None = None
    count = 0

    def close(until: date) -> None:
        nonlocal longest_days, first_refused, count
        if first_refused is not None:
            longest_days = max(longest_days, (until - first_refused).days)
        first_refused, count = None, 0

    for day, placed in outcomes:
        if last_refused is not None and day != next_weekday(last_refused):
            close(last_refused + timedelta(days=1))
        if placed:
            close(day)
            last_refused = None
            continue
        if first_refused is None:
            first_refused = day
        count += 1
        last_refused = day
        longest_count = max(longest_count, count)
    if last_refused is not None:
        close(last_refused + timedelta(days=1))
    return longest_days, longest_count


def gini(values: Sequence[int]) -> float:
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def percentile(values: Sequence[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(history: History) -> Figures:
    waits = [longest_waits(o) for o in history.outcomes.values()]
    nights = [len(history.nights.get(card, [])) for card in history.outcomes]
    regulars = [c for c, o in history.outcomes.items() if len(o) >= NEVER_PLACED_AFTER]
    never = [c for c in regulars if not history.nights.get(c)]
    tied = [lost for lost in history.ties.values() if len(lost) >= TIES_TO_COUNT]
    lost_every_tie = round(sum(all(t) for t in tied) / len(tied), 3) if tied else None
    return {
        "longest_wait_days": max(d for d, _ in waits),
        "longest_wait_registrations": max(r for _, r in waits),
        "p95_longest_wait_days": percentile([d for d, _ in waits], 0.95),
        "gini_nights_per_person": round(gini(nights), 3),
        "never_placed_share": round(len(never) / len(regulars), 4) if regulars else 0.0,
        "never_placed": len(never),
        "lost_every_tie_share": lost_every_tie,
        "people_with_3_or_more_ties": len(tied),
        "people_registered": len(history.outcomes),
        "people_registered_5_or_more": len(regulars),
        "nights_given": sum(nights),
    }


def longest_wait(figures: Figures) -> int:
    days = figures["longest_wait_days"]
    assert isinstance(days, int)
    return days


def speed(rng: random.Random) -> float:
    """Median milliseconds of one allocation of 2 000 registrations over 300 places."""
    day = START + timedelta(days=4)
    shelters = tuple(
        Shelter(f"shelter-{n}", 50, reserved_for_women=10 if n % 2 else 0, reserved_for_men=5)
        for n in range(SPEED_PLACES // 50)
    )
    registrations = tuple(
        Registration(
            card_number=f"{n:05d}",
            gender=rng.choice(SPEED_GENDERS),
            override_reason="danger_to_life" if rng.random() < 0.01 else None,
            last_night=None if rng.random() < 0.2 else day - timedelta(days=rng.randint(1, 40)),
            nights_last_30_days=rng.randint(0, 20),
            consecutive_nights=rng.randint(0, 8),
            excluded_shelters=(
                frozenset({rng.choice(shelters).id}) if rng.random() < 0.05 else frozenset()
            ),
        )
        for n in range(SPEED_REGISTRATIONS)
    )
    nights = tuple(day + timedelta(days=n) for n in range(3))
    inputs = AllocationInputs(day, nights, registrations, shelters)
    seed = rng.randbytes(32)
    timings = []
    for _ in range(SPEED_REPEATS):
        started = time.perf_counter()
        allocate(inputs, seed)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=14, help="the simulation's random seed")
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()

    rng = random.Random(args.seed)  # noqa: S311 - a repeatable simulation, not a secret
    people, mornings = people_and_mornings(rng, args.days)
    fixed_seed = rng.randbytes(32)
    rules: dict[str, Order] = {
        "daily_draw": daily_draw,
        "first_come": first_come,
        "fixed_tie_break": fixed_tie_break(fixed_seed),
        "fixed_number_only": fixed_number_only(fixed_seed),
    }
    by_terms = {"daily_draw", "fixed_tie_break"}  # the rules whose ties the terms define
    results = {
        name: report(simulate(people, mornings, order, name in by_terms))
        for name, order in rules.items()
    }
    registrations = [len(m.arrivals) for m in mornings]
    speed_ms = speed(rng)

    ours = longest_wait(results["daily_draw"])
    clearly_better = {
        name: ours <= 2 * longest_wait(results[name]) / 3
        for name in ("first_come", "fixed_tie_break")
    }

    columns = (
        ("longest wait (days)", "longest_wait_days"),
        ("(registrations)", "longest_wait_registrations"),
        ("p95 (days)", "p95_longest_wait_days"),
        ("Gini", "gini_nights_per_person"),
        (f"never placed (>= {NEVER_PLACED_AFTER})", "never_placed_share"),
        (f"lost every tie (>= {TIES_TO_COUNT})", "lost_every_tie_share"),
        ("nights", "nights_given"),
    )
    print(
        f"{len(mornings)} allocations over {args.days} days, {PLACES} places, "
        f"{statistics.mean(registrations):.0f} registrations a morning "
        f"({min(registrations)}–{max(registrations)}), {len(people)} people"
    )
    print(f"{'rule':<16}" + "".join(f"{title:>24}" for title, _ in columns))
    for name, figures in results.items():
        print(f"{name:<16}" + "".join(f"{figures[key]!s:>24}" for _, key in columns))
    print(
        f"one allocation of {SPEED_REGISTRATIONS} over {SPEED_PLACES} places: "
        f"{speed_ms:.1f} ms (median of {SPEED_REPEATS}, target < {TARGET_MS:.0f} ms)"
    )
    for name, shorter in clearly_better.items():
        print(f"the daily draw's longest wait is clearly shorter than {name}'s: {shorter}")

    result = {
        "benchmark": "nights-fairness",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "simulation": {
            "random_seed": args.seed,
            "days": args.days,
            "allocations": len(mornings),
            "places": PLACES,
            "registrations_per_morning_mean": round(statistics.mean(registrations), 1),
            "registrations_per_morning_range": [min(registrations), max(registrations)],
            "people": len(people),
            "mean_stay_days": MEAN_STAY_DAYS,
        },
        "rules": results,
        "daily_draw_longest_wait_clearly_shorter_than": clearly_better,
        "speed": {
            "registrations": SPEED_REGISTRATIONS,
            "places": SPEED_PLACES,
            "median_ms": round(speed_ms, 1),
            "repeats": SPEED_REPEATS,
            "target_ms": TARGET_MS,
            "met": speed_ms < TARGET_MS,
        },
    }
    out = HERE / "results" / "nights-fairness.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
