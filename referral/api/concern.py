"""Concern reports (orosanmälan) over the API: anyone who works with a child files one
whatever the consent; the receiving organisation lists, reads, acknowledges and closes them;
the reporter's organisation follows the receipt; the DPO lists who filed and who read each.

Everything goes through referral.services.concern_reports. A filed report answers with its
reference and nothing else: not who received it, not whether the service knew the child. A
typed personnummer is never sent back.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from referral import clock
from referral.api.base import CONFLICT, NOT_FOUND, SERVICE_UNAVAILABLE, Blueprint
from referral.api.schemas import StrictSchema, id_field, text_field
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import concern_reports
from referral.services.concern_reports import (
    MAX_CASE_REFERENCE,
    MAX_CONTACT,
    MAX_SHORT,
    MAX_TEXT,
    NewConcernReport,
)
from referral.web.access import current_actor, requires
from referral.web.concern import acknowledgement_rule

blueprint = Blueprint(
    "api_concern",
    __name__,
    url_prefix="/api/v1",
    description="Concern reports: filed whatever the consent, acknowledged by social services",
)


class ConcernIn(StrictSchema):
    """Who the child is, as far as the reporter knows (a referral or child id, a
    personnummer, or a description: at least one), and the concern itself."""

    referral_id = id_field(load_default=None, allow_none=True)
    child_id = id_field(load_default=None, allow_none=True)
    personnummer = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=13)
    )
    subject_name = text_field(MAX_SHORT, load_default=None, allow_none=True)
    approximate_age = text_field(MAX_SHORT, load_default=None, allow_none=True)
    place = text_field(MAX_SHORT, load_default=None, allow_none=True)
    subject_description = text_field(MAX_TEXT, True, load_default=None, allow_none=True)
    what_happened = text_field(MAX_TEXT, True, required=True)
    seen_or_said = text_field(MAX_TEXT, True, load_default=None, allow_none=True)
    actions_taken = text_field(MAX_TEXT, True, load_default=None, allow_none=True)
    reporter_contact = text_field(MAX_CONTACT, required=True)


class ReceiptOut(StrictSchema):
    """What the reporting organisation is told: that social services has the report, and
    when it was acknowledged. Nothing of who received it or of their case."""

    report_id = fields.String()
    reference = fields.String()
    filed_at = fields.AwareDateTime()
    filed_by = fields.String()
    acknowledged = fields.Boolean()
    acknowledged_at = fields.AwareDateTime(allow_none=True)


class InboxLineOut(StrictSchema):
    report_id = fields.String()
    reference = fields.String()
    status = fields.String()
    filed_at = fields.AwareDateTime()
    acknowledge_by = fields.AwareDateTime()
    overdue = fields.Boolean()
    reporter_organisation = fields.String()
    subject_kind = fields.String()
    child_id = fields.String(allow_none=True)
    referral_id = fields.String(allow_none=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)


class ReportOut(InboxLineOut):
    """The whole report, for its receiver; reading it is written to the log first."""

    routing = fields.String()
    reporter_name = fields.String()
    reporter_contact = fields.String()
    subject_name = fields.String(allow_none=True)
    subject_personnummer = fields.String(allow_none=True)
    approximate_age = fields.String(allow_none=True)
    place = fields.String(allow_none=True)
    subject_description = fields.String(allow_none=True)
    what_happened = fields.String()
    seen_or_said = fields.String(allow_none=True)
    actions_taken = fields.String(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    case_reference = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)


class AcknowledgeIn(StrictSchema):
    case_reference = text_field(MAX_CASE_REFERENCE, load_default=None, allow_none=True)


class TrailEntryOut(StrictSchema):
    occurred_at = fields.AwareDateTime()
    who = fields.String()
    action = fields.String()


class TrailArgs(StrictSchema):
    reference = fields.String(load_default=None, validate=validate.Length(max=36))


class TrailOut(StrictSchema):
    report_id = fields.String()
    reference = fields.String()
    filed_at = fields.AwareDateTime()
    reporter_organisation = fields.String()
    receiving_organisation = fields.String()
    status = fields.String()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    entries = fields.List(fields.Nested(TrailEntryOut))


@blueprint.route("/concern-reports")
class Filed(MethodView):
    @requires(Permission.CONCERN_FILE)
    @blueprint.response(200, ReceiptOut(many=True))
    def get(self) -> list[concern_reports.FiledReceipt]:
        """The reports the caller's organisation has filed, newest first, with their receipt."""
        with request_uow() as uow:
            return concern_reports.filed_reports(uow, current_actor())

    @requires(Permission.CONCERN_FILE)
    @blueprint.arguments(ConcernIn)
    @blueprint.response(201, ReceiptOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    # No social emergency service is set up to receive a report no district is known for
    # (concern_reports.NoReceiver): the reporter is told at once to call instead.
    @blueprint.alt_response(503, response=SERVICE_UNAVAILABLE)
    def post(self, data: dict[str, Any]) -> concern_reports.FiledReceipt:
        """File a report. It reaches the placing district of a child the service knows, else
        socialjouren; no consent is asked for, and the answer says nothing of where it went."""
        today = clock.today()
        with request_uow() as uow:
            return concern_reports.file_report(
                uow, current_actor(), NewConcernReport(**data), acknowledgement_rule(), today
            )


@blueprint.route("/concern-reports/received")
class Received(MethodView):
    @requires(Permission.CONCERN_RECEIVE)
    @blueprint.response(200, InboxLineOut(many=True))
    def get(self) -> list[concern_reports.InboxLine]:
        """Reports the caller's organisation has received and not closed, overdue first."""
        with request_uow() as uow:
            return concern_reports.received_reports(uow, current_actor(), clock.now())


@blueprint.route("/concern-reports/<report_id>")
class Report(MethodView):
    @requires(Permission.CONCERN_RECEIVE)
    @blueprint.response(200, ReportOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, report_id: str) -> concern_reports.ReportView:
        """One report, for the organisation that received it (written to the log first)."""
        with request_uow() as uow:
            return concern_reports.read_report(uow, current_actor(), report_id, clock.now())


@blueprint.route("/concern-reports/<report_id>/acknowledge")
class Acknowledge(MethodView):
    @requires(Permission.CONCERN_RECEIVE)
    @blueprint.arguments(AcknowledgeIn)
    @blueprint.response(200, ReceiptOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any], report_id: str) -> concern_reports.FiledReceipt:
        """Acknowledge receipt, once (a second time is 409); the case reference is optional
        and never shown to the reporter."""
        with request_uow() as uow:
            return concern_reports.acknowledge(
                uow, current_actor(), report_id, data["case_reference"]
            )


@blueprint.route("/concern-reports/<report_id>/close")
class Close(MethodView):
    @requires(Permission.CONCERN_RECEIVE)
    @blueprint.response(204)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, report_id: str) -> None:
        """Close an acknowledged report: the concern flag on the child's record comes down."""
        with request_uow() as uow:
            concern_reports.close(uow, current_actor(), report_id)


@blueprint.route("/audit/concern-reports")
class Trails(MethodView):
    @requires(Permission.CONCERN_AUDIT)
    @blueprint.arguments(TrailArgs, location="query")
    @blueprint.response(200, TrailOut(many=True))
    def get(self, args: dict[str, str | None]) -> list[concern_reports.ReportTrail]:
        """For the DPO: the latest 200 reports (or those whose reference starts with
        `reference`), who filed and received each, and every access to it, refusals too."""
        with request_uow() as uow:
            return concern_reports.report_trails(uow, current_actor(), args["reference"])
