"""My sessions ("Mina inloggningar"): the signed-in person's live sessions, and ending the
ones they do not use (OWASP ASVS 5.0 V7.5.2). The service (referral.services.own_sessions)
names each session by a handle that is neither its token nor its stored hash."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.auth.principal import session_policy
from referral.errors import DomainError
from referral.i18n import _l
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import own_sessions
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires

blueprint = Blueprint("my_sessions", __name__, url_prefix="/account/sessions")


class EndSessionForm(PlainTextForm):
    session = HiddenField(
        _l("Session to end"),
        validators=[
            DataRequired(),
            Regexp(
                rf"^[0-9a-f]{{{own_sessions.HANDLE_CHARACTERS}}}$",
                message=_l("This does not name a session."),
            ),
        ],
    )


def _asking() -> own_sessions.Asking:
    settings = current_app.config["REFERRAL_SETTINGS"]
    return own_sessions.Asking(
        actor=current_actor(),
        token=current_user.live.token,
        key=own_sessions.handle_key(settings.secret_key),
        policy=session_policy(),
        now=clock.now(),
    )


def _page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    with request_uow() as uow:
        sessions = own_sessions.list_own_sessions(uow, _asking())
    return render_template(
        "my_sessions.html",
        sessions=sessions,
        end_form=EndSessionForm(formdata=None),
        action_form=PostOnlyForm(),
        error=error,
    ), status


@blueprint.route("")
@requires(Permission.OWN_SESSIONS_MANAGE)
def page() -> ResponseReturnValue:
    return _page()


@blueprint.route("/end", methods=["POST"])
@requires(Permission.OWN_SESSIONS_MANAGE)
def end() -> ResponseReturnValue:
    """End one other session; a handle that names none of the person's live sessions is
    refused on the page itself, and nothing ends."""
    form = EndSessionForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.get("session", [])), _("Try again."))
        return _page(422, f"{_('Session to end')}: {message}")
    try:
        with request_uow() as uow:
            own_sessions.end_own_session(uow, _asking(), form.session.data or "")
    except DomainError as error:
        return _page(error.status, error.message)
    flash(_("The session has ended: whoever used it must sign in again."), "info")
    return redirect(url_for("my_sessions.page"))


@blueprint.route("/end-others", methods=["POST"])
@requires(Permission.OWN_SESSIONS_MANAGE)
def end_others() -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        with request_uow() as uow:
            ended = own_sessions.end_other_sessions(uow, _asking())
        flash(
            ngettext(
                "%(num)s other session has ended.", "%(num)s other sessions have ended.", ended
            )
            if ended
            else _("No other session was open."),
            "info",
        )
    return redirect(url_for("my_sessions.page"))
