"""Forms of the DPO's pages. Filters travel in the URL, so they hold pseudonymous ids only;
a personnummer is only ever posted, never put in a URL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from audit.actions import Action, Outcome
from audit.tables import MAX_SEQUENCE
from referral.text_rules import PlainTextForm
from referral.web.choices import SelectChoice
from referral.words import ACTION_WORDS, OUTCOME_WORDS


def choices(
    values: Iterable[str], words: Mapping[str, LazyString], blank: bool = True
) -> list[SelectChoice]:
    """The codes as the log stores them, named in words (lazy: in the reader's language)."""
    options = [SelectChoice(value, words.get(value, value)) for value in values]
    return [SelectChoice("", "—"), *options] if blank else options


class AuditFilterForm(PlainTextForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    since = DateTimeLocalField(_l("From"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField(
        _l("To (inclusive)"), validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    actor = StringField(_l("User (login name or id)"), validators=[Optional(), Length(max=64)])
    organisation_id = SelectField(_l("Organisation"), validators=[Optional()], choices=[])
    action = SelectField(
        _l("Action"), validators=[Optional()], choices=choices(Action, ACTION_WORDS)
    )
    outcome = SelectField(
        _l("Outcome"), validators=[Optional()], choices=choices(Outcome, OUTCOME_WORDS)
    )
    # Where the next page starts (the link to it sets it; the form does not show it unless it
    # is wrong): checked here, since a number past the column's range failed in the database.
    before = IntegerField(_l("Page"), validators=[Optional(), NumberRange(min=1, max=MAX_SEQUENCE)])


class PersonnummerForm(PlainTextForm):
    personnummer = StringField(
        _l("Personnummer or samordningsnummer"),
        validators=[DataRequired(), Length(max=13)],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
