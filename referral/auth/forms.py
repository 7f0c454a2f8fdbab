"""Login forms (Flask-WTF: CSRF on every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from referral.auth.passwords import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        _l("Six-digit code"),
        validators=[DataRequired(), Length(min=6, max=8)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class PostOnlyForm(FlaskForm):  # type: ignore[misc]
    """A button that changes state: carries only the CSRF token."""


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    """One's own password: the current one, then the new one twice. The new one's rules are
    the service's (referral.auth.passwords.password_problem); a password is taken as typed,
    spaces and all (ASVS 6.2.8), and never written back into the page."""

    current_password = PasswordField(
        _l("Current password"),
        # The bound only keeps argon2 from hashing a megabyte; no password is longer.
        validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[InputRequired()],
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        _l("New password again"),
        validators=[InputRequired()],
        render_kw={"autocomplete": "new-password"},
    )
