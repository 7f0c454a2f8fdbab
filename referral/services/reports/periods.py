"""The periods the partnerships report on (domain.md §6, seeds' uppföljning): November-April
(reported in August), May-October (reported in January) and the calendar year. Days are
Stockholm's: a period is a range of local dates, never "the last six months from today"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from referral.clock import STOCKHOLM

_KEY = re.compile(r"^(?P<year>20\d\d)(?:-(?P<half>winter|summer))?$")


class PeriodKind(StrEnum):
    WINTER = "winter"  # November (the year before) to April
    SUMMER = "summer"  # May to October
    YEAR = "year"  # January to December


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    year: int

    @property
    def first_day(self) -> date:
        if self.kind is PeriodKind.WINTER:
            return date(self.year - 1, 11, 1)
        if self.kind is PeriodKind.SUMMER:
            return date(self.year, 5, 1)
        return date(self.year, 1, 1)

    @property
    def last_day(self) -> date:
        if self.kind is PeriodKind.WINTER:
            return date(self.year, 4, 30)
        if self.kind is PeriodKind.SUMMER:
            return date(self.year, 10, 31)
        return date(self.year, 12, 31)

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first_day, time(0), STOCKHOLM)

    @property
    def ends_at(self) -> datetime:
        """The first moment after the period (exclusive)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(0), STOCKHOLM)

    @property
    def key(self) -> str:
        return str(self.year) if self.kind is PeriodKind.YEAR else f"{self.year}-{self.kind}"

    @property
    def nested(self) -> Period | None:
        """The separately published period inside this one: May-October inside the year.
        (November-April straddles two years, so it is inside none.) Comparing the two
        reports tells the reader the difference: the year's report protects it too."""
        return Period(PeriodKind.SUMMER, self.year) if self.kind is PeriodKind.YEAR else None

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def months(self) -> list[date]:
        found, month = [], self.first_day
        while month <= self.last_day:
            found.append(month)
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        return found


def parse_period(key: str) -> Period | None:
    """ "2026" (the calendar year), "2026-winter" (November 2025-April 2026) or "2026-summer"
    (May-October 2026); None for anything else."""
    found = _KEY.match(key)
    if not found:
        return None
    half = found["half"]
    return Period(PeriodKind(half) if half else PeriodKind.YEAR, int(found["year"]))


def recent_periods(today: date, count: int = 6) -> list[Period]:
    """The periods that have begun by `today`, the latest first: what the page offers."""
    found: list[Period] = []
    for year in range(today.year + 1, today.year - 4, -1):
        for kind in (PeriodKind.YEAR, PeriodKind.SUMMER, PeriodKind.WINTER):
            period = Period(kind, year)
            if period.first_day <= today:
                found.append(period)
    found.sort(key=lambda p: (p.last_day, p.kind is PeriodKind.YEAR), reverse=True)
    return found[:count]
