"""Programme C's calendar: registration on working-day mornings, 09:00 to 11:00 Stockholm time,
and the nights each allocation covers until the next registration day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral.clock import STOCKHOLM
from referral.night_calendar import (
    RegistrationWindow,
    WindowTimes,
    is_registration_day,
    next_registration_day,
    nights_covered,
)

WINDOW = RegistrationWindow()
# 2026: summer time begins on Sunday 29 March and ends on Sunday 25 October.
FRIDAY_BEFORE_SUMMER_TIME = date(2026, 3, 27)
MONDAY_IN_SUMMER_TIME = date(2026, 3, 30)
FRIDAY_BEFORE_WINTER_TIME = date(2026, 10, 23)
MONDAY_IN_WINTER_TIME = date(2026, 10, 26)
# Monday 1 May 2028 is May Day, a public holiday.
FRIDAY_BEFORE_MAY_DAY = date(2028, 4, 28)

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31))
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), STOCKHOLM)


def utc(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def test_the_window_opens_at_nine_and_closes_at_eleven_stockholm_time_by_default() -> None:
    assert WINDOW.window_on(date(2026, 2, 10)) == (
        utc(date(2026, 2, 10), 8),
        utc(date(2026, 2, 10), 10),
    )


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [((8, 59, 59), False), ((9, 0, 0), True), ((10, 59, 59), True), ((11, 0, 0), False)],
)
def test_registering_is_open_from_nine_up_to_but_not_including_eleven(
    moment: tuple[int, int, int], is_open: bool
) -> None:
    assert WINDOW.is_open(local(date(2026, 2, 10), *moment)) is is_open


def test_registering_at_0859_is_told_the_window_opens_at_nine_the_same_morning() -> None:
    tuesday = date(2026, 2, 10)
    assert WINDOW.current_or_next(local(tuesday, 8, 59)) == WINDOW.window_on(tuesday)


def test_registering_at_0900_and_at_105959_is_in_the_window_open_now() -> None:
    tuesday = date(2026, 2, 10)
    assert WINDOW.current_or_next(local(tuesday, 9)) == WINDOW.window_on(tuesday)
    assert WINDOW.current_or_next(local(tuesday, 10, 59, 59)) == WINDOW.window_on(tuesday)


def test_registering_at_1100_is_told_about_the_next_mornings_window() -> None:
    tuesday = date(2026, 2, 10)
    opens_at, closes_at = WINDOW.current_or_next(local(tuesday, 11))
    assert opens_at == local(tuesday + timedelta(days=1), 9)
    assert closes_at == local(tuesday + timedelta(days=1), 11)


def test_the_next_window_from_a_friday_afternoon_is_monday_nine_oclock_local() -> None:
    friday = date(2026, 2, 13)
    opens_at, _ = WINDOW.current_or_next(local(friday, 15))
    assert opens_at.astimezone(STOCKHOLM) == local(date(2026, 2, 16), 9)
    assert opens_at.tzinfo is UTC


def test_when_summer_time_begins_the_window_moves_an_hour_earlier_in_utc_and_stays_at_nine() -> (
    None
):
    friday = WINDOW.window_on(FRIDAY_BEFORE_SUMMER_TIME)
    monday = WINDOW.current_or_next(local(FRIDAY_BEFORE_SUMMER_TIME, 11))
    assert friday == (utc(FRIDAY_BEFORE_SUMMER_TIME, 8), utc(FRIDAY_BEFORE_SUMMER_TIME, 10))
    assert monday == (utc(MONDAY_IN_SUMMER_TIME, 7), utc(MONDAY_IN_SUMMER_TIME, 9))
    assert monday.opens_at.astimezone(STOCKHOLM).time() == time(9)


def test_when_summer_time_ends_the_window_moves_an_hour_later_in_utc_and_stays_at_nine() -> None:
    friday = WINDOW.window_on(FRIDAY_BEFORE_WINTER_TIME)
    monday = WINDOW.current_or_next(local(FRIDAY_BEFORE_WINTER_TIME, 11))
    assert friday == (utc(FRIDAY_BEFORE_WINTER_TIME, 7), utc(FRIDAY_BEFORE_WINTER_TIME, 9))
    assert monday == (utc(MONDAY_IN_WINTER_TIME, 8), utc(MONDAY_IN_WINTER_TIME, 10))
    assert monday.opens_at.astimezone(STOCKHOLM).time() == time(9)


def test_there_is_no_window_at_weekends_on_christmas_day_or_on_christmas_eve() -> None:
    assert WINDOW.window_on(date(2026, 12, 25)) is None
    assert WINDOW.window_on(date(2026, 12, 24)) is None  # a Thursday, treated as a holiday
    assert WINDOW.window_on(date(2026, 12, 26)) is None
    assert not WINDOW.is_open(local(date(2026, 12, 25), 10))
    assert WINDOW.window_on(date(2026, 12, 23)) is not None


def test_after_the_last_window_before_christmas_the_next_is_monday_28_december() -> None:
    after_last = local(date(2026, 12, 23), 11)
    on_christmas_eve = local(date(2026, 12, 24), 10)
    expected = WINDOW.window_on(date(2026, 12, 28))
    assert expected is not None
    assert WINDOW.current_or_next(after_last) == expected
    assert WINDOW.current_or_next(on_christmas_eve) == expected


def test_a_configured_window_keeps_its_own_local_times() -> None:
    early = RegistrationWindow(opens=time(8, 30), closes=time(10))
    assert early.is_open(local(date(2026, 2, 10), 8, 30))
    assert not early.is_open(local(date(2026, 2, 10), 10))
    assert early.window_on(date(2026, 7, 1)) == (
        local(date(2026, 7, 1), 8, 30),
        local(date(2026, 7, 1), 10),
    )


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(time(11), time(9)), (time(9), time(9)), (time(9, tzinfo=UTC), time(11))],
)
def test_a_window_that_closes_before_it_opens_or_names_a_zone_is_refused(
    opens: time, closes: time
) -> None:
    with pytest.raises(ValueError, match="window"):
        RegistrationWindow(opens=opens, closes=closes)


def test_an_instant_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="zone"):
        WINDOW.is_open(datetime(2026, 2, 10, 9, 30))
    with pytest.raises(ValueError, match="zone"):
        WINDOW.current_or_next(datetime(2026, 2, 10, 9, 30))


@given(instants)
def test_the_window_given_is_open_now_or_the_very_next_to_open(instant: datetime) -> None:
    window = WINDOW.current_or_next(instant)
    assert isinstance(window, WindowTimes)
    assert window.opens_at.tzinfo is UTC and window.closes_at.tzinfo is UTC
    assert instant < window.closes_at
    assert WINDOW.is_open(instant) is (window.opens_at <= instant)
    opens_local = window.opens_at.astimezone(STOCKHOLM)
    assert opens_local.time() == time(9)
    assert window.closes_at.astimezone(STOCKHOLM).time() == time(11)
    assert window.closes_at - window.opens_at == timedelta(hours=2)
    assert is_registration_day(opens_local.date())
    day = instant.astimezone(STOCKHOLM).date()
    skipped = [day + timedelta(days=n) for n in range((opens_local.date() - day).days)]
    # Every day skipped had no window, or its window had closed already.
    assert all((w := WINDOW.window_on(d)) is None or w.closes_at <= instant for d in skipped)


def test_a_tuesdays_allocation_covers_tuesday_night_only() -> None:
    assert nights_covered(date(2026, 2, 10)) == (date(2026, 2, 10),)


def test_a_fridays_allocation_covers_friday_saturday_and_sunday_nights() -> None:
    friday = date(2026, 2, 13)
    assert nights_covered(friday) == (friday, date(2026, 2, 14), date(2026, 2, 15))


def test_a_holiday_monday_makes_fridays_allocation_cover_four_nights() -> None:
    assert nights_covered(FRIDAY_BEFORE_MAY_DAY) == (
        date(2028, 4, 28),
        date(2028, 4, 29),
        date(2028, 4, 30),
        date(2028, 5, 1),
    )
    assert next_registration_day(FRIDAY_BEFORE_MAY_DAY) == date(2028, 5, 2)


def test_the_allocation_before_christmas_covers_every_night_until_the_monday_after() -> None:
    wednesday = date(2026, 12, 23)
    assert nights_covered(wednesday) == tuple(wednesday + timedelta(days=n) for n in range(5))


def test_a_configured_maximum_caps_the_nights_of_one_allocation() -> None:
    friday = date(2026, 2, 13)
    assert nights_covered(friday, nights_per_allocation=2) == (friday, date(2026, 2, 14))
    assert nights_covered(friday, nights_per_allocation=1) == (friday,)
    assert nights_covered(friday, nights_per_allocation=7) == nights_covered(friday)


def test_an_allocation_of_no_nights_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="at least one night"):
        nights_covered(date(2026, 2, 13), nights_per_allocation=0)


@given(days.filter(is_registration_day))
def test_allocations_cover_every_night_once_from_one_registration_day_to_the_next(
    day: date,
) -> None:
    nights = nights_covered(day)
    assert nights[0] == day
    assert list(nights) == [day + timedelta(days=n) for n in range(len(nights))]
    assert not any(is_registration_day(night) for night in nights[1:])
    following = nights[-1] + timedelta(days=1)
    assert is_registration_day(following)
    assert nights_covered(following)[0] == following
