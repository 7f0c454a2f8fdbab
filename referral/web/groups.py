"""The group leader's groups: the year's groups with places left and children waiting, one
group's roster (visits, attendance), and placing an accepted child in a group.

The roster shows only the children the partner may lawfully see today (the groups service
decides, and records each child shown); a withdrawn consent removes the child on the next
request, and the notifications page says that participation must stop.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.errors import Conflict, DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import groups, users
from referral.web.access import current_actor, requires
from referral.web.casework import show_error
from referral.web.casework_forms import STATUS_LABELS
from referral.web.choices import SelectChoice
from referral.web.group_forms import FORMAT_CHOICES, VISIT_LABELS, EnrolForm, GroupForm, VisitForm

blueprint = Blueprint("groups", __name__, url_prefix="/partner/groups")

GROUP_STATUS_LABELS = {
    "planned": _l("Planned"),
    "started": _l("Running"),
    "completed": _l("Completed"),
}


def _leader_choices() -> list[SelectChoice]:
    """The group leaders of the actor's organisation (staff work identities)."""
    with request_uow() as uow:
        leaders = users.group_leaders(uow, current_actor())
    return [SelectChoice(leader.id, leader.display_name) for leader in leaders]


def _group_form(formdata: bool = True) -> GroupForm:
    form = (
        GroupForm() if formdata else GroupForm(formdata=None, leader_ids=[current_actor().user_id])
    )
    form.leader_ids.choices = _leader_choices()
    return form


@blueprint.route("")
@requires(Permission.GROUP_READ)
def index() -> ResponseReturnValue:
    return _index(_group_form(formdata=False))


def _index(form: GroupForm, status: int = 200) -> ResponseReturnValue:
    today = clock.today()
    year = request.args.get("year", default=today.year, type=int)
    if not 2000 <= year <= 2100:
        year = today.year
    with request_uow() as uow:
        overview = groups.year_overview(uow, current_actor(), year, today)
    return render_template(
        "groups/index.html",
        overview=overview,
        form=form,
        format_labels={c.value: c.label for c in FORMAT_CHOICES},
        status_labels=GROUP_STATUS_LABELS,
    ), status


@blueprint.route("", methods=["POST"])
@requires(Permission.GROUP_MANAGE)
def create() -> ResponseReturnValue:
    form = _group_form()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                group = groups.create_group(
                    uow,
                    current_actor(),
                    groups.NewGroup(
                        name=form.name.data or "",
                        group_format=form.group_format.data or "",
                        start_date=form.start_date.data or clock.today(),
                        min_age=form.min_age.data or 0,
                        max_age=form.max_age.data or 0,
                        leader_ids=form.leader_ids.data or [],
                    ),
                    clock.today(),
                )
                group_id = group.group_id
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The group was planned with its sessions."), "info")
            return redirect(url_for("groups.group_page", group_id=group_id))
    return _index(form, 422)


@blueprint.route("/<group_id>")
@requires(Permission.GROUP_READ)
def group_page(group_id: str) -> ResponseReturnValue:
    return _group_page(group_id)


def _group_page(
    group_id: str, status: int = 200, visit_form: VisitForm | None = None
) -> ResponseReturnValue:
    today = clock.today()
    with request_uow() as uow:
        roster = groups.group_roster(uow, current_actor(), group_id, today)
    return render_template(
        "groups/group.html",
        roster=roster,
        today=today,
        visit_form=visit_form or VisitForm(formdata=None, day=today),
        action_form=PostOnlyForm(),
        visit_labels=VISIT_LABELS,
        format_labels={c.value: c.label for c in FORMAT_CHOICES},
        status_labels=GROUP_STATUS_LABELS,
        referral_status_labels=STATUS_LABELS,
    ), status


@blueprint.route("/place", methods=["POST"])
@requires(Permission.GROUP_MANAGE)
def place() -> ResponseReturnValue:
    """From the inbox: place the child of an accepted referral in a planned group."""
    form = EnrolForm()
    form.group_id.choices = enrol_choices(clock.today())
    referral_id = request.form.get("referral_id", "")
    if not form.validate_on_submit() or not referral_id:
        flash(_("Choose a group with places left."), "error")
        return redirect(url_for("partner.inbox"))
    group_id = form.group_id.data or ""
    with request_uow() as uow:
        groups.enrol(uow, current_actor(), group_id, referral_id, clock.today())
    flash(_("The child was placed in the group."), "info")
    return redirect(url_for("groups.group_page", group_id=group_id))


@blueprint.route("/<group_id>/visits", methods=["POST"])
@requires(Permission.GROUP_MANAGE)
def record_visit(group_id: str) -> ResponseReturnValue:
    form = VisitForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                groups.record_visit(
                    uow,
                    current_actor(),
                    group_id,
                    groups.NewVisit(
                        form.enrolment_id.data or "",
                        form.kind.data or "",
                        form.day.data or clock.today(),
                    ),
                    clock.today(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The visit was recorded."), "info")
            return redirect(url_for("groups.group_page", group_id=group_id))
    return _group_page(group_id, 422, visit_form=form)


@blueprint.route("/<group_id>/start", methods=["POST"])
@requires(Permission.GROUP_MANAGE)
def start(group_id: str) -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        try:
            with request_uow() as uow:
                groups.start_group(uow, current_actor(), group_id, clock.today())
        except Conflict as refused:
            # Back on the group's page, where its checklist shows what is missing (not a
            # dead-end page of its own).
            flash(refused.message, "error")
            return redirect(url_for("groups.group_page", group_id=group_id, _anchor="start"))
        flash(_("The group has started: the children are participating."), "info")
    return redirect(url_for("groups.group_page", group_id=group_id))


@blueprint.route("/<group_id>/sessions/<session_id>/attendance", methods=["POST"])
@requires(Permission.GROUP_MANAGE)
def attendance(group_id: str, session_id: str) -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        # Each child is marked present, absent or left "not recorded" (nothing is assumed:
        # a mark left as it came is not a child who was there).
        marks = {
            enrolment_id: request.form.get(f"mark-{enrolment_id}") == "present"
            for enrolment_id in request.form.getlist("enrolment")
            if request.form.get(f"mark-{enrolment_id}") in ("present", "absent")
        }
        if not marks:
            flash(_("Mark at least one child present or absent."), "error")
            return redirect(url_for("groups.group_page", group_id=group_id, _anchor="sessions"))
        with request_uow() as uow:
            groups.record_attendance(
                uow, current_actor(), group_id, session_id, marks, clock.today()
            )
        flash(_("Attendance was recorded."), "info")
    return redirect(url_for("groups.group_page", group_id=group_id, _anchor="sessions"))


@blueprint.route("/<group_id>/complete", methods=["POST"])
@requires(Permission.GROUP_MANAGE)
def complete(group_id: str) -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        with request_uow() as uow:
            groups.complete_group(uow, current_actor(), group_id, clock.today())
        flash(_("The group is completed; every participation in it is completed."), "info")
    return redirect(url_for("groups.group_page", group_id=group_id))


def enrol_choices(today: date) -> list[SelectChoice]:
    """Planned groups with places left, this year and next: for the inbox's place form."""
    with request_uow() as uow:
        open_groups = groups.groups_with_room(uow, current_actor(), today)
    return [
        SelectChoice(g.group_id, f"{g.name} ({g.start_date.isoformat()}, {g.places_left})")
        for g in open_groups
    ]
