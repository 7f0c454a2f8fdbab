"""Forms of the DPO's pages. Filters travel in the URL, so they hold pseudonymous ids only;
a personnummer is only ever posted, never put in a URL."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from audit.actions import Action, Outcome
from referral.text_rules import PlainTextForm
from referral.web.choices import SelectChoice


def choices(values: Iterable[str], blank: bool = True) -> list[SelectChoice]:
    options = [SelectChoice(value, value) for value in values]
    return [SelectChoice("", "—"), *options] if blank else options


class AuditFilterForm(PlainTextForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    since = DateTimeLocalField(_l("From (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField(_l("Until (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    actor = StringField(_l("User (login name or id)"), validators=[Optional(), Length(max=64)])
    organisation_id = SelectField(_l("Organisation"), validators=[Optional()], choices=[])
    action = SelectField(_l("Action"), validators=[Optional()], choices=choices(Action))
    outcome = SelectField(_l("Outcome"), validators=[Optional()], choices=choices(Outcome))


class PersonnummerForm(PlainTextForm):
    personnummer = StringField(
        _l("Personnummer or samordningsnummer"),
        validators=[DataRequired(), Length(max=13)],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
