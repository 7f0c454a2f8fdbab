"""Notices to the user's organisation: what happened to its referrals and what to do next,
naming the child where the reader may see the name (services.notifications.notice_page
decides and logs it before the page is drawn)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import notifications
from referral.web.access import current_actor, requires

blueprint = Blueprint("notifications", __name__, url_prefix="/notifications")


@blueprint.route("")
@requires(Permission.NOTIFICATION_READ)
def index() -> ResponseReturnValue:
    with request_uow() as uow:
        page = notifications.notice_page(uow, current_actor(), clock.today())
    return render_template("notifications/index.html", page=page, action_form=PostOnlyForm())


@blueprint.route("/<notice_id>/read", methods=["POST"])
@requires(Permission.NOTIFICATION_READ)
def mark_read(notice_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        with request_uow() as uow:
            notifications.mark_read(uow, current_actor(), notice_id)
    return redirect(url_for("notifications.index"))


@blueprint.route("/read", methods=["POST"])
@requires(Permission.NOTIFICATION_READ)
def mark_all_read() -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        with request_uow() as uow:
            notifications.mark_all_read(uow, current_actor())
    return redirect(url_for("notifications.index"))
