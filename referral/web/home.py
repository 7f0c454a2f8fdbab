"""The landing page: each person's work first (what to do next, most urgent first), then
what their role does here and where, for the organisation the user belongs to."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.i18n import _l
from referral.policy import Permission, can
from referral.request_scope import request_uow
from referral.roles import Role
from referral.services import (
    audit_alerts,
    concern_reports,
    link_cases,
    my_work,
    notifications,
    returned_files,
)
from referral.services.groups import GroupReadiness, groups_starting_soon
from referral.web import concern, formatting
from referral.web.access import current_actor, public, requires
from referral.web.casework_forms import STATUS_LABELS
from referral.web.health import database_reachable

blueprint = Blueprint("home", __name__)

# How far ahead (and back, for a start that was missed) the group leader's list looks.
GROUPS_SOON_DAYS = 21
# The social worker's list: which lines, in which order (query values carry no person).
CASE_FILTERS = ("all", "mine", "partner")
CASE_SORTS = ("urgent", "name", "status")

STEP_LABELS = {
    my_work.Step.RECORD_BASIS: _l("Record the placement basis (SoL or LVU)"),
    my_work.Step.REFER: _l("Refer to a support group"),
    my_work.Step.SUBMIT: _l("Send the referral"),
    my_work.Step.GET_CONSENT: _l("Get the consent of every custodian"),
    my_work.Step.RENEW_CONSENT: _l("Renew the consent: it ends before the group does"),
    my_work.Step.AWAIT_ANSWER: _l("Waiting for the partner's answer"),
    my_work.Step.AWAIT_GROUP: _l("Waiting for a place in a group"),
    my_work.Step.ARRANGE_TRAVEL: _l("Arrange travel: the group starts"),
    my_work.Step.FOLLOW_GROUP: _l("Taking part in the group until"),
}
# Where on the child's page the step is taken.
STEP_SECTIONS = {
    my_work.Step.RECORD_BASIS: "placement",
    my_work.Step.GET_CONSENT: "consents",
    my_work.Step.RENEW_CONSENT: "consents",
}
FILTER_LABELS = {
    "all": _l("All"),
    "mine": _l("My next step"),
    "partner": _l("With the partner"),
}
SORT_LABELS = {
    "urgent": _l("Most urgent first"),
    "name": _l("Name"),
    "status": _l("Status"),
}


def _chosen(name: str, allowed: tuple[str, ...]) -> str:
    value = request.args.get(name, allowed[0])
    return value if value in allowed else allowed[0]


def _filtered(lines: list[my_work.CaseLine], which: str, order: str) -> list[my_work.CaseLine]:
    if which == "mine":
        lines = [line for line in lines if line.step in my_work.MINE]
    elif which == "partner":
        lines = [line for line in lines if line.step not in my_work.MINE]
    if order == "name":
        return sorted(lines, key=lambda line: (line.child_name.casefold(), line.sort_key))
    if order == "status":
        statuses = list(STATUS_LABELS)
        return sorted(
            lines,
            key=lambda line: (
                statuses.index(line.status) if line.status in statuses else -1,
                line.sort_key,
            ),
        )
    return lines  # already most urgent first


@blueprint.route("/")
@requires(Permission.HOME_VIEW)
def index() -> ResponseReturnValue:
    actor = current_actor()
    user = current_user.live.user
    now = clock.now()
    today = clock.today()
    received: list[concern_reports.InboxLine] = []
    overdue: list[concern_reports.OverdueReport] = []
    due: list[link_cases.DueCase] = []
    returned_waiting = 0
    cases: list[my_work.CaseLine] | None = None
    waiting: list[my_work.WaitingReferral] | None = None
    groups_soon: list[GroupReadiness] | None = None
    alert_counts: Counter[str] | None = None
    unread = 0
    case_filter = _chosen("show", CASE_FILTERS)
    case_sort = _chosen("sort", CASE_SORTS)
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
        # The social worker's own children, each open referral with its next step.
        if actor.has_role(Role.SOCIAL_WORKER) and can(actor, Permission.CHILD_READ):
            mine = my_work.social_worker_cases(uow, actor, today)
            cases = _filtered(mine, case_filter, case_sort)
        # The group leader's answers to give and groups to get ready.
        if can(actor, Permission.REFERRAL_INBOX):
            waiting = my_work.referrals_awaiting_answer(uow, actor, today)
        if actor.has_role(Role.GROUP_LEADER) and can(actor, Permission.GROUP_READ):
            groups_soon = groups_starting_soon(uow, actor, today, GROUPS_SOON_DAYS)
        # The DPO's alerts of the last seven days (reading them is reading the log).
        if actor.has_role(Role.DPO) and can(actor, Permission.AUDIT_SEARCH):
            settings = current_app.config["REFERRAL_SETTINGS"]
            alert_counts = Counter(a.kind for a in audit_alerts.alerts(uow, actor, settings))
        # The link worker's steps due this week, overdue first.
        if can(actor, Permission.LINK_CASE_MANAGE):
            due = link_cases.due_cases(uow, actor, today)
        # Files partners returned before a purge, waiting for the district to acknowledge.
        if can(actor, Permission.RETURNED_FILE_READ):
            returned_waiting = returned_files.unacknowledged_count(uow, actor)
        if can(actor, Permission.NOTIFICATION_READ):
            unread = notifications.unread_count(uow, actor)
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
        cases=cases,
        case_filter=case_filter,
        case_sort=case_sort,
        filter_labels=FILTER_LABELS,
        sort_labels=SORT_LABELS,
        step_labels=STEP_LABELS,
        step_sections=STEP_SECTIONS,
        mine=my_work.MINE,
        waiting_referrals=waiting,
        groups_soon=groups_soon,
        alert_counts=alert_counts,
        unread=unread,
        today=today,
        local=formatting.local,
        status_labels=concern.STATUS_LABELS,
        referral_status_labels=STATUS_LABELS,
        subject_labels=concern.SUBJECT_LABELS,
    )


@blueprint.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    ok = database_reachable()
    return {"status": "ok" if ok else "unavailable", "database": ok}, 200 if ok else 503
