"""The partner's support groups (Programme A, domain.md §2): plan a group, place children from
accepted referrals in it, record each child's pre-group visit and attendance, start and
complete it.

A group holds 5 to 8 children. Places are counted under a row lock on the group, so two leaders
enrolling at the same moment cannot make nine. A child counts, and is shown, only while the
referral is placed or participating (not withdrawn) and sharing is lawful today: lawfulness is
decided on every call, never stored (a lapsed consent frees the place at once).
"""

from __future__ import annotations

from referral.services.groups._places import (
    IN_GROUP,
    MAX_NAME,
    GroupState,
    GroupSummary,
    NewGroup,
    NewVisit,
    Roster,
    RosterEntry,
    SessionView,
    YearOverview,
)
from referral.services.groups.attendance import AttendanceMark, complete_group, record_attendance
from referral.services.groups.enrolment import (
    EnrolmentState,
    RecordedVisit,
    enrol,
    participation_start_refusals,
    record_visit,
    start_group,
)
from referral.services.groups.planning import create_group
from referral.services.groups.reading import (
    GroupReadiness,
    GroupWithRoom,
    group_roster,
    groups_starting_soon,
    groups_with_room,
    year_overview,
)

__all__ = [
    "IN_GROUP",
    "MAX_NAME",
    "AttendanceMark",
    "EnrolmentState",
    "GroupReadiness",
    "GroupState",
    "GroupSummary",
    "GroupWithRoom",
    "NewGroup",
    "NewVisit",
    "RecordedVisit",
    "Roster",
    "RosterEntry",
    "SessionView",
    "YearOverview",
    "complete_group",
    "create_group",
    "enrol",
    "group_roster",
    "groups_starting_soon",
    "groups_with_room",
    "participation_start_refusals",
    "record_attendance",
    "record_visit",
    "start_group",
    "year_overview",
]
