"""Forms of the group leader's group pages (shape only; the groups service holds the rules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from referral.rules import MAX_AGE, MIN_AGE
from referral.text_rules import PlainTextForm
from referral.web.casework_forms import MultiCheckboxField
from referral.web.choices import SelectChoice

FORMAT_CHOICES = [
    SelectChoice("weekly", _l("Weekly group: 8 meetings of 2 hours")),
    SelectChoice("weekend", _l("Support weekend: Friday to Sunday and a follow-up Saturday")),
]
VISIT_LABELS = {"home": _l("Home visit"), "at_partner": _l("Meeting at our premises")}


class GroupForm(PlainTextForm):
    name = StringField(
        _l("Name of the group (never a child's name)"),
        validators=[DataRequired(), Length(max=100)],
    )
    group_format = SelectField(_l("Format"), choices=FORMAT_CHOICES)
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    min_age = IntegerField(
        _l("Youngest age"), default=MIN_AGE, validators=[NumberRange(MIN_AGE, MAX_AGE)]
    )
    max_age = IntegerField(
        _l("Oldest age"), default=MAX_AGE, validators=[NumberRange(MIN_AGE, MAX_AGE)]
    )
    leader_ids = MultiCheckboxField(_l("Group leaders"))


class EnrolForm(PlainTextForm):
    group_id = SelectField(_l("Group"))


class VisitForm(PlainTextForm):
    enrolment_id = StringField(validators=[DataRequired(), Length(max=36)])
    kind = SelectField(
        _l("Kind of visit"), choices=[SelectChoice(k, v) for k, v in VISIT_LABELS.items()]
    )
    day = DateField(_l("Date of the visit"), validators=[DataRequired()])
