"""Staff accounts over the API (administrators; read-only: accounts are made with the CLI)."""

from __future__ import annotations

from flask.views import MethodView

from referral.api.base import Blueprint
from referral.api.schemas import UserOut
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import users
from referral.web.access import current_actor, requires

blueprint = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Staff accounts")


@blueprint.route("")
class Users(MethodView):
    @requires(Permission.USER_LIST)
    @blueprint.response(200, UserOut(many=True))
    def get(self) -> list[users.AccountView]:
        with request_uow() as uow:
            return users.list_users(uow, current_actor())
