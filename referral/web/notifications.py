"""Notices to the user's organisation: what happened to its referrals (no personal data)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from referral.auth.forms import PostOnlyForm
from referral.db.uow import UnitOfWork
from referral.policy import Permission
from referral.request_scope import request_session
from referral.services import notifications
from referral.web.access import current_actor, requires

blueprint = Blueprint("notifications", __name__, url_prefix="/notifications")


@blueprint.route("")
@requires(Permission.NOTIFICATION_READ)
def index() -> ResponseReturnValue:
    with UnitOfWork(request_session()) as uow:
        notices = notifications.notices_for(uow, current_actor())
    return render_template("notifications/index.html", notices=notices, action_form=PostOnlyForm())


@blueprint.route("/<notice_id>/read", methods=["POST"])
@requires(Permission.NOTIFICATION_READ)
def mark_read(notice_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        with UnitOfWork(request_session()) as uow:
            notifications.mark_read(uow, current_actor(), notice_id)
    return redirect(url_for("notifications.index"))
