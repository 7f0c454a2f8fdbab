"""Organisations over the API (administrators)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from referral.api.schemas import OrganisationIn, OrganisationOut
from referral.db.engine import request_session
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.policy import Permission
from referral.services import organisations
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "organisations", __name__, url_prefix="/api/v1/organisations", description="Organisations"
)


@blueprint.route("")
class Organisations(MethodView):
    @requires(Permission.ORGANISATION_LIST)
    @blueprint.response(200, OrganisationOut(many=True))
    def get(self) -> list[Organisation]:
        with UnitOfWork(request_session()) as uow:
            return organisations.list_organisations(uow, current_actor())

    @requires(Permission.ORGANISATION_CREATE)
    @blueprint.arguments(OrganisationIn)
    @blueprint.response(201, OrganisationOut)
    def post(self, data: dict[str, Any]) -> Organisation:
        with UnitOfWork(request_session()) as uow:
            return organisations.add_organisation(
                uow, current_actor(), organisations.NewOrganisation(**data)
            )
