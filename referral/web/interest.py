"""Interest registration pages (intresseanmälan): the group leader records what a family home
asked for and follows its status; the responsible district's social workers confirm or
decline each one from their queue.

Everything goes through referral.services.interest, which writes each read and change to the
access log. The personnummer travels in the POST body only and is never sent back to the
partner, not even in a form re-rendered after an error.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import interest, organisations
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.casework import show_error
from referral.web.choices import SelectChoice

blueprint = Blueprint("interest", __name__)

INTEREST_STATUS_LABELS = {
    "received": _l("Waiting for the district"),
    "confirmed": _l("Confirmed by the district"),
    "declined": _l("Declined by the district"),
}


class InterestForm(PlainTextForm):
    child_name = StringField(
        _l("Child's name"), validators=[DataRequired(), Length(max=interest.MAX_NAME)]
    )
    personnummer = StringField(
        _l("Child's personnummer or samordningsnummer"),
        validators=[DataRequired(), Length(max=13)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )
    district_id = SelectField(_l("Responsible district"), validators=[DataRequired()])
    family_home_contact = StringField(
        _l("Family home contact (names, phone or e-mail)"),
        validators=[DataRequired(), Length(max=interest.MAX_CONTACT)],
    )
    received_on = DateField(_l("Date received"), validators=[DataRequired()])


class DeclineForm(PlainTextForm):
    # The length rule is the service's, so that every caller is refused alike.
    reason = TextAreaField(
        _l("Reason (for the district's log; the partner is not shown it)"),
        validators=[Optional(), Length(max=interest.MAX_REASON)],
    )


def _district_choices() -> list[SelectChoice]:
    with request_uow() as uow:
        districts = organisations.district_names(uow, current_actor())
    return [
        SelectChoice("", _("Choose the district")),
        *(SelectChoice(d.id, d.name) for d in districts),
    ]


# --- The partner: record, and follow the status ----------------------------------------------


def _partner_page(form: InterestForm, status: int = 200) -> ResponseReturnValue:
    # Never send a typed personnummer back to the browser.
    form.personnummer.data = ""
    form.district_id.choices = _district_choices()
    with request_uow() as uow:
        registrations = interest.partner_registrations(uow, current_actor())
    return render_template(
        "interest/partner.html",
        form=form,
        registrations=registrations,
        status_labels=INTEREST_STATUS_LABELS,
    ), status


@blueprint.route("/partner/interest")
@requires(Permission.INTEREST_REGISTER)
def partner_page() -> ResponseReturnValue:
    return _partner_page(InterestForm(formdata=None, received_on=clock.today()))


@blueprint.route("/partner/interest", methods=["POST"])
@requires(Permission.INTEREST_REGISTER)
def register() -> ResponseReturnValue:
    form = InterestForm()
    form.district_id.choices = _district_choices()
    if form.validate_on_submit():
        assert form.received_on.data is not None  # DataRequired
        new = interest.NewInterest(
            child_name=form.child_name.data or "",
            personnummer=form.personnummer.data or "",
            district_id=form.district_id.data or "",
            family_home_contact=form.family_home_contact.data or "",
            received_on=form.received_on.data,
        )
        try:
            with request_uow() as uow:
                registration = interest.register_interest(uow, current_actor(), new, clock.today())
                reference = interest.reference_of(registration.id)
        except DomainError as error:
            if error.status != 422:
                raise
            show_error(form, error)
        else:
            flash(
                _(
                    "Interest registration %(ref)s was sent to the district. The child can "
                    "start only once the district has confirmed it.",
                    ref=reference,
                ),
                "info",
            )
            return redirect(url_for("interest.partner_page"))
    return _partner_page(form, status=422)


# --- The district: the queue, and the decision -----------------------------------------------


def _queue_page(
    decline_form: DeclineForm | None = None, failed_id: str | None = None, status: int = 200
) -> ResponseReturnValue:
    """The queue; after a refused decline, that registration's form shows its errors."""
    with request_uow() as uow:
        entries = interest.district_queue(uow, current_actor())
    return render_template(
        "interest/queue.html",
        entries=entries,
        action_form=PostOnlyForm(),
        decline_form=decline_form or DeclineForm(formdata=None),
        failed_id=failed_id,
    ), status


@blueprint.route("/interest")
@requires(Permission.INTEREST_CONFIRM)
def queue() -> ResponseReturnValue:
    return _queue_page()


@blueprint.route("/interest/<registration_id>/confirm", methods=["POST"])
@requires(Permission.INTEREST_CONFIRM)
def confirm(registration_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("interest.queue"))
    # A refusal (403, 404) or a decision already taken (409) is the error page's to show.
    with request_uow() as uow:
        confirmed = interest.confirm(uow, current_actor(), registration_id, clock.today())
    if confirmed.child_registered:
        flash(_("Confirmed. The child was registered in your district and referred."), "info")
    else:
        flash(_("Confirmed. The child's record was found and a referral was made."), "info")
    return redirect(url_for("casework.child_page", child_id=confirmed.child_id))


@blueprint.route("/interest/<registration_id>/decline", methods=["POST"])
@requires(Permission.INTEREST_CONFIRM)
def decline(registration_id: str) -> ResponseReturnValue:
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                interest.decline(uow, current_actor(), registration_id, form.reason.data)
        except DomainError as error:
            if error.status != 422:
                raise
            show_error(form, error)
        else:
            flash(_("The registration was declined; the partner has been told."), "info")
            return redirect(url_for("interest.queue"))
    return _queue_page(form, failed_id=registration_id, status=422)
