"""Complaints and suggestions (synpunkter och klagomål, issue 15).

The public form (`/synpunkter`) needs no login: anyone may send feedback about a programme,
anonymously if they wish. It is protected by CSRF like every form, by rate limits per address
and for the whole form, and by a honeypot field that people never see: what a bot sends
through it is answered like any sending and kept nowhere. The receipt confirms without
echoing what was written.

The staff pages list the feedback of the programmes the actor follows (clear columns only),
record feedback on a participant's behalf, open one (its text is on record before it is shown)
and record the response. Everything goes through referral.services.complaints.
"""

from __future__ import annotations

import secrets
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from referral import clock
from referral.db.complaints import (
    ComplaintChannel,
    ResponseOutcome,
)
from referral.errors import DomainError
from referral.policy import PROGRAMMES, Permission, can, programmes_of
from referral.request_scope import request_uow
from referral.services import complaints
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, public, request_origin, requires
from referral.web.casework import show_error
from referral.web.choices import SelectChoice, choices_from
from referral.web.formatting import local
from referral.web.limits import (
    PUBLIC_COMPLAINT_GLOBAL_RATE,
    PUBLIC_COMPLAINT_PAGE_RATE,
    PUBLIC_COMPLAINT_RATE,
    limiter,
)

blueprint = Blueprint("complaints", __name__)

# The programmes in plain language, as a participant would name the activity.
PROGRAMME_LABELS = {
    "A": _l("Support groups for children who live in a family home"),
    "B": _l("Support for young people who came to Sweden on their own"),
    "C": _l("Night places (emergency shelter for EU citizens)"),
}
CHANNEL_LABELS = {
    ComplaintChannel.PUBLIC_FORM.value: _l("Public form"),
    ComplaintChannel.STAFF.value: _l("Recorded by staff"),
}
OUTCOME_LABELS = {
    ResponseOutcome.CHANGED.value: _l("A measure was taken"),
    ResponseOutcome.EXPLAINED.value: _l("An explanation was given"),
    ResponseOutcome.FORWARDED.value: _l("Passed on to the city or another body"),
    ResponseOutcome.NOTED.value: _l("Noted, no measure"),
}
STATUS_FILTERS = ("open", "answered")
# The reference of the last sending, shown once on the receipt (never in the URL).
RECEIPT_KEY = "complaint_receipt"
PUBLIC_FORM_SCOPE = "complaints-public-form"


def _labels() -> dict[str, object]:
    return {
        "programme_labels": PROGRAMME_LABELS,
        "kind_labels": complaints.KIND_LABELS,
        "category_labels": complaints.CATEGORY_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "local": local,
    }


def _with_blank(labels: dict[str, object], blank: object) -> list[SelectChoice]:
    return [SelectChoice("", str(blank)), *choices_from(labels)]


class ComplaintForm(PlainTextForm):
    programme = RadioField(
        _l("Which activity is it about?"),
        choices=choices_from(PROGRAMME_LABELS),
        validators=[DataRequired(message=_l("Choose the activity."))],
    )
    kind = RadioField(
        _l("What would you like to give?"),
        choices=choices_from(complaints.KIND_LABELS),
        validators=[DataRequired(message=_l("Choose complaint, suggestion or praise."))],
    )
    category = SelectField(
        _l("What is it about?"),
        choices=_with_blank(complaints.CATEGORY_LABELS, _l("Choose")),
        validators=[DataRequired(message=_l("Choose what it is about."))],
    )
    text = TextAreaField(
        _l("Your feedback"),
        validators=[
            DataRequired(message=_l("Write your feedback.")),
            Length(max=complaints.MAX_TEXT),
        ],
        render_kw={"rows": 6, "maxlength": complaints.MAX_TEXT},
    )
    contact = StringField(
        _l("Name, phone number or e-mail, if you want an answer (optional)"),
        validators=[Optional(), Length(max=complaints.MAX_CONTACT)],
        render_kw={"maxlength": complaints.MAX_CONTACT},
    )


class PublicComplaintForm(ComplaintForm):
    # The honeypot: hidden from people (and from screen readers); a bot fills it in.
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )


class ResponseForm(PlainTextForm):
    outcome = SelectField(
        _l("Outcome"),
        choices=_with_blank(OUTCOME_LABELS, _l("Choose")),
        validators=[DataRequired(message=_l("Choose the outcome."))],
    )
    response = TextAreaField(
        _l("The response"),
        validators=[
            DataRequired(message=_l("Write the response.")),
            Length(max=complaints.MAX_RESPONSE),
        ],
        render_kw={"rows": 5, "maxlength": complaints.MAX_RESPONSE},
    )
    responded_on = DateField(
        _l("Date of the response"),
        validators=[DataRequired(message=_l("Give the date of the response."))],
    )


def _new(form: ComplaintForm) -> complaints.NewComplaint:
    return complaints.NewComplaint(
        programme=form.programme.data,
        kind=form.kind.data,
        category=form.category.data,
        text=form.text.data,
        contact=form.contact.data,
    )


# --- The public form -------------------------------------------------------------------------


