"""Programme C pages (issue 14, domain.md §7): the morning registration desk (one screen for a
tablet: scan or type the card, see the window and the seed's commitment, issue a new card),
a shelter's list for tonight (check-in, no-shows), the coordinator's overview (shelters,
capacity, demand, the allocation), exclusions, and the public result of each morning's draw.

A card number identifies a person: it travels in a POST body only, the answer is rendered
(never flashed into the session cookie or put in a URL), and a typed number is never sent
back in a re-rendered form. The result page is public by design and names card numbers only;
it is readable in Romanian and Bulgarian too (referral.web.locale.MORE_LANGUAGES)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from config import Settings
from referral import card_numbers, clock
from referral.auth.forms import PostOnlyForm
from referral.clock import STOCKHOLM
from referral.errors import DomainError
from referral.night_calendar import WindowTimes
from referral.policy import Permission, can
from referral.request_scope import request_uow
from referral.services.nights import (
    allocation,
    exclusions,
    no_shows,
    overview,
    people,
    published,
    registration,
    shelters,
)
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, public, requires
from referral.web.casework import show_error
from referral.web.choices import SelectChoice, choices_from
from referral.web.concern import local
from referral.web.limits import PUBLIC_RESULT_RATE, limiter

blueprint = Blueprint("nights", __name__, url_prefix="/nights")

GENDER_LABELS = {"": _l("Not stated"), "woman": _l("Woman"), "man": _l("Man"), "other": _l("Other")}
OVERRIDE_LABELS = {
    "danger_to_life": _l("Danger to life"),
    "children_involved": _l("Children involved (socialjouren is told at once)"),
}
KIND_LABELS = {
    "women": _l("Reserved for women"),
    "men": _l("Reserved for men"),
    "unreserved": _l("Unreserved"),
}
STATUS_LABELS = {
    "allocated": _l("Expected"),
    "checked_in": _l("Checked in"),
    "no_show": _l("Did not come"),
}
# The public page's words: what became of each card (never why one was not placed, which
# would tell of an exclusion or a gender: referral.services.nights.published).
OUTCOME_LABELS = {
    "placed": _l("Placed"),
    "from_reserve": _l("Placed from the reserve list"),
    "reserve": _l("Reserve list"),
}
# The languages of the public result page, each named in its own language.
RESULT_LANGUAGES = (("sv", "Svenska"), ("en", "English"), ("ro", "Română"), ("bg", "Български"))
DAY_IN_PATH = re.compile(r"\d{4}-\d{2}-\d{2}")
# Before this local hour, "tonight" at a shelter is still the night that began yesterday.
NIGHT_ENDS_AT_HOUR = 6


def _settings() -> Settings:
    settings: Settings = current_app.config["REFERRAL_SETTINGS"]
    return settings


def window_text(window: WindowTimes | None) -> str:
    """A window as Stockholm's day and times, e.g. 2027-03-03, 09:00 to 11:00."""
    if window is None:
        return "—"
    opens = window.opens_at.astimezone(STOCKHOLM)
    closes = window.closes_at.astimezone(STOCKHOLM)
    return f"{opens.date().isoformat()}, {opens:%H:%M}–{closes:%H:%M}"


