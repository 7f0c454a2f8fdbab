"""Sign-in through the city's identity provider (OpenID Connect): the pages.

/login/oidc/<provider> starts an attempt (state, nonce and PKCE verifier kept in the signed
session, one attempt at a time); the provider sends the browser back to the callback, which
takes the attempt out of the session before anything else (so a second arrival with the
same code and state finds none), has the code exchanged and the ID token checked
(oidc_client), and lets oidc_accounts decide who the subject may become. A session the
provider proved a second factor for is verified at once; any other goes through our TOTP
step first, exactly as after a password. So does a sign-in through an invitation to an
account already in use: the link waits, in the session, for that account's own code
(see oidc_accounts), and the provider's second factor does not stand in for it.

An invitation's link (/login/invitation/<token>) leaves only the token's hash in the
session and starts the attempt for its provider.
"""

from __future__ import annotations

import hmac
import re
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from config.settings import OidcProvider, Settings
from referral import clock
from referral.auth import oidc_accounts, oidc_session
from referral.auth.forms import LoginForm
from referral.auth.oidc_client import AuthorizationRequest, SignInRefused, client_for
from referral.auth.views import _safe_next, _start
from referral.request_scope import request_uow
from referral.web.access import public, request_origin
from referral.web.limits import limiter

blueprint = Blueprint("oidc", __name__)

# An attempt not finished within this time is refused: the person starts again.
ATTEMPT_SECONDS = 600
# The form of the tokens invite() makes (secrets.token_urlsafe(32)): anything else is not one.
INVITATION_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")

# What the person is told, by the kind of refusal (the access log has the exact reason).
_UNLINKED = {"unlinked_subject"}
_INVITATION = {
    "invitation_unknown",
    "invitation_used",
    "invitation_expired",
    "subject_already_linked",
    "account_already_linked",
}
_ACCOUNT = {"disabled", "locked", "organisation", "domain"}


def _settings() -> Settings:
    settings: Settings = current_app.config["REFERRAL_SETTINGS"]
    return settings


def _rate() -> str:
    return _settings().login_rate_limit


def _provider(key: str) -> OidcProvider:
    provider = _settings().oidc_provider(key)
    if provider is None:
        abort(404)
    return provider


def _base_url() -> str:
    """The service's address: the configured public one (production requires it), else
    this request's (development and tests on loopback)."""
    return _settings().public_url or request.url_root.rstrip("/")


def redirect_uri(provider: OidcProvider) -> str:
    return _base_url() + url_for("oidc.callback", provider=provider.key)


@blueprint.app_context_processor
def _sign_in_choices() -> dict[str, Any]:
    """The login page's buttons, one per provider, and the provider logout it may offer."""
    settings: Settings | None = current_app.config.get("REFERRAL_SETTINGS")
    providers = settings.oidc_providers if settings else ()
    logout = session.get(oidc_session.PROVIDER_LOGOUT)
    logout_provider = settings.oidc_provider(logout["provider"]) if settings and logout else None
    return {"identity_providers": providers, "provider_logout": logout_provider}


def _message(provider: OidcProvider | None, reason: str) -> str:
    name = provider.display_name if provider is not None else ""
    message: str
    if reason in _UNLINKED:
        message = _(
            "Your account at %(provider)s is not linked to an account in this service. Ask "
            "your administrator for an invitation.",
            provider=name,
        )
    elif reason in _INVITATION:
        message = _(
            "This invitation cannot be used: it has been used, has expired or belongs to "
            "another account. Ask your administrator for a new one."
        )
    elif reason in _ACCOUNT:
        message = _("You cannot sign in to this service. Contact your administrator.")
    else:
        message = _(
            "The sign-in through %(provider)s could not be completed. Try again.", provider=name
        )
    return message


def _refused(provider: OidcProvider, reason: str, *, recorded: bool = False) -> ResponseReturnValue:
    if not recorded:
        with request_uow() as uow:
            oidc_accounts.record_refusal(uow, provider.key, reason, request_origin())
    flash(_message(provider, reason), "error")
    return render_template("login.html", form=LoginForm(formdata=None)), 401


