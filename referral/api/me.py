"""Who am I: the caller's own account. Also hands out the CSRF token for API writes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from referral.api.base import Blueprint
from referral.api.schemas import MeOut
from referral.db.models import Organisation
from referral.policy import Permission
from referral.request_scope import request_session
from referral.web.access import current_actor, requires

blueprint = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The caller's account")


@blueprint.route("")
class Me(MethodView):
    @requires(Permission.PROFILE_READ)
    @blueprint.response(
        200,
        MeOut,
        headers={
            "X-CSRFToken": {"description": "CSRF token for writes", "schema": {"type": "string"}}
        },
    )
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        actor = current_actor()
        if actor.scopes is not None:  # an API client: no account, and no CSRF to hand out
            organisation = request_session().get(Organisation, actor.organisation_id)
            client = {
                "user_id": actor.user_id,
                "username": actor.username,
                "display_name": actor.username,
                "organisation_id": actor.organisation_id,
                "organisation_name": organisation.name if organisation else "",
                "roles": sorted(actor.roles),
            }
            return client, 200, {}
        user = current_user.live.user
        body = {
            "user_id": actor.user_id,
            "username": actor.username,
            "display_name": user.display_name,
            "organisation_id": user.organisation_id,
            "organisation_name": user.organisation.name,
            "roles": sorted(actor.roles),
        }
        return body, 200, {"X-CSRFToken": generate_csrf()}