def hhmm(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%H:%M")


def nights_text(nights: tuple[date, ...]) -> str:
    return ", ".join(night.isoformat() for night in nights)


def _labels() -> dict[str, object]:
    return {
        "gender_labels": GENDER_LABELS,
        "override_labels": OVERRIDE_LABELS,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "window_text": window_text,
        "nights_text": nights_text,
        "hhmm": hhmm,
        "local": local,
    }


# --- the registration desk --------------------------------------------------------------------


class RegisterForm(PlainTextForm):
    card_number = StringField(
        _l("Card number"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={
            "autofocus": True,
            "autocomplete": "off",
            "inputmode": "numeric",
            "spellcheck": "false",
            "autocapitalize": "off",
            "class": "card-number",
        },
    )
    override_kind = SelectField(
        _l("Grounds for an override"),
        choices=[SelectChoice("", _l("No override")), *choices_from(OVERRIDE_LABELS)],
        default="",
    )
    override_reason = TextAreaField(
        _l("The reason, stated"),
        validators=[Optional(), Length(max=registration.MAX_REASON)],
    )
    reporter_contact = StringField(
        _l("Children involved: a number socialjouren can call back"),
        validators=[Optional(), Length(max=registration.MAX_CONTACT)],
        render_kw={"autocomplete": "off"},
    )


class NewCardForm(PlainTextForm):
    alias = StringField(
        _l("Name or alias (optional)"), validators=[Optional(), Length(max=people.MAX_ALIAS)]
    )
    birth_year = IntegerField(
        _l("Birth year (optional)"),
        validators=[Optional(), NumberRange(1900, 2200)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    gender = SelectField(_l("Gender (optional)"), choices=choices_from(GENDER_LABELS), default="")
    country_of_origin = StringField(
        _l("Country of origin (optional)"),
        validators=[Optional(), Length(max=people.MAX_COUNTRY)],
    )
    someone_else = BooleanField(
        _l("I have checked the cards above: this is someone else, issue a new card")
    )


class LookupForm(PlainTextForm):
    card_number = StringField(
        _l("Card number"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )


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
        state = registration.desk_state(uow, _settings(), clock.now())
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
        card_qr=Markup(card_numbers.qr_svg(printable.card_number)) if printable else None,  # noqa: S704
        **_labels(),
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
                        _settings(),
                        clock.now(),
                    )
                else:
                    receipt = registration.register(
                        uow,
                        current_actor(),
                        form.card_number.data,
                        _settings(),
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
    if lookup.validate_on_submit():
        try:
            with request_uow() as uow:
                found = people.look_up(uow, current_actor(), lookup.card_number.data)
        except DomainError as error:
            show_error(lookup, error)
        else:
            return _desk_page(found=found)
    return _desk_page(lookup=lookup, status=422)


# --- a shelter's list for tonight ---------------------------------------------------------------


def tonight() -> date:
    """The night a shelter is in: until early morning, the one that began yesterday."""
    moment = clock.now().astimezone(STOCKHOLM)
    day = moment.date()
    return day - timedelta(days=1) if moment.hour < NIGHT_ENDS_AT_HOUR else day


def _night_asked() -> date:
    asked = request.values.get("night", "")
    if not asked:
        return tonight()
    if not DAY_IN_PATH.fullmatch(asked):
        abort(404)
    try:
        return date.fromisoformat(asked)
    except ValueError:
        abort(404)


@blueprint.route("/shelters")
@requires(Permission.NIGHT_SHELTER_KEEP)
def shelters_page() -> ResponseReturnValue:
    with request_uow() as uow:
        listed = shelters.shelters(uow, current_actor())
    return render_template("nights/shelters.html", shelters=listed, night=tonight(), **_labels())


def _tonight_page(
    shelter_id: str,
    night: date,
    *,
    receipt: no_shows.NoShowReceipt | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    with request_uow() as uow:
        listed = shelters.tonight(uow, current_actor(), shelter_id, night)
    return render_template(
        "nights/tonight.html",
        listed=listed,
        night=night,
        previous_night=night - timedelta(days=1),
        next_night=night + timedelta(days=1),
        receipt=receipt,
        action_form=PostOnlyForm(),
        **_labels(),
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
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        try:
            with request_uow() as uow:
                shelters.check_in(uow, current_actor(), place_id, clock.today())
        except DomainError as error:
            show_error(PostOnlyForm(), error)
        else:
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
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return _tonight_page(shelter_id, night, status=422)
    try:
        with request_uow() as uow:
            receipt = no_shows.record_no_shows(
                uow, current_actor(), shelter_id, night, cards, _settings(), clock.now()
            )
    except DomainError as error:
        show_error(PostOnlyForm(), error)
        return _tonight_page(shelter_id, night, status=422)
    return _tonight_page(shelter_id, night, receipt=receipt)


# --- the coordinator ---------------------------------------------------------------------------


class ShelterForm(PlainTextForm):
    organisation_id = SelectField(_l("Kept by"))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=shelters.MAX_NAME)])
    places = IntegerField(
        _l("Places a night"), validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)]
    )
    reserved_for_women = IntegerField(
        _l("Of which reserved for women"),
        default=0,
        validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)],
    )
    reserved_for_men = IntegerField(
        _l("Of which reserved for men"),
        default=0,
        validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)],
    )
    opens_on = DateField(_l("Opens on"), validators=[DataRequired()])
    closes_on = DateField(_l("Closes on (if known)"), validators=[Optional()])


class ShelterChangeForm(PlainTextForm):
    shelter_id = SelectField(_l("Shelter"))
    places = IntegerField(
        _l("Usual places a night"),
        validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)],
    )
    reserved_for_women = IntegerField(
        _l("Of which reserved for women"),
        default=0,
        validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)],
    )
    reserved_for_men = IntegerField(
        _l("Of which reserved for men"),
        default=0,
        validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)],
    )
    closes_on = DateField(_l("Closes on (if known)"), validators=[Optional()])


