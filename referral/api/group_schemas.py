"""Schemas of the group leader's groups, of interest registrations and of notifications, one
set per audience, each naming its fields.

A group, its sessions and its places carry no personal data: a group's name is a label, an
enrolment points at the referral. The one child-bearing schema is the roster's RosterEntryOut,
dumped from `groups.RosterEntry`, which holds only what the partner may lawfully see today;
a test pins its fields to the dataclass's, so neither grows alone. The partner's own interest
registrations are shown by reference, district, date and status: the personnummer it typed
goes in and never comes back.

Input schemas refuse unknown fields, wrong types and over-long strings (422 naming the field)
before any service runs; the services still check every rule themselves.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_dump, validate

from referral.api.schemas import ReplacementSchema, StrictSchema, choice_field, id_field
from referral.db.groups import VisitKind
from referral.rules import GROUP_MAX, MAX_AGE, MIN_AGE
from referral.schedule import GroupFormat
from referral.services.groups import MAX_NAME as MAX_GROUP_NAME
from referral.services.interest import MAX_CONTACT, MAX_REASON, reference_of
from referral.services.interest import MAX_NAME as MAX_CHILD_NAME
from referral.text_rules import MULTILINE

MAX_LEADERS = 20  # more group leaders than a group could ever have
LOWEST_YEAR, HIGHEST_YEAR = 2000, 2100  # as the web page's year switch


def _age(**options: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(MIN_AGE, MAX_AGE), **options)


# --- Groups: input ---------------------------------------------------------------------------


class YearQuery(StrictSchema):
    """The year of the overview; this year when left out."""

    year = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(LOWEST_YEAR, HIGHEST_YEAR)
    )


class GroupIn(StrictSchema):
    """Planning a group. Its sessions follow from the format and the start date."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_GROUP_NAME))
    group_format = choice_field(GroupFormat, required=True)
    start_date = fields.Date(required=True)
    min_age = _age(required=True)
    max_age = _age(required=True)
    leader_ids = fields.List(
        id_field(), required=True, validate=validate.Length(min=1, max=MAX_LEADERS)
    )


class EnrolmentIn(StrictSchema):
    referral_id = id_field(required=True)


class VisitIn(StrictSchema):
    enrolment_id = id_field(required=True)
    kind = choice_field(VisitKind, required=True)
    day = fields.Date(required=True)


class AttendanceIn(ReplacementSchema):
    """Present (true) or absent (false) per enrolment id, for one session."""

    present = fields.Dict(
        keys=id_field(),
        values=fields.Boolean(),
        required=True,
        validate=validate.Length(min=1, max=GROUP_MAX),
    )


# --- Groups: output (no child in any of these but RosterEntryOut) ----------------------------


class SessionOut(StrictSchema):
    session_id = fields.String()
    number = fields.Integer()
    day = fields.Date()
    kind = fields.String()


class GroupOut(StrictSchema):
    """Dumped from `groups.GroupState`, the group after a change: its own fields and
    sessions, no child."""

    group_id = fields.String()
    name = fields.String()
    group_format = fields.String()
    start_date = fields.Date()
    min_age = fields.Integer()
    max_age = fields.Integer()
    status = fields.String()
    leader_ids = fields.List(fields.String())
    sessions = fields.List(fields.Nested(SessionOut))
    started_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class GroupSummaryOut(GroupOut):
    """Dumped from `groups.GroupSummary`: the group with its counts, never a child."""

    enrolled = fields.Integer()
    places_left = fields.Integer()


class YearOverviewOut(StrictSchema):
    year = fields.Integer()
    groups = fields.List(fields.Nested(GroupSummaryOut))
    children_waiting = fields.Integer()


class EnrolmentOut(StrictSchema):
    """Dumped from `groups.EnrolmentState`."""

    enrolment_id = fields.String()
    group_id = fields.String()
    referral_id = fields.String()
    enrolled_at = fields.DateTime()


