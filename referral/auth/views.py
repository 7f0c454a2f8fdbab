"""Login, second factor (enrolment or verification), logout and password change pages."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from referral.auth import forced_change, keep_alive, oidc_accounts, oidc_session, totp
from referral.auth.forms import ChangePasswordForm, CodeForm, LoginForm, PostOnlyForm
from referral.auth.passwords import MIN_PASSWORD_LENGTH
from referral.auth.principal import SessionUser, session_policy
from referral.auth.sessions import LiveSession, extend_session
from referral.policy import Permission
from referral.request_scope import request_session, request_uow
from referral.services import authentication, password_change
from referral.web.access import password_step, public, request_origin, requires
from referral.web.limits import limiter

blueprint = Blueprint("auth", __name__)


@blueprint.app_context_processor
def _session_timing() -> dict[str, object]:
    # Every page's base.html reads it to tell session-timeout.js when to warn.
    return {"session_timing": keep_alive.page_timing}


def _lockout_policy() -> authentication.LockoutPolicy:
    settings = current_app.config["REFERRAL_SETTINGS"]
    return authentication.LockoutPolicy(
        max_failures=settings.login_max_failures,
        lockout=timedelta(minutes=settings.login_lockout_minutes),
    )


def _login_rate() -> str:
    rate: str = current_app.config["REFERRAL_SETTINGS"].login_rate_limit
    return rate


# Percent-decoding more often than this means someone is hiding something: refuse.
_MAX_DECODINGS = 4


def _is_local_path(value: str) -> bool:
    """A path on this site in every reading a browser may give it: one leading slash (not
    two), no scheme or host, no backslash (some browsers read it as a slash) and no control
    or invisible character (browsers drop tabs and newlines, turning a slash, a tab and
    `/host` into `//host`, and a newline in a Location header would split the header)."""
    if not value.startswith("/") or value.startswith("//"):
        return False
    if "\\" in value or not value.isprintable():
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: `target` when it is a path on this site, else the start
    page. An open redirect would make a phishing link look like ours, so every layer of
    percent-decoding must be a local path too."""
    fallback = url_for("home.index")
    candidate = (target or "").strip()
    layer = candidate
    for _decoding in range(_MAX_DECODINGS):
        if not _is_local_path(layer):
            return fallback
        decoded = unquote(layer)
        if decoded == layer:
            return candidate
        layer = decoded
    return fallback


def _start(live: LiveSession, *, keep_provider: bool = False) -> None:
    # A new Flask session too, so nothing from before this step survives it (but, after the
    # TOTP step, which identity provider signed the person in: its logout is offered at ours).
    kept = oidc_session.kept_across_steps(session) if keep_provider else {}
    session.clear()
    session.update(kept)
    login_user(SessionUser(live))


@blueprint.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_rate, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated and current_user.live.mfa_verified:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        with request_uow() as uow:
            pending = authentication.check_password(
                uow,
                form.username.data or "",
                form.password.data or "",
                _lockout_policy(),
                request_origin(),
            )
        if pending is not None:
            _start(pending)
            session["next"] = _safe_next(request.args.get("next"))
            return redirect(url_for("auth.second_factor"))
        flash(_("Wrong username or password, or the account is locked for a while."), "error")
    status = 401 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@blueprint.route("/mfa", methods=["GET", "POST"])
@password_step
@limiter.limit(_login_rate, methods=["POST"])
def second_factor() -> ResponseReturnValue:
    live: LiveSession = current_user.live
    if live.mfa_verified:
        return redirect(url_for("home.index"))
    settings = current_app.config["REFERRAL_SETTINGS"]
    user = live.user
    form = CodeForm()
    # A provider subject waiting to be linked to this account once its own code is accepted.
    pending_link = oidc_accounts.PendingLink.from_session(session.get(oidc_session.PENDING_LINK))
    with request_uow() as uow:
        enrolling = not user.totp_confirmed
        seed = authentication.enrolment_seed(uow, user, settings.mfa_key) if enrolling else None
        if form.validate_on_submit():
            code = form.code.data or ""
            if pending_link is None:
                outcome = authentication.check_second_factor(
                    uow, live, code, settings.mfa_key, _lockout_policy(), request_origin()
                )
            else:
                try:
                    outcome = oidc_accounts.check_code_and_link(
                        uow,
                        live,
                        pending_link,
                        code,
                        settings.mfa_key,
                        _lockout_policy(),
                        request_origin(),
                    )
                except oidc_accounts.Refused:
                    return _link_refused()
            if outcome.session is not None:
                target = session.get("next")
                _start(outcome.session, keep_provider=True)
                return redirect(_safe_next(target))
            if outcome.locked_out:
                logout_user()
                session.clear()
                flash(
                    _("Wrong username or password, or the account is locked for a while."), "error"
                )
                return redirect(url_for("auth.login"))
            flash(
                _(
                    "That code was not accepted. A code works once, and only while your app "
                    "shows it: enter the code it shows now."
                ),
                "error",
            )
    qr = totp.qr_svg(totp.provisioning_uri(seed, user.username)) if seed else None
    status = 401 if request.method == "POST" else 200
    return render_template(
        "second_factor.html", form=form, enrolling=enrolling, qr_svg=qr, seed=seed
    ), status


