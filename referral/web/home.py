"""The landing page: what this role does here, for the organisation the user belongs to."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from referral.auth.forms import PostOnlyForm
from referral.policy import Permission, can
from referral.roles import Role
from referral.web.access import current_actor, public, requires
from referral.web.health import database_reachable

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@requires(Permission.HOME_VIEW)
def index() -> ResponseReturnValue:
    actor = current_actor()
    user = current_user.live.user
    return render_template(
        "home.html",
        user=user,
        roles=sorted(actor.roles, key=list(Role).index),
        can_administer=can(actor, Permission.USER_LIST),
        logout_form=PostOnlyForm(),
    )


@blueprint.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    ok = database_reachable()
    return {"status": "ok" if ok else "unavailable", "database": ok}, 200 if ok else 503
