"""The forms of Programme C's pages: the desk's registration, new card and look-up, the
coordinator's shelters and places, and an exclusion."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from referral.services.nights import exclusions, people, registration, shelters
from referral.text_rules import PlainTextForm
from referral.web.choices import SelectChoice, choices_from
from referral.web.nights.common import GENDER_LABELS, OVERRIDE_LABELS


def _card_number(more: dict[str, Any] | None = None) -> StringField:
    """Typed or scanned: digits, never completed or corrected by the browser."""
    return StringField(
        _l("Card number"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}
        | (more or {}),
    )


def _places(label: str, **options: Any) -> IntegerField:
    return IntegerField(
        label, validators=[InputRequired(), NumberRange(0, shelters.MAX_PLACES)], **options
    )


# --- the registration desk --------------------------------------------------------------------


class RegisterForm(PlainTextForm):
    card_number = _card_number({"autofocus": True, "autocapitalize": "off", "class": "card-number"})
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
    card_number = _card_number()


# --- the coordinator ---------------------------------------------------------------------------


class ShelterForm(PlainTextForm):
    organisation_id = SelectField(_l("Kept by"))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=shelters.MAX_NAME)])
    places = _places(_l("Places a night"))
    reserved_for_women = _places(_l("Of which reserved for women"), default=0)
    reserved_for_men = _places(_l("Of which reserved for men"), default=0)
    opens_on = DateField(_l("Opens on"), validators=[DataRequired()])
    closes_on = DateField(_l("Closes on (if known)"), validators=[Optional()])


class ShelterChangeForm(PlainTextForm):
    shelter_id = SelectField(_l("Shelter"))
    places = _places(_l("Usual places a night"))
    reserved_for_women = _places(_l("Of which reserved for women"), default=0)
    reserved_for_men = _places(_l("Of which reserved for men"), default=0)
    closes_on = DateField(_l("Closes on (if known)"), validators=[Optional()])


class CapacityForm(PlainTextForm):
    shelter_id = SelectField(_l("Shelter"))
    night = DateField(_l("Night (the evening it begins)"), validators=[DataRequired()])
    places = _places(_l("Places that night"))
    reserved_for_women = _places(_l("Of which reserved for women"), default=0)
    reserved_for_men = _places(_l("Of which reserved for men"), default=0)
    reason = StringField(
        _l("Why the places change that night"),
        validators=[DataRequired(), Length(max=shelters.MAX_REASON)],
    )


def shelter_choices(listed: list[shelters.ShelterView]) -> list[SelectChoice]:
    return [SelectChoice(s.id, f"{s.name} ({s.organisation_name})") for s in listed]


# --- exclusions --------------------------------------------------------------------------------


class ExclusionForm(PlainTextForm):
    shelter_id = SelectField(_l("From the shelter"))
    card_number = _card_number()
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=exclusions.MAX_REASON)]
    )
    expires_on = DateField(_l("Until (inclusive)"), validators=[DataRequired()])