def _link_refused() -> ResponseReturnValue:
    """The code was right but the link it waited for can no longer be made (the invitation
    was spent, withdrawn or expired meanwhile): the session is over, the login page says so."""
    logout_user()
    session.clear()
    flash(
        _(
            "This invitation cannot be used: it has been used, has expired or belongs to "
            "another account. Ask your administrator for a new one."
        ),
        "error",
    )
    return redirect(url_for("auth.login"))


@blueprint.route("/logout", methods=["POST"])
@password_step
def logout() -> ResponseReturnValue:
    form = PostOnlyForm()
    if form.validate_on_submit():
        with request_uow() as uow:
            authentication.log_out(uow, current_user.live, request_origin())
    signed_in_with = session.get(oidc_session.SIGNED_IN_WITH)
    logout_user()
    session.clear()
    if signed_in_with is not None:
        # The login page offers the provider's own logout (its session is not ours to end).
        session[oidc_session.PROVIDER_LOGOUT] = signed_in_with
    flash(_("You are logged out."), "info")
    response = redirect(url_for("auth.login"))
    # The browser drops what it kept of the session's pages (a shared computer's back button)
    # and anything a script stored. Not "cookies": the new session cookie carries the notice
    # above, and the server-side session is already gone (ASVS 5.0 V14.3.1).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@blueprint.route("/account/password", methods=["GET", "POST"])
@requires(Permission.OWN_PASSWORD_CHANGE)
@limiter.limit(_login_rate, methods=["POST"])
def change_password() -> ResponseReturnValue:
    """The signed-in person's own password: the current one, and the new one twice."""
    live: LiveSession = current_user.live
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _password_page(form, 422 if form.errors else 200)
    with request_uow() as uow:
        outcome = password_change.change_password(
            uow,
            live,
            password_change.PasswordChange(
                current=form.current_password.data or "",
                new=form.new_password.data or "",
                again=form.new_password_again.data or "",
            ),
            _lockout_policy(),
            request_origin(),
        )
    if outcome.locked_out:
        logout_user()
        session.clear()
        flash(_("Wrong username or password, or the account is locked for a while."), "error")
        return redirect(url_for("auth.login"))
    if not outcome.changed:
        for name, message in outcome.problems.items():
            form[name].errors.append(message)
        return _password_page(form, 422)
    flash(
        _("Your password has been changed. You are still logged in here; elsewhere you are not."),
        "info",
    )
    return redirect(url_for("home.index"))


def _password_page(form: ChangePasswordForm, status: int) -> ResponseReturnValue:
    return render_template(
        "change_password.html",
        form=form,
        required=forced_change.is_due_now(),
        min_length=MIN_PASSWORD_LENGTH,
    ), status


@blueprint.route("/session/extend", methods=["POST"])
# Public to the gate, which would answer an ended session with a redirect to the login page:
# the caller is a script that needs a plain 401 to tell the person their session has ended.
@public
@limiter.limit(keep_alive.EXTEND_RATE, key_func=keep_alive.rate_key)
def extend() -> ResponseReturnValue:
    """The person chose to stay logged in: the idle limit starts again from now."""
    live = keep_alive.verified_session()
    if live is None:
        return _session_ended()
    # The CSRF check every other POST gets before its view, made here after the session's:
    # see _check_csrf_in_the_view below.
    current_app.extensions["csrf"].protect()
    expires_at = extend_session(request_session(), live.token, session_policy())
    if expires_at is None:
        return _session_ended()
    return jsonify(keep_alive.timing(expires_at).as_json())


def _session_ended() -> ResponseReturnValue:
    return jsonify({"status": 401, "detail": _("Your session has ended.")}), 401


@blueprint.record_once
def _check_csrf_in_the_view(state: BlueprintSetupState) -> None:
    """The global CSRF check runs before any view and would answer an ended session with 400,
    hiding that it has ended; `extend` makes the same check itself, once the session is
    known to be live."""
    state.app.extensions["csrf"].exempt(extend)