class VisitOut(StrictSchema):
    """Dumped from `groups.RecordedVisit`."""

    visit_id = fields.String()
    enrolment_id = fields.String()
    kind = fields.String()
    day = fields.Date()


class AttendanceOut(StrictSchema):
    """Dumped from `groups.AttendanceMark`."""

    session_id = fields.String()
    enrolment_id = fields.String()
    present = fields.Boolean()


class RosterEntryOut(StrictSchema):
    """Exactly `groups.RosterEntry`. As in the partner's inbox, a category the consent does
    not cover (name, age) is absent from the document, not sent as null."""

    OPTIONAL_CATEGORIES = ("name", "age")

    enrolment_id = fields.String()
    referral_id = fields.String()
    status = fields.String()
    name = fields.String()
    age = fields.Integer()
    visit_kind = fields.String(allow_none=True)
    visit_day = fields.Date(allow_none=True)
    attendance = fields.Dict(keys=fields.String(), values=fields.Boolean())

    @post_dump
    def _drop_uncovered(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        for key in self.OPTIONAL_CATEGORIES:
            if data.get(key) is None:
                data.pop(key, None)
        return data


class RosterOut(StrictSchema):
    group = fields.Nested(GroupSummaryOut)
    children = fields.List(fields.Nested(RosterEntryOut))


# --- Interest registrations ------------------------------------------------------------------


class InterestIn(StrictSchema):
    """What the family home told the partner. The personnummer is checked (Luhn) by the
    service, and is never sent back."""

    child_name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_CHILD_NAME))
    personnummer = fields.String(required=True, validate=validate.Length(min=10, max=13))
    district_id = id_field(required=True)
    family_home_contact = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_CONTACT)
    )
    received_on = fields.Date(required=True)


class InterestCreatedOut(StrictSchema):
    """Dumped from `interest.RegistrationState`: the new registration by id and reference,
    nothing the partner typed about the child."""

    registration_id = fields.String(attribute="id")
    reference = fields.Function(lambda registration: reference_of(registration.id))
    district_id = fields.String()
    received_on = fields.Date()
    status = fields.String()


class PartnerRegistrationOut(StrictSchema):
    """The partner's own list: reference, district, date and status only."""

    reference = fields.String()
    district_name = fields.String()
    received_on = fields.Date()
    status = fields.String()


class QueueEntryOut(StrictSchema):
    """The district's queue (its social workers): what they need to decide, no personnummer."""

    registration_id = fields.String()
    reference = fields.String()
    partner_name = fields.String()
    child_name = fields.String()
    family_home_contact = fields.String()
    received_on = fields.Date()


class DeclineIn(StrictSchema):
    """The reason is kept only sealed in the access log; the partner is not told it."""

    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=MAX_REASON),
        metadata={MULTILINE: True},  # a text area on the web page
    )


class ConfirmationOut(StrictSchema):
    registration_id = fields.String()
    referral_id = fields.String()
    child_id = fields.String()
    referral_status = fields.String()
    child_registered = fields.Boolean()


class InterestDecisionOut(StrictSchema):
    """Dumped from `interest.RegistrationState`: a declined registration, where it stands,
    not why, and nothing about the child."""

    registration_id = fields.String(attribute="id")
    reference = fields.Function(lambda registration: reference_of(registration.id))
    status = fields.String()
    decided_at = fields.DateTime(allow_none=True)


# --- Notifications ---------------------------------------------------------------------------


class NoticeOut(StrictSchema):
    """Dumped from `notifications.NoticeView`: references, never a child's data."""

    id = fields.String()
    kind = fields.String()
    referral_ref = fields.String(allow_none=True)
    interest_ref = fields.String(allow_none=True)
    child_id = fields.String(allow_none=True)
    partner_name = fields.String()
    created_at = fields.DateTime()
    unread = fields.Boolean()
