"""When a group meets: a weekly group meets 8 times a week apart; a support weekend is three
full days over a Saturday and a Sunday, starting on a Friday, plus a follow-up Saturday."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral.schedule import (
    FOLLOW_UP_WEEKS,
    GroupFormat,
    SessionKind,
    plan_sessions,
    start_refusal,
)

FRIDAY = date(2027, 1, 15)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))
fridays = days.map(lambda d: d + timedelta(days=(4 - d.weekday()) % 7))


def test_a_weekly_group_meets_eight_times_on_the_same_weekday() -> None:
    sessions = plan_sessions(GroupFormat.WEEKLY, date(2027, 2, 3))
    assert [s.day for s in sessions] == [date(2027, 2, 3) + timedelta(weeks=n) for n in range(8)]
    assert [s.number for s in sessions] == list(range(1, 9))
    assert {s.kind for s in sessions} == {SessionKind.MEETING}


@given(days)
def test_a_weekly_group_gives_eight_sessions_seven_days_apart_from_any_start(start: date) -> None:
    sessions = plan_sessions(GroupFormat.WEEKLY, start)
    assert len(sessions) == 8
    assert sessions[0].day == start
    assert all(b.day - a.day == timedelta(days=7) for a, b in pairwise(sessions))
    assert start_refusal(GroupFormat.WEEKLY, start) is None


def test_a_support_weekend_is_friday_to_sunday_and_a_saturday_four_weeks_later() -> None:
    sessions = plan_sessions(GroupFormat.WEEKEND, FRIDAY)
    assert [(s.day, s.kind) for s in sessions] == [
        (date(2027, 1, 15), SessionKind.FULL_DAY),
        (date(2027, 1, 16), SessionKind.FULL_DAY),
        (date(2027, 1, 17), SessionKind.FULL_DAY),
        (date(2027, 2, 13), SessionKind.FOLLOW_UP),
    ]


@given(fridays)
def test_a_support_weekend_covers_a_saturday_and_a_sunday_with_three_full_days_and_a_follow_up(
    start: date,
) -> None:
    sessions = plan_sessions(GroupFormat.WEEKEND, start)
    full_days = [s.day for s in sessions if s.kind is SessionKind.FULL_DAY]
    follow_ups = [s.day for s in sessions if s.kind is SessionKind.FOLLOW_UP]
    assert len(full_days) >= 3
    assert full_days == [full_days[0] + timedelta(days=n) for n in range(len(full_days))]
    assert {5, 6} <= {d.weekday() for d in full_days}  # a Saturday and a Sunday
    assert len(follow_ups) == 1 and follow_ups[0].weekday() == 5
    assert follow_ups[0] - max(full_days) > timedelta(weeks=FOLLOW_UP_WEEKS - 1)
    assert [s.day for s in sessions] == sorted(s.day for s in sessions)


@given(days.filter(lambda d: d.weekday() != 4))
def test_a_support_weekend_cannot_start_on_another_day_than_friday(start: date) -> None:
    assert start_refusal(GroupFormat.WEEKEND, start) == "A support weekend starts on a Friday."
    with pytest.raises(ValueError, match="Friday"):
        plan_sessions(GroupFormat.WEEKEND, start)
