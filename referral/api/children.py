"""The district's children over the API (social workers): register, look up, read one
child's record, and record details, placement basis, guardians and consent.

A personnummer only ever travels in a request body and is never sent back: registering
answers with the new id, a look-up with the matches' ids and names. Reads go through
services that write the access log before returning.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from referral import clock
from referral.api.base import CONFLICT, NOT_FOUND, Blueprint
from referral.api.programme_schemas import (
    ChildCreatedOut,
    ChildDetailsIn,
    ChildDetailsOut,
    ChildFoundOut,
    ChildIn,
    ChildRecordOut,
    ChildSummaryOut,
    ConcernFilterArgs,
    ConsentIn,
    ConsentOut,
    GuardianCreatedOut,
    GuardianIn,
    LvuSharingIn,
    PlacementIn,
    PlacementOut,
)
from referral.api.schemas import PersonnummerIn
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import child_record, children, consent
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "api_children",
    __name__,
    url_prefix="/api/v1/children",
    description="The district's children (social workers)",
)


@blueprint.route("")
class Children(MethodView):
    @requires(Permission.CHILD_READ)
    @blueprint.arguments(ConcernFilterArgs, location="query")
    @blueprint.response(200, ChildSummaryOut(many=True))
    def get(self, args: dict[str, bool]) -> list[child_record.ChildSummary]:
        """The children of the caller's district (`?concern=true`: only those with an open
        concern report); each one listed is written to the log."""
        with request_uow() as uow:
            return child_record.district_children(
                uow, current_actor(), clock.today(), concern_only=args["concern"]
            )

    @requires(Permission.CHILD_CREATE)
    @blueprint.arguments(ChildIn)
    @blueprint.response(201, ChildCreatedOut)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, str]) -> dict[str, str]:
        """Register a child of the caller's district; answers with the new id only."""
        with request_uow() as uow:
            child = children.register_child(
                uow,
                current_actor(),
                children.NewChild(data["personnummer"], data["name"]),
                today=clock.today(),
            )
            return {"id": child.id}


@blueprint.route("/lookup")
class Lookup(MethodView):
    @requires(Permission.CHILD_SEARCH)
    @blueprint.arguments(PersonnummerIn)
    @blueprint.response(200, ChildFoundOut(many=True))
    def post(self, data: dict[str, str]) -> list[children.ChildMatch]:
        """Exact look-up by personnummer within the caller's district (a POST, so that the
        number never appears in a URL or an access log of the web server)."""
        with request_uow() as uow:
            return children.look_up_children(uow, current_actor(), data["personnummer"])


@blueprint.route("/<child_id>")
class ChildRecord(MethodView):
    @requires(Permission.CHILD_READ)
    @blueprint.response(200, ChildRecordOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, child_id: str) -> child_record.ChildRecord:
        """One child's whole record; another district's child answers 404."""
        with request_uow() as uow:
            return child_record.read_child_record(uow, current_actor(), child_id, clock.today())


@blueprint.route("/<child_id>/placement")
class Placement(MethodView):
    @requires(Permission.PLACEMENT_RECORD)
    @blueprint.arguments(PlacementIn)
    @blueprint.response(200, PlacementOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def put(self, data: dict[str, Any], child_id: str) -> consent.PlacementView:
        """SoL, or LVU with the decision, its date, the deciding body and the categories the
        partner may see (`lvu_shared`; name and age when first placed and nothing is said)."""
        with request_uow() as uow:
            return consent.record_placement(
                uow,
                current_actor(),
                child_id,
                data["basis"],
                data["lvu_decision"],
                data["lvu_decided_by"],
                data["lvu_decided_on"],
                today=clock.today(),
                lvu_shared=data["lvu_shared"],
            )


@blueprint.route("/<child_id>/lvu-sharing")
class LvuSharing(MethodView):
    @requires(Permission.PLACEMENT_RECORD)
    @blueprint.arguments(LvuSharingIn)
    @blueprint.response(200, PlacementOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def put(self, data: dict[str, Any], child_id: str) -> consent.PlacementView:
        """Under LVU, the social worker's decision on what the partner may see: every category
        listed is shared, every other is not. Narrowing cuts the partner's access at once."""
        with request_uow() as uow:
            return consent.decide_lvu_sharing(
                uow, current_actor(), child_id, data["shared"], clock.today()
            )


@blueprint.route("/<child_id>/details")
class Details(MethodView):
    @requires(Permission.CHILD_UPDATE)
    @blueprint.arguments(ChildDetailsIn)
    @blueprint.response(200, ChildDetailsOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def put(self, data: dict[str, str | None], child_id: str) -> children.SavedDetails:
        """Gender, the family home (the partner's contact details, if consented) and the
        paying municipality of a child placed by another municipality."""
        with request_uow() as uow:
            return children.update_details(
                uow, current_actor(), child_id, children.ChildDetails(**data)
            )


@blueprint.route("/<child_id>/guardians")
class Guardians(MethodView):
    @requires(Permission.GUARDIAN_CREATE)
    @blueprint.arguments(GuardianIn)
    @blueprint.response(201, GuardianCreatedOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, Any], child_id: str) -> consent.AddedGuardian:
        with request_uow() as uow:
            return consent.add_guardian(
                uow,
                current_actor(),
                child_id,
                data["name"],
                data["contact"],
                data["has_custody"],
                today=clock.today(),
            )


@blueprint.route("/<child_id>/consents")
class Consents(MethodView):
    @requires(Permission.CONSENT_RECORD)
    @blueprint.arguments(ConsentIn)
    @blueprint.response(201, ConsentOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, Any], child_id: str) -> consent.RecordedConsent:
        """One party's decision (given, refused or withdrawn). A referral waiting for this
        consent goes to the partner in the same transaction."""
        with request_uow() as uow:
            return consent.record_consent(
                uow, current_actor(), child_id, consent.ConsentInput(**data), today=clock.today()
            )