class CapacityForm(PlainTextForm):
    shelter_id = SelectField(_l("Shelter"))
    night = DateField(_l("Night (the evening it begins)"), validators=[DataRequired()])
    places = IntegerField(
        _l("Places that night"), validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)]
    )
    reserved_for_women = IntegerField(
        _l("Of which reserved for women"),
        default=0,
        validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)],
    )
    reserved_for_men = IntegerField(
        _l("Of which reserved for men"),
        default=0,
        validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)],
    )
    reason = StringField(
        _l("Why the places change that night"),
        validators=[DataRequired(), Length(max=shelters.MAX_REASON)],
    )


def _shelter_choices(listed: list[shelters.ShelterView]) -> list[SelectChoice]:
    return [SelectChoice(s.id, f"{s.name} ({s.organisation_name})") for s in listed]


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
        state = registration.desk_state(uow, _settings(), clock.now())
    shelter_form = shelter_form or ShelterForm(formdata=None, prefix="shelter", opens_on=today)
    shelter_form.organisation_id.choices = [SelectChoice(k.id, k.name) for k in keepers]
    change_form = change_form or ShelterChangeForm(formdata=None, prefix="change")
    change_form.shelter_id.choices = _shelter_choices(listed)
    capacity_form = capacity_form or CapacityForm(formdata=None, prefix="capacity", night=today)
    capacity_form.shelter_id.choices = _shelter_choices(listed)
    return render_template(
        "nights/coordinator.html",
        shelters=listed,
        days=days,
        state=state,
        shelter_form=shelter_form,
        change_form=change_form,
        capacity_form=capacity_form,
        action_form=PostOnlyForm(),
        **_labels(),
    ), status


@blueprint.route("/coordinator")
@requires(Permission.NIGHT_COORDINATE)
def coordinator() -> ResponseReturnValue:
    return _coordinator_page()


def _with_choices(form: ShelterChangeForm | CapacityForm) -> None:
    with request_uow() as uow:
        form.shelter_id.choices = _shelter_choices(shelters.shelters(uow, current_actor()))


@blueprint.route("/coordinator/shelters", methods=["POST"])
@requires(Permission.NIGHT_COORDINATE)
def create_shelter() -> ResponseReturnValue:
    form = ShelterForm(prefix="shelter")
    with request_uow() as uow:
        keepers = overview.shelter_keepers(uow, current_actor())
    form.organisation_id.choices = [SelectChoice(k.id, k.name) for k in keepers]
    if form.validate_on_submit():
        new = shelters.NewShelter(
            organisation_id=form.organisation_id.data or "",
            name=form.name.data or "",
            places=form.places.data or 0,
            opens_on=form.opens_on.data,
            reserved_for_women=form.reserved_for_women.data or 0,
            reserved_for_men=form.reserved_for_men.data or 0,
            closes_on=form.closes_on.data,
        )
        try:
            with request_uow() as uow:
                shelters.create_shelter(uow, current_actor(), new, clock.today())
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The shelter was added."), "info")
            return redirect(url_for("nights.coordinator", _anchor="shelters"))
    return _coordinator_page(shelter_form=form, status=422)


@blueprint.route("/coordinator/shelter-changes", methods=["POST"])
@requires(Permission.NIGHT_COORDINATE)
def update_shelter() -> ResponseReturnValue:
    form = ShelterChangeForm(prefix="change")
    _with_choices(form)
    if form.validate_on_submit():
        change = shelters.ShelterChange(
            places=form.places.data or 0,
            reserved_for_women=form.reserved_for_women.data or 0,
            reserved_for_men=form.reserved_for_men.data or 0,
            closes_on=form.closes_on.data,
        )
        try:
            with request_uow() as uow:
                shelters.update_shelter(
                    uow, current_actor(), form.shelter_id.data or "", change, clock.today()
                )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The shelter's usual places were changed."), "info")
            return redirect(url_for("nights.coordinator", _anchor="shelters"))
    return _coordinator_page(change_form=form, status=422)


@blueprint.route("/coordinator/capacity", methods=["POST"])
@requires(Permission.NIGHT_COORDINATE)
def change_capacity() -> ResponseReturnValue:
    form = CapacityForm(prefix="capacity")
    _with_choices(form)
    if form.validate_on_submit():
        assert form.night.data is not None  # DataRequired
        try:
            with request_uow() as uow:
                shelters.change_capacity(
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
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The places for that night were changed."), "info")
            return redirect(url_for("nights.coordinator", _anchor="capacity"))
    return _coordinator_page(capacity_form=form, status=422)


@blueprint.route("/coordinator/allocation", methods=["POST"])
@requires(Permission.NIGHT_COORDINATE)
def run_allocation() -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("nights.coordinator"))
    try:
        with request_uow() as uow:
            summary = allocation.run_allocation(uow, current_actor(), _settings(), clock.now())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("nights.coordinator"))
    flash(
        _(
            "The places were allocated: %(registered)s registered, %(placed)s placed, "
            "%(turned_away)s on the reserve list.",
            registered=summary.registered,
            placed=summary.placed,
            turned_away=summary.turned_away,
        ),
        "info",
    )
    return redirect(url_for("nights.coordinator", _anchor="demand"))


