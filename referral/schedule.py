"""When a support group meets, as pure functions: no Flask, no database, no clock.

Seed 004 (domain.md §2) gives two formats:

- **weekly** (stödgrupp): 8 meetings of 2 hours, here one a week on the start date's weekday.
- **weekend** (stödhelg): at least three full days over a Saturday and a Sunday, plus a
  follow-up Saturday. We chose: a weekend starts on a **Friday**, so Friday, Saturday and
  Sunday are the three full days (a Saturday start would need a Monday, a school day), and the
  follow-up Saturday comes FOLLOW_UP_WEEKS weeks after the weekend's Saturday, long enough for
  the children to have lived with what they talked about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

WEEKLY_MEETINGS = 8
MEETING_HOURS = 2
WEEKEND_FULL_DAYS = 3
FOLLOW_UP_WEEKS = 4
FRIDAY = 4  # date.weekday(): Monday is 0
SATURDAY = 5
SUNDAY = 6


class GroupFormat(StrEnum):
    WEEKLY = "weekly"  # stödgrupp
    WEEKEND = "weekend"  # stödhelg


class SessionKind(StrEnum):
    MEETING = "meeting"  # a weekly meeting of MEETING_HOURS hours
    FULL_DAY = "full_day"  # a full day of a support weekend
    FOLLOW_UP = "follow_up"  # the weekend's follow-up Saturday


@dataclass(frozen=True)
class PlannedSession:
    number: int  # 1, 2, ... in date order
    day: date
    kind: SessionKind


def start_refusal(group_format: GroupFormat, start: date) -> str | None:
    """Why a group of this format cannot start on `start`, or None when it can."""
    if group_format is GroupFormat.WEEKEND and start.weekday() != FRIDAY:
        return "A support weekend starts on a Friday."
    return None


def plan_sessions(group_format: GroupFormat, start: date) -> list[PlannedSession]:
    """Every session of a group starting on `start`, in date order."""
    refusal = start_refusal(group_format, start)
    if refusal is not None:
        raise ValueError(refusal)
    if group_format is GroupFormat.WEEKLY:
        days = [(start + timedelta(weeks=n), SessionKind.MEETING) for n in range(WEEKLY_MEETINGS)]
    else:
        days = [(start + timedelta(days=n), SessionKind.FULL_DAY) for n in range(WEEKEND_FULL_DAYS)]
        saturday = start + timedelta(days=SATURDAY - FRIDAY)
        days.append((saturday + timedelta(weeks=FOLLOW_UP_WEEKS), SessionKind.FOLLOW_UP))
    return [PlannedSession(number, day, kind) for number, (day, kind) in enumerate(days, 1)]
