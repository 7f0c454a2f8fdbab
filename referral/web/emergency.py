"""Emergency access pages ("break the glass"): a social worker looks a child up city-wide by
personnummer, gives a reason, and reads the record of another district's child for a few
hours. Everything goes through referral.services.emergency_access, which writes each step to
the access log; the personnummer travels in a POST body only, never in a URL.

The children page offers the look-up form and the child page shows how long the access
lasts, through two template functions registered here, so that the casework views need not
know about emergency access.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.emergency import live_grant_until
from referral.errors import DomainError
from referral.policy import Permission, can
from referral.request_scope import request_session, request_uow
from referral.services import emergency_access
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.formatting import stockholm_time

blueprint = Blueprint("emergency", __name__, url_prefix="/emergency")


# The look-up form sits on the children page beside the district's own search and register
# forms: a prefix keeps its field ids (and names) apart from theirs.
LOOKUP_PREFIX = "emergency"


class EmergencyLookupForm(PlainTextForm):
    personnummer = StringField(
        _l("Personnummer or samordningsnummer"),
        validators=[DataRequired(), Length(max=13)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )


class EmergencyReasonForm(PlainTextForm):
    child_id = HiddenField(validators=[DataRequired(), Length(max=36)])
    # The length rule is the service's, so that the API and the page refuse alike.
    reason = TextAreaField(
        _l("Reason for emergency access"),
        validators=[Length(max=emergency_access.MAX_REASON)],
    )


def _reason_forms(
    found: list[emergency_access.RecordElsewhere], submitted: EmergencyReasonForm | None
) -> list[EmergencyReasonForm]:
    """One reason form per record found (almost always one); a submitted form keeps its
    errors. Each form's text field gets its own id, so that every label finds its field."""
    forms = []
    for number, record in enumerate(found):
        form = submitted
        if form is None or form.child_id.data != record.child_id:
            form = EmergencyReasonForm(formdata=None, child_id=record.child_id)
        if number:
            form.reason.id = form.reason.label.field_id = f"reason-{number + 1}"
        forms.append(form)
    return forms


def _access_page(
    lookup: EmergencyLookupForm,
    found: list[emergency_access.RecordElsewhere] | None = None,
    submitted: EmergencyReasonForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    # Never send a typed personnummer back to the browser.
    lookup.personnummer.data = ""
    return render_template(
        "emergency/access.html",
        lookup=lookup,
        found=found,
        reason_forms=_reason_forms(found or [], submitted),
        hours=current_app.config["REFERRAL_SETTINGS"].emergency_access_hours,
    ), status


@blueprint.route("/find", methods=["POST"])
@requires(Permission.EMERGENCY_ACCESS)
def find() -> ResponseReturnValue:
    """The city-wide look-up: answers only whether another district holds a record."""
    form = EmergencyLookupForm(prefix=LOOKUP_PREFIX)
    if not form.validate_on_submit():
        return _access_page(form, status=422)
    try:
        with request_uow() as uow:
            found = emergency_access.find_child_anywhere(
                uow, current_actor(), form.personnummer.data or ""
            )
    except DomainError as error:
        if error.field != "personnummer":
            raise
        form.personnummer.errors = [*form.personnummer.errors, error.message]
        return _access_page(form, status=422)
    return _access_page(form, found=found)


@blueprint.route("/access", methods=["POST"])
@requires(Permission.EMERGENCY_ACCESS)
def grant() -> ResponseReturnValue:
    """Break the glass: with a reason, open the record for the configured number of hours."""
    form = EmergencyReasonForm()
    if form.validate_on_submit():
        settings = current_app.config["REFERRAL_SETTINGS"]
        try:
            with request_uow() as uow:
                granted = emergency_access.break_glass(
                    uow,
                    current_actor(),
                    form.child_id.data or "",
                    form.reason.data or "",
                    utcnow(),
                    hours=settings.emergency_access_hours,
                )
                child_id = granted.child_id
        except DomainError as error:
            if error.field != "reason":
                raise  # 403, 404 or 409: the error pages say it, the log has the refusal
            form.reason.errors = [*form.reason.errors, error.message]
        else:
            # The record page's banner says until when (emergency_access_until below).
            return redirect(url_for("casework.child_page", child_id=child_id))
    found = [emergency_access.RecordElsewhere(form.child_id.data)] if form.child_id.data else []
    lookup = EmergencyLookupForm(formdata=None, prefix=LOOKUP_PREFIX)
    return _access_page(lookup, found=found, submitted=form, status=422)


# --- Template functions for the casework pages ------------------------------------------------


def _actor() -> Actor | None:
    actor: Actor | None = g.get("actor")
    return actor


def emergency_lookup_form() -> EmergencyLookupForm | None:
    """The look-up form for the children page, for those who may break the glass."""
    actor = _actor()
    if not can(actor, Permission.EMERGENCY_ACCESS):
        return None
    return EmergencyLookupForm(formdata=None, prefix=LOOKUP_PREFIX)


def emergency_access_until(child_id: str) -> str | None:
    """When the actor reads `child_id` through a live grant: the end, as Stockholm's HH:MM."""
    actor = _actor()
    if actor is None or child_id not in actor.emergency_children:
        return None
    until = live_grant_until(request_session(), actor.user_id, child_id, utcnow())
    return stockholm_time(until) if until else None


@blueprint.app_context_processor
def _template_functions() -> dict[str, object]:
    return {
        "emergency_lookup_form": emergency_lookup_form,
        "emergency_access_until": emergency_access_until,
    }
