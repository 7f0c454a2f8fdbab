"""The partner's support groups over the API (group leaders): the year's groups, planning a
group, placing accepted children in it, each child's pre-group visit, starting it, attendance
and completion.

Everything goes through referral.services.groups. Only the roster shows children, and only
those the partner may lawfully see today, with what RosterEntry carries (name and age as the
consent covers them, never a personnummer, a note or a guardian); the service writes one
access entry per child shown before the roster is returned. A withdrawn consent takes the
child out of the next roster. The other answers carry the group, its sessions and the ids of
what was recorded, no personal data. Another partner's group answers 404; a rule of the
groups (5 to 8 children, the age band, the order of things) is a 409 naming it.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from referral import clock
from referral.api.base import CONFLICT, NOT_FOUND, Blueprint
from referral.api.group_schemas import (
    AttendanceIn,
    AttendanceOut,
    EnrolmentIn,
    EnrolmentOut,
    GroupIn,
    GroupOut,
    RosterOut,
    VisitIn,
    VisitOut,
    YearOverviewOut,
    YearQuery,
)
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import groups
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "api_groups",
    __name__,
    url_prefix="/api/v1/partner/groups",
    description="The support groups of the caller's partner organisation (group leaders)",
)


@blueprint.route("")
class Groups(MethodView):
    @requires(Permission.GROUP_READ)
    @blueprint.arguments(YearQuery, location="query")
    @blueprint.response(200, YearOverviewOut)
    def get(self, query: dict[str, Any]) -> groups.YearOverview:
        """The groups starting in `year` (this year by default) with places left, and how
        many accepted children wait for a group. Counts only: nothing is written to the log."""
        today = clock.today()
        year = query["year"] if query["year"] is not None else today.year
        with request_uow() as uow:
            return groups.year_overview(uow, current_actor(), year, today)

    @requires(Permission.GROUP_MANAGE)
    @blueprint.arguments(GroupIn)
    @blueprint.response(201, GroupOut)
    def post(self, data: dict[str, Any]) -> groups.GroupState:
        """A planned group of the caller's organisation, with its sessions generated."""
        today = clock.today()
        with request_uow() as uow:
            return groups.create_group(uow, current_actor(), groups.NewGroup(**data), today)


@blueprint.route("/<group_id>")
class OneGroup(MethodView):
    @requires(Permission.GROUP_READ)
    @blueprint.response(200, RosterOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, group_id: str) -> groups.Roster:
        """The group, its sessions and the children the partner may lawfully see today; each
        child shown is written to the log with its legal basis first."""
        today = clock.today()
        with request_uow() as uow:
            return groups.group_roster(uow, current_actor(), group_id, today)


@blueprint.route("/<group_id>/enrolments")
class Enrolments(MethodView):
    @requires(Permission.GROUP_MANAGE)
    @blueprint.arguments(EnrolmentIn)
    @blueprint.response(201, EnrolmentOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, str], group_id: str) -> groups.EnrolmentState:
        """Place the child of an accepted referral in a planned group with room (at most 8)."""
        today = clock.today()
        with request_uow() as uow:
            return groups.enrol(uow, current_actor(), group_id, data["referral_id"], today)


@blueprint.route("/<group_id>/visits")
class Visits(MethodView):
    @requires(Permission.GROUP_MANAGE)
    @blueprint.arguments(VisitIn)
    @blueprint.response(201, VisitOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any], group_id: str) -> groups.RecordedVisit:
        """The home visit, or the meeting at the partner's premises, before the first
        session (and not before it has taken place)."""
        today = clock.today()
        with request_uow() as uow:
            return groups.record_visit(
                uow, current_actor(), group_id, groups.NewVisit(**data), today
            )


@blueprint.route("/<group_id>/start")
class Start(MethodView):
    @requires(Permission.GROUP_MANAGE)
    @blueprint.response(200, GroupOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, group_id: str) -> groups.GroupState:
        """5 to 8 children, each visited and with participation covered: they participate."""
        today = clock.today()
        with request_uow() as uow:
            return groups.start_group(uow, current_actor(), group_id, today)


@blueprint.route("/<group_id>/sessions/<session_id>/attendance")
class SessionAttendance(MethodView):
    @requires(Permission.GROUP_MANAGE)
    @blueprint.arguments(AttendanceIn)
    @blueprint.response(200, AttendanceOut(many=True))
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def put(
        self, data: dict[str, Any], group_id: str, session_id: str
    ) -> list[groups.AttendanceMark]:
        """Present or absent per enrolment id, on or after the session's day; sending it
        again corrects the earlier marks."""
        today = clock.today()
        with request_uow() as uow:
            return groups.record_attendance(
                uow, current_actor(), group_id, session_id, data["present"], today
            )


@blueprint.route("/<group_id>/complete")
class Complete(MethodView):
    @requires(Permission.GROUP_MANAGE)
    @blueprint.response(200, GroupOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, group_id: str) -> groups.GroupState:
        """After the last session: every participation is completed (the partner-side
        retention clock starts)."""
        today = clock.today()
        with request_uow() as uow:
            return groups.complete_group(uow, current_actor(), group_id, today)