def _public_page(form: PublicComplaintForm, status: int = 200) -> ResponseReturnValue:
    return render_template("complaints/public_form.html", form=form, **_labels()), status


def _whole_form() -> str:
    return PUBLIC_FORM_SCOPE


@blueprint.route("/synpunkter")
@public
@limiter.limit(PUBLIC_COMPLAINT_PAGE_RATE)
def public_form() -> ResponseReturnValue:
    return _public_page(PublicComplaintForm(formdata=None))


@blueprint.route("/synpunkter", methods=["POST"])
@public
@limiter.limit(PUBLIC_COMPLAINT_RATE)
@limiter.limit(PUBLIC_COMPLAINT_GLOBAL_RATE, key_func=_whole_form)
def submit_public() -> ResponseReturnValue:
    form = PublicComplaintForm()
    if form.website.data:
        # A bot: answered as if it had been received, and nothing is kept.
        session[RECEIPT_KEY] = complaints.reference_of(secrets.token_hex(4))
        return redirect(url_for("complaints.receipt"))
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                receipt = complaints.submit_public(
                    uow, _new(form), clock.now(), request_origin().request_id
                )
        except DomainError as error:
            if error.status != 422:
                raise
            show_error(form, error)
        else:
            session[RECEIPT_KEY] = receipt.reference
            return redirect(url_for("complaints.receipt"))
    return _public_page(form, status=422)


@blueprint.route("/synpunkter/tack")
@public
@limiter.limit(PUBLIC_COMPLAINT_PAGE_RATE)
def receipt() -> ResponseReturnValue:
    return render_template("complaints/receipt.html", reference=session.pop(RECEIPT_KEY, None))


# --- Staff: the list, recording on behalf, reading and responding ----------------------------


@blueprint.route("/complaints")
@requires(Permission.COMPLAINT_READ)
def index() -> ResponseReturnValue:
    actor = current_actor()
    status = request.args.get("status")
    status = status if status in STATUS_FILTERS else None
    programme = request.args.get("programme")
    followed = sorted(programmes_of(actor))
    programme = programme if programme in followed else None
    with request_uow() as uow:
        lines = complaints.list_for(
            uow,
            actor,
            programme=programme,
            open_only=status == "open",
            answered_only=status == "answered",
            today=clock.today(),
        )
    return render_template(
        "complaints/list.html",
        lines=lines,
        status=status,
        programme=programme,
        followed=followed,
        may_record=can(actor, Permission.COMPLAINT_RECORD),
        **_labels(),
    )


def _staff_form(form: ComplaintForm) -> ComplaintForm:
    own = programmes_of(current_actor())
    form.programme.choices = [
        SelectChoice(code, PROGRAMME_LABELS[code]) for code in PROGRAMMES if code in own
    ]
    if form.programme.data is None and len(own) == 1:
        form.programme.data = next(iter(own))
    return form


def _new_page(form: ComplaintForm, status: int = 200) -> ResponseReturnValue:
    return render_template("complaints/new.html", form=form, **_labels()), status


@blueprint.route("/complaints/new")
@requires(Permission.COMPLAINT_RECORD)
def new() -> ResponseReturnValue:
    return _new_page(_staff_form(ComplaintForm(formdata=None)))


@blueprint.route("/complaints/new", methods=["POST"])
@requires(Permission.COMPLAINT_RECORD)
def record_on_behalf() -> ResponseReturnValue:
    form = _staff_form(ComplaintForm())
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                line = complaints.record_on_behalf(uow, current_actor(), _new(form), clock.now())
        except DomainError as error:
            if error.status != 422:
                raise
            show_error(form, error)
        else:
            flash(_("The feedback was recorded as %(ref)s.", ref=line.reference), "info")
            return redirect(url_for("complaints.index"))
    return _new_page(form, status=422)


def _detail_page(
    complaint_id: str, form: ResponseForm | None = None, status: int = 200
) -> ResponseReturnValue:
    with request_uow() as uow:
        detail = complaints.read(uow, current_actor(), complaint_id, clock.today())
    return render_template(
        "complaints/detail.html",
        detail=detail,
        line=detail.line,
        form=form or ResponseForm(formdata=None, responded_on=clock.today()),
        **_labels(),
    ), status


@blueprint.route("/complaints/<complaint_id>")
@requires(Permission.COMPLAINT_READ)
def detail(complaint_id: str) -> ResponseReturnValue:
    return _detail_page(complaint_id)


@blueprint.route("/complaints/<complaint_id>/response", methods=["POST"])
@requires(Permission.COMPLAINT_RESPOND)
def respond(complaint_id: str) -> ResponseReturnValue:
    form = ResponseForm()
    if form.validate_on_submit():
        responded_on: date | None = form.responded_on.data
        try:
            with request_uow() as uow:
                complaints.respond(
                    uow,
                    current_actor(),
                    complaint_id,
                    form.outcome.data,
                    form.response.data,
                    responded_on,
                    clock.now(),
                )
        except DomainError as error:
            if error.status != 422:
                raise
            show_error(form, error)
        else:
            flash(_("The response was recorded."), "info")
            return redirect(url_for("complaints.detail", complaint_id=complaint_id))
    return _detail_page(complaint_id, form, status=422)
