"""Organisations over the API: administrators manage them; social workers list the partners."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.views import MethodView

from referral.api.base import CONFLICT, Blueprint
from referral.api.schemas import OrganisationIn, OrganisationOut, PartnerOrganisationOut
from referral.policy import Permission, can
from referral.request_scope import request_uow
from referral.services import organisations
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "organisations", __name__, url_prefix="/api/v1/organisations", description="Organisations"
)


@blueprint.route("")
class Organisations(MethodView):
    @requires(Permission.PARTNER_LIST)
    @blueprint.response(
        200,
        OrganisationOut(many=True),
        description="Administrators: every organisation, with its kind and number. Social "
        "workers: the partner organisations only, each with its id and name and nothing else.",
    )
    def get(self) -> list[organisations.OrganisationView] | Response:
        actor = current_actor()
        with request_uow() as uow:
            if can(actor, Permission.ORGANISATION_LIST):
                return organisations.list_organisations(uow, actor)
            # A schema per audience: the social worker's view names id and name only.
            partners = organisations.partner_names(uow, actor)
            return jsonify(PartnerOrganisationOut(many=True).dump(partners))

    @requires(Permission.ORGANISATION_CREATE)
    @blueprint.arguments(OrganisationIn)
    @blueprint.response(201, OrganisationOut)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any]) -> organisations.OrganisationView:
        with request_uow() as uow:
            return organisations.add_organisation(
                uow, current_actor(), organisations.NewOrganisation(**data)
            )
