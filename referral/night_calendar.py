"""Programme C's calendar: when people may register for a night place, and which nights one
allocation covers.

Registration is open on weekday mornings that are Swedish working days (the same days as
`referral.working_time`: public holidays and the eves treated as holidays have none), between
two local Stockholm times. An allocation covers the nights from its day until the next
registration day, so Friday's covers the weekend. Pure functions of instants and dates: no
clock, no database; instants come back in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from referral.clock import STOCKHOLM
from referral.working_time import is_working_day

# A night place runs from the evening until this local time the next morning: a person let in
# after midnight is checked in on the night that began the day before, and once it has passed,
# that night is over (no check-in, no place handed to the reserve).
NIGHT_ENDS_AT = time(6)

# A day named in a URL: the calendar form only (no week dates), and years the service can
# have records of, so that the day before and after always exist.
_DAY_IN_PATH = re.compile(r"(\d{4})-\d{2}-\d{2}")
_YEARS = range(2000, 2200)

# Sweden never has more than a handful of days in a row without a working day; a year is far
# beyond that and only guards the loops against a calendar that has none at all.
_LOOK_AHEAD_DAYS = 366


class WindowTimes(NamedTuple):
    """One registration window as UTC instants: open from `opens_at`, closed at `closes_at`."""

    opens_at: datetime
    closes_at: datetime


def is_registration_day(day: date) -> bool:
    return is_working_day(day)


def next_registration_day(after: date) -> date:
    """The first registration day strictly after `after`."""
    for offset in range(1, _LOOK_AHEAD_DAYS + 1):
        day = after + timedelta(days=offset)
        if is_registration_day(day):
            return day
    raise LookupError("no registration day within a year")


@dataclass(frozen=True)
class RegistrationWindow:
    """The local Stockholm times registration opens and closes on a registration day:
    [opens, closes). Summer time changes on Sundays, never a registration day, so the local
    times always exist; in UTC the window moves by an hour with them."""

    opens: time = time(9)
    closes: time = time(11)

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("the window's times are local Stockholm times, without a zone")
        if not self.opens < self.closes:
            raise ValueError("a registration window opens before it closes, within the day")

    def window_on(self, day: date) -> WindowTimes | None:
        """The window on `day`, or None if `day` is not a registration day."""
        if not is_registration_day(day):
            return None
        return WindowTimes(
            datetime.combine(day, self.opens, STOCKHOLM).astimezone(UTC),
            datetime.combine(day, self.closes, STOCKHOLM).astimezone(UTC),
        )

    def is_open(self, instant: datetime) -> bool:
        window = self.window_on(_local_day(instant))
        return window is not None and window.opens_at <= instant < window.closes_at

    def current_or_next(self, instant: datetime) -> WindowTimes:
        """The window open at `instant`, or else the next one to open (what a person
        registering too early or too late is told)."""
        first_day = _local_day(instant)
        for offset in range(_LOOK_AHEAD_DAYS + 1):
            window = self.window_on(first_day + timedelta(days=offset))
            if window is not None and instant < window.closes_at:
                return window
        raise LookupError("no registration window within a year")


def nights_covered(
    allocation_day: date, nights_per_allocation: int | None = None
) -> tuple[date, ...]:
    """The nights (each named by the evening it begins) an allocation made on
    `allocation_day` covers: from that night up to, not including, the next registration
    day's. With `nights_per_allocation`, at most that many; None means until the next
    window."""
    if nights_per_allocation is not None and nights_per_allocation < 1:
        raise ValueError("an allocation covers at least one night")
    until = next_registration_day(allocation_day)
    nights = tuple(allocation_day + timedelta(days=n) for n in range((until - allocation_day).days))
    return nights if nights_per_allocation is None else nights[:nights_per_allocation]


def _local_day(instant: datetime) -> date:
    if instant.tzinfo is None:
        raise ValueError("an instant needs its time zone")
    return instant.astimezone(STOCKHOLM).date()


def night_at(instant: datetime) -> date:
    """The night a shelter is in at `instant`: until NIGHT_ENDS_AT, the one that began the
    evening before (each night is named by the evening it begins)."""
    local = instant.astimezone(STOCKHOLM)
    return local.date() - timedelta(days=1) if local.time() < NIGHT_ENDS_AT else local.date()


def night_ends_at(night: date) -> datetime:
    """When the night that begins on the evening of `night` ends, as a UTC instant."""
    return datetime.combine(night + timedelta(days=1), NIGHT_ENDS_AT, STOCKHOLM).astimezone(UTC)


def day_in_path(text: str) -> date | None:
    """The day written YYYY-MM-DD, or None for anything else (a week date, a day that does
    not exist, a year outside the service's)."""
    match = _DAY_IN_PATH.fullmatch(text)
    if match is None or int(match.group(1)) not in _YEARS:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