def _begin(provider: OidcProvider, invitation_hash: str | None) -> ResponseReturnValue:
    try:
        attempt = client_for(provider).authorization_request(redirect_uri(provider))
    except SignInRefused as refusal:
        return _refused(provider, refusal.reason)
    session[oidc_session.PENDING] = {
        "provider": provider.key,
        "state": attempt.state,
        "nonce": attempt.nonce,
        "code_verifier": attempt.code_verifier,
        "started": clock.now().timestamp(),
        "next": _safe_next(request.args.get("next")),
        "invitation": invitation_hash,
    }
    return redirect(attempt.url)


@blueprint.route("/login/oidc/<provider>")
@public
@limiter.limit(_rate)
def start(provider: str) -> ResponseReturnValue:
    """A link, not a form: the browser follows our redirect to the provider, which a form's
    CSP form-action 'self' would forbid."""
    return _begin(_provider(provider), None)


@blueprint.route("/login/invitation/<token>")
@public
@limiter.limit(_rate)
def invitation(token: str) -> ResponseReturnValue:
    """The link an administrator handed over: its token's hash goes into the attempt, the
    token itself nowhere."""
    if not INVITATION_TOKEN.match(token):
        abort(404)
    hashed = oidc_accounts.token_hash(token)
    try:
        with request_uow() as uow:
            key = oidc_accounts.invitation_provider(uow, hashed, request_origin())
    except oidc_accounts.Refused as refusal:
        flash(_message(None, refusal.reason), "error")
        return render_template("login.html", form=LoginForm(formdata=None)), 410
    provider = _settings().oidc_provider(key)
    if provider is None:  # made for a provider no longer configured
        abort(404)
    return _begin(provider, hashed)


@blueprint.route("/login/oidc/<provider>/callback")
@public
@limiter.limit(_rate)
def callback(provider: str) -> ResponseReturnValue:
    chosen = _provider(provider)
    # Taken out first: whatever happens next, this attempt cannot be completed twice.
    pending = session.pop(oidc_session.PENDING, None)
    state = request.args.get("state", "")
    if (
        not isinstance(pending, dict)
        or pending.get("provider") != chosen.key
        or not hmac.compare_digest(str(pending.get("state", "")), state)
    ):
        return _refused(chosen, "state")
    if request.args.get("error"):
        # The person cancelled, or the provider would not sign them in.
        return _refused(chosen, "provider_error")
    if clock.now().timestamp() - float(pending["started"]) > ATTEMPT_SECONDS:
        return _refused(chosen, "attempt_expired")
    code = request.args.get("code", "")
    if not code:
        return _refused(chosen, "no_code")
    attempt = AuthorizationRequest(
        url="", state=state, nonce=pending["nonce"], code_verifier=pending["code_verifier"]
    )
    try:
        identity = client_for(chosen).complete(
            code,
            attempt,
            redirect_uri(chosen),
            now=clock.now(),
            leeway_seconds=_settings().oidc_clock_skew_seconds,
        )
    except SignInRefused as refusal:
        return _refused(chosen, refusal.reason)
    previous = current_user.live.token if current_user.is_authenticated else None
    try:
        with request_uow() as uow:
            signed_in = oidc_accounts.sign_in(
                uow, chosen, identity, pending.get("invitation"), request_origin(), previous
            )
    except oidc_accounts.Refused as refusal:
        return _refused(chosen, refusal.reason, recorded=True)
    live = signed_in.session
    _start(live)
    session[oidc_session.SIGNED_IN_WITH] = {"provider": chosen.key, "id_token": identity.id_token}
    if signed_in.pending_link is not None:
        session[oidc_session.PENDING_LINK] = signed_in.pending_link.as_session()
    target = pending.get("next")
    if live.mfa_verified:
        return redirect(_safe_next(target))
    session["next"] = target
    return redirect(url_for("auth.second_factor"))


@blueprint.route("/logout/provider")
@public
def provider_logout() -> ResponseReturnValue:
    """After our logout: on to the provider's, with the ID token as its hint."""
    remembered = session.pop(oidc_session.PROVIDER_LOGOUT, None)
    provider = _settings().oidc_provider(remembered["provider"]) if remembered else None
    if provider is None or remembered is None:
        return redirect(url_for("auth.login"))
    url = client_for(provider).end_session_url(
        remembered["id_token"], _base_url() + url_for("auth.login")
    )
    return redirect(url or url_for("auth.login"))


def invitation_link(token: str) -> str:
    return _base_url() + url_for("oidc.invitation", token=token)


def invitation_lifetime() -> timedelta:
    return timedelta(hours=_settings().oidc_invitation_hours)
