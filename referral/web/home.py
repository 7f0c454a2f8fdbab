"""The landing page: what this role does here, for the organisation the user belongs to."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.policy import Permission, can
from referral.request_scope import request_uow
from referral.roles import Role
from referral.services import concern_reports, link_cases, returned_files
from referral.web import concern, formatting
from referral.web.access import current_actor, public, requires
from referral.web.health import database_reachable

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@requires(Permission.HOME_VIEW)
def index() -> ResponseReturnValue:
    actor = current_actor()
    user = current_user.live.user
    now = clock.now()
    received: list[concern_reports.InboxLine] = []
    overdue: list[concern_reports.OverdueReport] = []
    due: list[link_cases.DueCase] = []
    returned_waiting = 0
    with request_uow() as uow:
        # Concern reports first: a report nobody has acknowledged may be a child in danger.
        if can(actor, Permission.CONCERN_RECEIVE):
            received = [
                line
                for line in concern_reports.received_reports(uow, actor, now)
                if line.status == "open"
            ]
        if can(actor, Permission.CONCERN_OVERDUE_READ):
            overdue = concern_reports.overdue_reports(uow, actor, now)
        # The link worker's steps due this week, overdue first.
        if can(actor, Permission.LINK_CASE_MANAGE):
            due = link_cases.due_cases(uow, actor, clock.today())
        # Files partners returned before a purge, waiting for the district to acknowledge.
        if can(actor, Permission.RETURNED_FILE_READ):
            returned_waiting = returned_files.unacknowledged_count(uow, actor)
    return render_template(
        "home.html",
        user=user,
        roles=sorted(actor.roles, key=list(Role).index),
        can_administer=can(actor, Permission.USER_LIST),
        logout_form=PostOnlyForm(),
        received_concerns=received,
        overdue_concerns=overdue,
        due_cases=due,
        returned_waiting=returned_waiting,
        local=formatting.local,
        status_labels=concern.STATUS_LABELS,
        subject_labels=concern.SUBJECT_LABELS,
    )


@blueprint.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    ok = database_reachable()
    return {"status": "ok" if ok else "unavailable", "database": ok}, 200 if ok else 503
