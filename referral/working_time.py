"""Working hours in Stockholm: weekdays between two hours of the local day, except Swedish
public holidays and the eves that are treated as holidays (midsummer, Christmas and New
Year's Eve). Pure functions of instants: no clock, no database.

Used for deadlines that run only while an office is staffed, such as the acknowledgement of
a concern report by a district's social services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from referral.clock import STOCKHOLM


@cache
def _public_holidays(year: int) -> frozenset[date]:
    # Imported here: the holidays package (every country's calendar, dateutil) is megabytes
    # in each web worker, and only a deadline in working hours needs it (issue 18).
    import holidays

    return frozenset(holidays.country_holidays("SE", years=year))


def is_holiday(day: date) -> bool:
    """A Swedish public holiday, or an eve that collective agreements treat as one."""
    if day in _public_holidays(day.year):
        return True
    if (day.month, day.day) in {(12, 24), (12, 31)}:
        return True
    # Midsummer Eve: the Friday before Midsummer Day (a Saturday between 20 and 26 June).
    return day.month == 6 and 19 <= day.day <= 25 and day.weekday() == 4


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


@dataclass(frozen=True)
class WorkingDay:
    """The hours an office is staffed, local time: [opens, closes) on working days."""

    opens: int
    closes: int

    def __post_init__(self) -> None:
        if not 0 <= self.opens < self.closes <= 24:
            raise ValueError("a working day opens before it closes, within the day")

    def _at(self, day: date, hour: int) -> datetime:
        if hour == 24:
            return datetime.combine(day + timedelta(days=1), time(), STOCKHOLM)
        return datetime.combine(day, time(hour), STOCKHOLM)

    def add(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` working hours after `start` (an aware instant), in UTC.
        Time outside working hours does not count; a start outside them begins counting at
        the next opening."""
        if start.tzinfo is None:
            raise ValueError("an instant needs its time zone")
        remaining = timedelta(hours=hours)
        moment = start.astimezone(STOCKHOLM)
        while True:
            day = moment.date()
            opens, closes = self._at(day, self.opens), self._at(day, self.closes)
            if not is_working_day(day) or moment >= closes:
                moment = self._at(day + timedelta(days=1), 0)
                continue
            moment = max(moment, opens)
            # In UTC: aware instants of one zone subtract as wall-clock times, which would
            # miscount a day on which summer time begins or ends.
            left_today = closes.astimezone(UTC) - moment.astimezone(UTC)
            if remaining <= left_today:
                return moment.astimezone(UTC) + remaining
            remaining -= left_today
            moment = self._at(day + timedelta(days=1), 0)
