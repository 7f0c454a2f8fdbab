"""Forms of the social worker's and the group leader's pages (Flask-WTF: CSRF on each).

The forms check shape only (required, length, choice); the rules of the law are the
services' (referral.services.consent / referrals), whose errors name the field they concern.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    Field,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from referral.rules import Category, Decision, PlacementBasis
from referral.services.referrals import MAX_NOTES
from referral.text_rules import PlainTextForm
from referral.web.choices import SelectChoice, choices_from

CATEGORY_LABELS = {
    Category.NAME.value: _l("Name"),
    Category.AGE.value: _l("Age"),
    Category.CONTACT.value: _l("Contact details"),
    Category.PARTICIPATION.value: _l("Participation registration"),
}
DECISION_LABELS = {
    Decision.GIVEN.value: _l("Given"),
    Decision.REFUSED.value: _l("Refused"),
    Decision.WITHDRAWN.value: _l("Withdrawn"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "awaiting_consent": _l("Awaiting consent"),
    "shared": _l("Shared with the partner"),
    "accepted": _l("Accepted by the partner"),
    "placed": _l("Placed in a group"),
    "participating": _l("Participating"),
    "completed": _l("Completed"),
    "declined": _l("Declined by the partner"),
    "withdrawn": _l("Withdrawn"),
    "cancelled": _l("Cancelled"),
}
BASIS_LABELS = {
    "sol_consent": _l("SoL with the consent of every custodian"),
    "lvu": _l("LVU decision"),
    "concern_report": _l("Concern report"),
}
METHOD_LABELS = {"written": _l("In writing"), "oral": _l("Orally (documented)")}
FORMAT_LABELS = {
    "weekly": _l("Weekly group (8 meetings)"),
    "weekend": _l("Support weekend"),
    "partner_decides": _l("The partner decides"),
}


def default_consent_end(group_ends_on: date | None, today: date, days: int) -> date:
    """A new consent's end date as the form offers it: the last session of the group the
    child is placed in, so that the partner does not lose the child half-way; before a
    group is known, a configured period (REFERRAL_CONSENT_DEFAULT_DAYS). A consent always
    ends; the social worker may change the date."""
    if group_ends_on is not None and group_ends_on >= today:
        return group_ends_on
    return today + timedelta(days=days)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RegisterChildForm(PlainTextForm):
    personnummer = StringField(
        _l("Personnummer or samordningsnummer"),
        validators=[DataRequired(), Length(max=13)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class FindChildForm(PlainTextForm):
    # One box, as in the case systems social workers know: digits are a personnummer in any
    # common form (with or without century, hyphen or plus), letters a name in the district;
    # either may be the district's own case number, matched whole.
    personnummer = StringField(
        _l("Personnummer, samordningsnummer, name or case number"),
        validators=[DataRequired(), Length(max=100)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class CaseNumberForm(PlainTextForm):
    # The rule (alphabet, length) is the service's, so the API and the page say the same.
    case_number = StringField(
        _l("Case number (the district's own)"),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class ResponsibleWorkerForm(PlainTextForm):
    # The choices are the district's active social workers (set by the view); the service
    # checks the one chosen is still one of them.
    responsible_worker_id = SelectField(_l("Responsible social worker"))


# The district's list: whose children, in which order (query parameters, never personal).
SHOW_LABELS = {"mine": _l("My children"), "all": _l("All children in the district")}
ORDER_LABELS = {
    "newest": _l("Newest first"),
    "name": _l("Name"),
    "age": _l("Age"),
    "status": _l("Status of open referral"),
}


class PlacementForm(PlainTextForm):
    basis = SelectField(
        _l("Placement basis"),
        choices=[
            SelectChoice(PlacementBasis.SOL.value, _l("SoL (voluntary: guardians consent)")),
            SelectChoice(PlacementBasis.LVU.value, _l("LVU (care under compulsion)")),
        ],
    )
    lvu_decision = StringField(
        _l("LVU decision (reference and date)"), validators=[Optional(), Length(max=200)]
    )
    lvu_decided_by = StringField(_l("Deciding body"), validators=[Optional(), Length(max=200)])
    lvu_decided_on = DateField(_l("Date of the LVU decision"), validators=[Optional()])


class LvuSharingForm(PlainTextForm):
    """Under LVU the social worker decides, category by category, what the partner may see."""

    shared = MultiCheckboxField(
        _l("Data categories the partner may see (your decision under LVU)"),
        choices=choices_from(CATEGORY_LABELS),
    )


GENDER_LABELS = {"": _l("Not recorded"), "girl": _l("Girl"), "boy": _l("Boy"), "other": _l("Other")}


class Sent:
    """The field must be in the request, empty or not. The details form replaces every
    detail at once, so a post that leaves a field out (no browser does; a script might)
    changes nothing rather than clearing what it did not send."""

    def __call__(self, form: PlainTextForm, field: Field) -> None:
        if not field.raw_data:
            raise StopValidation(_l("This field is missing from the form: nothing was saved."))


class DetailsForm(PlainTextForm):
    gender = SelectField(
        _l("Gender"),
        choices=choices_from(GENDER_LABELS),
        validators=[Sent()],
    )
    family_home_name = StringField(
        _l("Family home (names)"), validators=[Sent(), Optional(), Length(max=200)]
    )
    family_home_address = StringField(
        _l("Family home address"), validators=[Sent(), Optional(), Length(max=200)]
    )
    family_home_phone = StringField(
        _l("Family home phone"), validators=[Sent(), Optional(), Length(max=200)]
    )
    paying_municipality = StringField(
        _l("Paying municipality (only for a child placed by another municipality)"),
        validators=[Sent(), Optional(), Length(max=100)],
    )
    child_views = TextAreaField(
        _l("The child's own views (noted for every child, whatever the age)"),
        validators=[Sent(), Optional(), Length(max=2000)],
    )


class GuardianForm(PlainTextForm):
    name = StringField(_l("Guardian's name"), validators=[DataRequired(), Length(max=200)])
    contact = StringField(_l("Contact (phone or e-mail)"), validators=[Optional(), Length(max=200)])
    has_custody = BooleanField(_l("Has custody (their consent is required)"), default=True)


class ConsentForm(PlainTextForm):
    party = SelectField(_l("Whose decision"))
    decision = SelectField(_l("Decision"), choices=choices_from(DECISION_LABELS))
    categories = MultiCheckboxField(
        _l("Data categories the partner may see"),
        choices=choices_from(CATEGORY_LABELS),
    )
    decided_on = DateField(_l("Date of the decision"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
    method = SelectField(_l("How it was obtained"), choices=choices_from(METHOD_LABELS))
    description_version = SelectField(
        _l("Version of the activity description the guardian received")
    )


class ReferralForm(PlainTextForm):
    partner_id = SelectField(_l("Partner organisation"))
    preferred_format = SelectField(_l("Preferred format"), choices=choices_from(FORMAT_LABELS))
    notes = TextAreaField(
        _l("Notes for the district (relevant facts only; never shared with the partner)"),
        validators=[Optional(), Length(max=MAX_NOTES)],
    )