# --- exclusions --------------------------------------------------------------------------------


class ExclusionForm(PlainTextForm):
    shelter_id = SelectField(_l("From the shelter"))
    card_number = StringField(
        _l("Card number"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=exclusions.MAX_REASON)]
    )
    expires_on = DateField(_l("Until (inclusive)"), validators=[DataRequired()])


def _exclusions_page(form: ExclusionForm | None = None, status: int = 200) -> ResponseReturnValue:
    actor = current_actor()
    today = clock.today()
    include_past = request.args.get("all") == "1"
    keeps_shelters = can(actor, Permission.NIGHT_SHELTER_KEEP)
    with request_uow() as uow:
        listed = exclusions.exclusions(uow, actor, today, include_past=include_past)
        own = shelters.shelters(uow, actor) if keeps_shelters else []
    form = form or ExclusionForm(
        formdata=None, prefix="exclude", expires_on=today + timedelta(days=7)
    )
    form.shelter_id.choices = _shelter_choices(own)
    form.card_number.data = ""  # never sent back
    return render_template(
        "nights/exclusions.html",
        exclusions=listed,
        include_past=include_past,
        form=form if own else None,
        action_form=PostOnlyForm(),
        **_labels(),
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
        own = (
            shelters.shelters(uow, current_actor())
            if can(current_actor(), Permission.NIGHT_SHELTER_KEEP)
            else []
        )
    form.shelter_id.choices = _shelter_choices(own)
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                exclusions.exclude(
                    uow,
                    current_actor(),
                    form.shelter_id.data or "",
                    form.card_number.data,
                    form.reason.data,
                    form.expires_on.data,
                    clock.today(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The exclusion was set. The person may ask for a review."), "info")
            return redirect(url_for("nights.exclusions_page"))
    return _exclusions_page(form, 422)


@blueprint.route("/exclusions/<exclusion_id>/review", methods=["POST"])
@requires(Permission.NIGHT_EXCLUDE)
def request_review(exclusion_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        try:
            with request_uow() as uow:
                exclusions.request_review(uow, current_actor(), exclusion_id, clock.now())
        except DomainError as error:
            show_error(PostOnlyForm(), error)
        else:
            flash(_("The request for a review was recorded."), "info")
    return redirect(url_for("nights.exclusions_page", _anchor=f"x-{exclusion_id}"))


@blueprint.route("/exclusions/<exclusion_id>/lift", methods=["POST"])
@requires(Permission.NIGHT_EXCLUDE)
def lift(exclusion_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        try:
            with request_uow() as uow:
                exclusions.lift(uow, current_actor(), exclusion_id, clock.now())
        except DomainError as error:
            show_error(PostOnlyForm(), error)
        else:
            flash(_("The exclusion was lifted."), "info")
    return redirect(url_for("nights.exclusions_page"))


# --- the public result of each morning's draw ---------------------------------------------------


def _result_page(day: date) -> ResponseReturnValue:
    settings = _settings()
    now = clock.now()
    state: registration.DeskState | None = None
    with request_uow() as uow:
        shown = published.published_day(uow, settings, day)
        if day == registration.local_day(now) and shown.seed is None:
            # Today, before the run: the commitment is drawn (once) and shown from now on.
            state = registration.desk_state(uow, settings, now)
    commitment = state.commitment if state is not None else shown.commitment
    return render_template(
        "nights/result.html",
        shown=shown,
        state=state,
        commitment=commitment,
        day=day,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        is_today=day == registration.local_day(now),
        languages=[
            (
                code,
                name,
                url_for(
                    request.endpoint or "nights.result", **(request.view_args or {}), lang=code
                ),
            )
            for code, name in RESULT_LANGUAGES
        ],
        example_card=(shown.lines[0].card_number.replace(" ", "") if shown.lines else "12345671"),
        **_labels(),
    )


@blueprint.route("/result")
@public
@limiter.limit(PUBLIC_RESULT_RATE)
def result() -> ResponseReturnValue:
    return _result_page(registration.local_day(clock.now()))


@blueprint.route("/result/<day>")
@public
@limiter.limit(PUBLIC_RESULT_RATE)
def result_of_day(day: str) -> ResponseReturnValue:
    if not DAY_IN_PATH.fullmatch(day):
        abort(404)
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    return _result_page(parsed)
