"""The access log over the API (the data-protection officer)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from audit.chain import VerificationReport
from referral.api.base import CONFLICT, Blueprint
from referral.api.schemas import (
    AuditPageOut,
    AuditQuery,
    PersonnummerIn,
    SubjectAccessOut,
    VerificationOut,
)
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import audit_integrity, audit_search, subject_access
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "audit", __name__, url_prefix="/api/v1/audit", description="The access log (DPO)"
)


@blueprint.route("/entries")
class Entries(MethodView):
    @requires(Permission.AUDIT_SEARCH)
    @blueprint.arguments(AuditQuery, location="query")
    @blueprint.response(200, AuditPageOut)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        criteria = audit_search.AuditFilter(
            since=query["since"],
            until=query["until"],
            actor=query["actor"],
            organisation_id=query["organisation_id"],
            action=query["action"],
            outcome=query["outcome"],
            subjects=tuple(query["subject"]),
        )
        with request_uow() as uow:
            page = audit_search.search(uow, current_actor(), criteria, query["before"])
        return {"entries": page.entries, "next_before": page.next_before}


@blueprint.route("/subject-access")
class SubjectAccess(MethodView):
    @requires(Permission.AUDIT_SUBJECT_REPORT)
    @blueprint.arguments(PersonnummerIn)
    @blueprint.response(200, SubjectAccessOut)
    def post(self, data: dict[str, str]) -> subject_access.SubjectAccessReport:
        with request_uow() as uow:
            return subject_access.subject_access_report(uow, current_actor(), data["personnummer"])


@blueprint.route("/verify")
class Verify(MethodView):
    @requires(Permission.AUDIT_VERIFY)
    @blueprint.response(200, VerificationOut)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self) -> VerificationReport:
        with request_uow() as uow:
            return audit_integrity.verify_and_record(uow, current_actor())
