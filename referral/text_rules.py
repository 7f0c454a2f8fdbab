"""The one rule for free text, shared by the web forms (WTForms) and the API (marshmallow).

No field takes control characters: NUL, the other C0 controls and DEL, the C1 controls
(U+0080-U+009F) and the Unicode line and paragraph separators (U+2028, U+2029). They are
invisible on a page, break CSV exports and log lines, and NUL is refused by PostgreSQL
itself. A multi-line field (a text area) also takes line breaks (\\n, and the \\r a browser
sends with them) and tabs. The message names the rule, never the value typed.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField, TextAreaField
from wtforms.validators import ValidationError

# Also refused everywhere: lone UTF-16 surrogates (JSON can carry one, "\ud800"; no text
# holds one, and it cannot be encoded to be sealed) and the bidirectional overrides and
# isolates (U+202A-U+202E, U+2066-U+2069), which make a page show text other than it is.
_ALWAYS_REFUSED = r"\ud800-\udfff\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029" + _ALWAYS_REFUSED + "]")
_MULTI_LINE_REFUSED = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029" + _ALWAYS_REFUSED + "]"
)

SINGLE_LINE_MESSAGE = _l(
    "Remove the control characters (invisible characters such as NUL or a line break)."
)
MULTI_LINE_MESSAGE = _l(
    "Remove the control characters (invisible characters such as NUL); line breaks are fine."
)

# Marks an API field as multi-line: `fields.String(metadata={MULTILINE: True})`.
MULTILINE = "multiline"


def has_refused_character(value: str, multiline: bool = False) -> bool:
    """Does `value` hold a character no field of this kind takes?"""
    pattern = _MULTI_LINE_REFUSED if multiline else _SINGLE_LINE_REFUSED
    return pattern.search(value) is not None


def message(multiline: bool = False) -> str:
    return str(MULTI_LINE_MESSAGE if multiline else SINGLE_LINE_MESSAGE)


# --- The API: marshmallow --------------------------------------------------------------------


class PlainTextValidator(marshmallow.validate.Validator):
    """The rule as a marshmallow validator (the API schemas add it to every string field)."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and has_refused_character(value, self.multiline):
            raise marshmallow.ValidationError(message(self.multiline))
        return value


def guard_string_field(field: marshmallow.fields.Field[Any]) -> None:
    """Add the rule to a string field, and to the strings inside a list field."""
    if isinstance(field, marshmallow.fields.List):
        guard_string_field(field.inner)
    elif isinstance(field, marshmallow.fields.String):
        multiline = bool(field.metadata.get(MULTILINE))
        field.validators = [*field.validators, PlainTextValidator(multiline)]


# --- The web: WTForms ------------------------------------------------------------------------


class PlainText:
    """The rule as a WTForms validator; PlainTextForm adds it to every text field."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Field) -> None:
        data = field.data
        if isinstance(data, str) and has_refused_character(data, self.multiline):
            raise ValidationError(message(self.multiline))


class PlainTextForm(FlaskForm):  # type: ignore[misc]
    """A form whose every text field follows the rule: single-line fields refuse every
    control character, text areas allow line breaks and tabs. Passwords are left alone
    (they are never shown, stored or exported)."""

    def validate(self, extra_validators: dict[str, list[Any]] | None = None) -> bool:
        extra: dict[str, list[Any]] = {k: list(v) for k, v in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                multiline = isinstance(field, TextAreaField)
                extra.setdefault(name, []).append(PlainText(multiline))
        return bool(super().validate(extra_validators=extra))
