"""The coordinator's page: the shelters and their usual places, one night's places, this
morning's demand and allocation, and the last 14 days."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.db.uow import UnitOfWork
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services.nights import allocation, overview, registration, shelters
from referral.web.access import current_actor, requires
from referral.web.choices import SelectChoice
from referral.web.nights.common import blueprint, labels, settings, submitted
from referral.web.nights.forms import CapacityForm, ShelterChangeForm, ShelterForm, shelter_choices


def _keeper_choices(keepers: list[overview.Keeper]) -> list[SelectChoice]:
    return [SelectChoice(k.id, k.name) for k in keepers]


def _coordinator_page(
    shelter_form: ShelterForm | None = None,
    change_form: ShelterChangeForm | None = None,
    capacity_form: CapacityForm | None = None,
    *,
    status: int = 200,
) -> ResponseReturnValue:
    actor = current_actor()
    today = clock.today()
    with request_uow() as uow:
        listed = shelters.shelters(uow, actor)
        keepers = overview.shelter_keepers(uow, actor)
        days = overview.recent_days(uow, actor, today)
        state = registration.desk_state(uow, settings(), clock.now())
    shelter_form = shelter_form or ShelterForm(formdata=None, prefix="shelter", opens_on=today)
    shelter_form.organisation_id.choices = _keeper_choices(keepers)
    change_form = change_form or ShelterChangeForm(formdata=None, prefix="change")
    change_form.shelter_id.choices = shelter_choices(listed)
    capacity_form = capacity_form or CapacityForm(formdata=None, prefix="capacity", night=today)
    capacity_form.shelter_id.choices = shelter_choices(listed)
    return render_template(
        "nights/coordinator.html",
        shelters=listed,
        days=days,
        state=state,
        shelter_form=shelter_form,
        change_form=change_form,
        capacity_form=capacity_form,
        action_form=PostOnlyForm(),
        **labels(),
    ), status


@blueprint.route("/coordinator")
@requires(Permission.NIGHT_COORDINATE)
def coordinator() -> ResponseReturnValue:
    return _coordinator_page()


def _with_choices(form: ShelterChangeForm | CapacityForm) -> None:
    with request_uow() as uow:
        form.shelter_id.choices = shelter_choices(shelters.shelters(uow, current_actor()))


def _new_shelter(form: ShelterForm) -> shelters.NewShelter:
    return shelters.NewShelter(
        organisation_id=form.organisation_id.data or "",
        name=form.name.data or "",
        places=form.places.data or 0,
        opens_on=form.opens_on.data,
        reserved_for_women=form.reserved_for_women.data or 0,
        reserved_for_men=form.reserved_for_men.data or 0,
        closes_on=form.closes_on.data,
    )


@blueprint.route("/coordinator/shelters", methods=["POST"])
@requires(Permission.NIGHT_COORDINATE)
def create_shelter() -> ResponseReturnValue:
    form = ShelterForm(prefix="shelter")
    with request_uow() as uow:
        keepers = overview.shelter_keepers(uow, current_actor())
    form.organisation_id.choices = _keeper_choices(keepers)
    added = submitted(
        form,
        lambda uow: shelters.create_shelter(
            uow, current_actor(), _new_shelter(form), clock.today()
        ),
    )
    if added is not None:
        flash(_("The shelter was added."), "info")
        return redirect(url_for("nights.coordinator", _anchor="shelters"))
    return _coordinator_page(shelter_form=form, status=422)


def _shelter_change(form: ShelterChangeForm) -> shelters.ShelterChange:
    return shelters.ShelterChange(
        places=form.places.data or 0,
        reserved_for_women=form.reserved_for_women.data or 0,
        reserved_for_men=form.reserved_for_men.data or 0,
        closes_on=form.closes_on.data,
    )


@blueprint.route("/coordinator/shelter-changes", methods=["POST"])
@requires(Permission.NIGHT_COORDINATE)
def update_shelter() -> ResponseReturnValue:
    form = ShelterChangeForm(prefix="change")
    _with_choices(form)
    changed = submitted(
        form,
        lambda uow: shelters.update_shelter(
            uow, current_actor(), form.shelter_id.data or "", _shelter_change(form), clock.today()
        ),
    )
    if changed is not None:
        flash(_("The shelter's usual places were changed."), "info")
        return redirect(url_for("nights.coordinator", _anchor="shelters"))
    return _coordinator_page(change_form=form, status=422)


def _change_capacity(uow: UnitOfWork, form: CapacityForm) -> shelters.CapacityView:
    assert form.night.data is not None  # DataRequired
    return shelters.change_capacity(
        uow,
        current_actor(),
        form.shelter_id.data or "",
        form.night.data,
        form.places.data or 0,
        form.reserved_for_women.data or 0,
        form.reserved_for_men.data or 0,
        form.reason.data or "",
        clock.today(),
    )


@blueprint.route("/coordinator/capacity", methods=["POST"])
@requires(Permission.NIGHT_COORDINATE)
def change_capacity() -> ResponseReturnValue:
    form = CapacityForm(prefix="capacity")
    _with_choices(form)
    if submitted(form, lambda uow: _change_capacity(uow, form)) is not None:
        flash(_("The places for that night were changed."), "info")
        return redirect(url_for("nights.coordinator", _anchor="capacity"))
    return _coordinator_page(capacity_form=form, status=422)


@blueprint.route("/coordinator/allocation", methods=["POST"])
@requires(Permission.NIGHT_COORDINATE)
def run_allocation() -> ResponseReturnValue:
    # A refusal is flashed, never raised: the coordinator's page is where it is read.
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("nights.coordinator"))
    try:
        with request_uow() as uow:
            summary = allocation.run_allocation(uow, current_actor(), settings(), clock.now())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("nights.coordinator"))
    # Only the registered count changes the Swedish wording ("1 inskriven", "2 inskrivna"):
    # the placed and the reserve list read the same for any number.
    flash(
        ngettext(
            "The places were allocated: %(num)s registered, %(placed)s placed, "
            "%(turned_away)s on the reserve list.",
            "The places were allocated: %(num)s registered, %(placed)s placed, "
            "%(turned_away)s on the reserve list.",
            summary.registered,
            placed=summary.placed,
            turned_away=summary.turned_away,
        ),
        "info",
    )
    return redirect(url_for("nights.coordinator", _anchor="demand"))
