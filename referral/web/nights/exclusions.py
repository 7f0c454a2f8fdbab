"""Exclusions from a shelter: the list (in force, or all), a shelter's staff excluding someone
from their own shelter, the person's request for a review, and lifting one early."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from referral import clock
from referral.actors import Actor
from referral.auth.forms import PostOnlyForm
from referral.db.uow import UnitOfWork
from referral.policy import Permission, can
from referral.request_scope import request_uow
from referral.services.nights import exclusions, shelters
from referral.web.access import current_actor, requires
from referral.web.nights.common import blueprint, button_pressed, labels, submitted
from referral.web.nights.forms import ExclusionForm, shelter_choices


def _own_shelters(uow: UnitOfWork, actor: Actor) -> list[shelters.ShelterView]:
    """The shelters the actor may exclude from: their own, when they keep one."""
    return shelters.shelters(uow, actor) if can(actor, Permission.NIGHT_SHELTER_KEEP) else []


def _exclusions_page(form: ExclusionForm | None = None, status: int = 200) -> ResponseReturnValue:
    actor = current_actor()
    today = clock.today()
    include_past = request.args.get("all") == "1"
    with request_uow() as uow:
        listed = exclusions.exclusions(uow, actor, today, include_past=include_past)
        own = _own_shelters(uow, actor)
    form = form or ExclusionForm(
        formdata=None, prefix="exclude", expires_on=today + timedelta(days=7)
    )
    form.shelter_id.choices = shelter_choices(own)
    form.card_number.data = ""  # never sent back
    return render_template(
        "nights/exclusions.html",
        exclusions=listed,
        include_past=include_past,
        form=form if own else None,
        action_form=PostOnlyForm(),
        **labels(),
    ), status


@blueprint.route("/exclusions")
@requires(Permission.NIGHT_EXCLUDE)
def exclusions_page() -> ResponseReturnValue:
    return _exclusions_page()


@blueprint.route("/exclusions", methods=["POST"])
@requires(Permission.NIGHT_EXCLUDE)
def exclude() -> ResponseReturnValue:
    form = ExclusionForm(prefix="exclude")
    with request_uow() as uow:
        form.shelter_id.choices = shelter_choices(_own_shelters(uow, current_actor()))
    excluded = submitted(
        form,
        lambda uow: exclusions.exclude(
            uow,
            current_actor(),
            form.shelter_id.data or "",
            form.card_number.data,
            form.reason.data,
            form.expires_on.data,
            clock.today(),
        ),
    )
    if excluded is not None:
        flash(_("The exclusion was set. The person may ask for a review."), "info")
        return redirect(url_for("nights.exclusions_page"))
    return _exclusions_page(form, 422)


@blueprint.route("/exclusions/<exclusion_id>/review", methods=["POST"])
@requires(Permission.NIGHT_EXCLUDE)
def request_review(exclusion_id: str) -> ResponseReturnValue:
    asked = button_pressed(
        lambda uow: exclusions.request_review(uow, current_actor(), exclusion_id, clock.now())
    )
    if asked is not None:
        flash(_("The request for a review was recorded."), "info")
    return redirect(url_for("nights.exclusions_page", _anchor=f"x-{exclusion_id}"))


@blueprint.route("/exclusions/<exclusion_id>/lift", methods=["POST"])
@requires(Permission.NIGHT_EXCLUDE)
def lift(exclusion_id: str) -> ResponseReturnValue:
    lifted = button_pressed(
        lambda uow: exclusions.lift(uow, current_actor(), exclusion_id, clock.now())
    )
    if lifted is not None:
        flash(_("The exclusion was lifted."), "info")
    return redirect(url_for("nights.exclusions_page"))
