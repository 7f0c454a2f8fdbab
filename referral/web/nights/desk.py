"""The morning registration desk, one screen for a tablet: scan or type the card, see the
window and the seed's commitment, set an override, issue or look up a card (with its QR code)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from referral import card_numbers, clock
from referral.errors import DomainError
from referral.night_calendar import night_at
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services.nights import people, registration
from referral.web.access import current_actor, requires
from referral.web.casework import show_error
from referral.web.nights.common import blueprint, labels, settings, submitted
from referral.web.nights.forms import LookupForm, NewCardForm, RegisterForm


def _desk_page(
    form: RegisterForm | None = None,
    card_form: NewCardForm | None = None,
    lookup: LookupForm | None = None,
    *,
    receipt: registration.RegistrationReceipt | None = None,
    issued: people.PersonCard | None = None,
    found: people.PersonCard | None = None,
    likely_cards: list[str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    form = form or RegisterForm(formdata=None)
    card_form = card_form or NewCardForm(formdata=None, prefix="card")
    lookup = lookup or LookupForm(formdata=None, prefix="find")
    for field in (form.card_number, lookup.card_number):
        field.data = ""  # never send a typed card number back to the browser
    card_form.someone_else.data = False  # confirmed afresh each time, after seeing the cards
    with request_uow() as uow:
        state = registration.desk_state(uow, settings(), clock.now())
    printable = issued or found
    return render_template(
        "nights/desk.html",
        state=state,
        form=form,
        card_form=card_form,
        lookup=lookup,
        receipt=receipt,
        issued=issued,
        found=found,
        likely_cards=[card_numbers.display(c) for c in likely_cards or ()],
        card_display=card_numbers.display(printable.card_number) if printable else None,
        # segno's SVG of the digits only: markup made here, never from anything typed.
        card_qr=Markup(card_numbers.qr_svg(printable.card_number)) if printable else None,  # noqa: S704  # nosec B704
        **labels(),
    ), status


@blueprint.route("/desk")
@requires(Permission.NIGHT_REGISTER)
def desk() -> ResponseReturnValue:
    return _desk_page()


def _override_of(form: RegisterForm) -> registration.Override | None:
    if not form.override_kind.data:
        return None
    return registration.Override(
        kind=form.override_kind.data,
        reason=form.override_reason.data or "",
        reporter_contact=form.reporter_contact.data or None,
    )


@blueprint.route("/desk/registrations", methods=["POST"])
@requires(Permission.NIGHT_REGISTER)
def register() -> ResponseReturnValue:
    form = RegisterForm()
    if form.validate_on_submit():
        override = _override_of(form)
        only_override = request.form.get("only_override") == "1"
        try:
            with request_uow() as uow:
                if only_override:
                    if override is None:
                        form.override_kind.errors = [_("Choose the grounds of the override.")]
                        return _desk_page(form, status=422)
                    receipt = registration.set_override(
                        uow,
                        current_actor(),
                        form.card_number.data,
                        override,
                        settings(),
                        clock.now(),
                    )
                else:
                    receipt = registration.register(
                        uow,
                        current_actor(),
                        form.card_number.data,
                        settings(),
                        clock.now(),
                        override=override,
                    )
        except DomainError as error:
            if error.field == "window":
                # Beside the field the desk is looking at: closed, and when it opens next.
                form.card_number.errors = [*form.card_number.errors, error.message]
            else:
                show_error(form, error)
        else:
            # A fresh, empty form for the next person in the queue.
            return _desk_page(receipt=receipt)
    return _desk_page(form, status=422)


@blueprint.route("/desk/cards", methods=["POST"])
@requires(Permission.NIGHT_REGISTER)
def issue_card() -> ResponseReturnValue:
    card_form = NewCardForm(prefix="card")
    likely: list[str] = []
    if card_form.validate_on_submit():
        new = people.NewPerson(
            alias=card_form.alias.data or None,
            birth_year=card_form.birth_year.data,
            gender=card_form.gender.data or None,
            country_of_origin=card_form.country_of_origin.data or None,
        )
        try:
            with request_uow() as uow:
                issued = people.issue_card(
                    uow,
                    current_actor(),
                    new,
                    clock.today(),
                    someone_else=bool(card_form.someone_else.data),
                )
        except people.LikelyCardHolder as conflict:
            show_error(card_form, conflict)
            likely = conflict.cards
        except DomainError as error:
            show_error(card_form, error)
        else:
            return _desk_page(issued=issued)
    return _desk_page(card_form=card_form, likely_cards=likely, status=409 if likely else 422)


@blueprint.route("/desk/look-up", methods=["POST"])
@requires(Permission.NIGHT_PERSON_READ)
def look_up() -> ResponseReturnValue:
    lookup = LookupForm(prefix="find")
    found = submitted(
        lookup,
        lambda uow: people.look_up(
            uow, current_actor(), lookup.card_number.data, night_at(clock.now())
        ),
    )
    if found is not None:
        return _desk_page(found=found)
    return _desk_page(lookup=lookup, status=422)
