"""A shelter's list for tonight, kept by its own staff: who is expected, check-in as people
come, and the no-shows whose places go to the reserve list."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.night_calendar import night_at
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services.nights import no_shows, shelters, tonight
from referral.web.access import current_actor, requires
from referral.web.nights.common import blueprint, button_pressed, day_or_404, labels, settings


def current_night() -> date:
    """The night a shelter is in: until early morning, the one that began yesterday."""
    return night_at(clock.now())


def _night_asked() -> date:
    asked = request.values.get("night", "")
    return day_or_404(asked) if asked else current_night()


@blueprint.route("/shelters")
@requires(Permission.NIGHT_SHELTER_KEEP)
def shelters_page() -> ResponseReturnValue:
    with request_uow() as uow:
        listed = shelters.shelters(uow, current_actor())
    return render_template(
        "nights/shelters.html", shelters=listed, night=current_night(), **labels()
    )


def _tonight_page(
    shelter_id: str,
    night: date,
    *,
    receipt: no_shows.NoShowReceipt | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    with request_uow() as uow:
        listed = tonight.tonight(uow, current_actor(), shelter_id, night)
    return render_template(
        "nights/tonight.html",
        listed=listed,
        night=night,
        previous_night=night - timedelta(days=1),
        next_night=night + timedelta(days=1),
        receipt=receipt,
        action_form=PostOnlyForm(),
        **labels(),
    ), status


@blueprint.route("/shelters/<shelter_id>/tonight")
@requires(Permission.NIGHT_SHELTER_KEEP)
def tonight_page(shelter_id: str) -> ResponseReturnValue:
    return _tonight_page(shelter_id, _night_asked())


@blueprint.route("/places/<place_id>/check-in", methods=["POST"])
@requires(Permission.NIGHT_SHELTER_KEEP)
def check_in(place_id: str) -> ResponseReturnValue:
    shelter_id = request.form.get("shelter_id", "")
    night = _night_asked()
    checked = button_pressed(
        lambda uow: tonight.check_in(uow, current_actor(), place_id, clock.now())
    )
    if checked is not None:
        flash(_("Checked in: the place is taken."), "info")
    return redirect(
        url_for(
            "nights.tonight_page",
            shelter_id=shelter_id,
            night=night.isoformat(),
            _anchor=f"p-{place_id}",
        )
    )


@blueprint.route("/shelters/<shelter_id>/no-shows", methods=["POST"])
@requires(Permission.NIGHT_SHELTER_KEEP)
def record_no_shows(shelter_id: str) -> ResponseReturnValue:
    night = _night_asked()
    cards = request.form.getlist("card_numbers")
    receipt = button_pressed(
        lambda uow: no_shows.record_no_shows(
            uow, current_actor(), shelter_id, night, cards, settings(), clock.now()
        )
    )
    if receipt is None:
        return _tonight_page(shelter_id, night, status=422)
    return _tonight_page(shelter_id, night, receipt=receipt)
