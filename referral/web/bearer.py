"""The bearer path of the gate: a city system calling /api/v1 with its API client's token.

A request with `Authorization: Bearer …` is judged by the token alone, never by a cookie:
the token is verified (referral.auth.api_clients.verify), the client's calls counted against
its own rate limit, and its actor (a system actor of the client's organisation and role,
narrowed to its scopes) asked the same policy as a person of that organisation and role.
Only the API takes tokens: a page asked for with one is refused.

Such a request needs no CSRF token when it carries no session cookie: a browser cannot be
made to send a header it was not told to, so there is nothing to forge. A request with both
is checked as any request with a cookie is.

No answer, log line or access-log entry carries the token.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, make_response, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFProtect

from audit.actions import Action, Outcome
from audit.record import record
from referral import clock
from referral.auth import api_clients
from referral.db.uow import record_denial
from referral.errors import Denial, DomainError
from referral.policy import Permission, can, client_scopes
from referral.request_scope import request_uow
from referral.roles import Role
from referral.web.access import (
    BEARER_ADMITTED,
    AccessRule,
    Level,
    is_api_request,
    request_origin,
    rule_for,
)
from referral.web.errors import problem
from referral.web.limits import api_client_retry_after, refused_token_retry_after

INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'  # noqa: S105 - a header, not a secret


class BearerNotAccepted(DomainError):
    """A token sent to a page: pages take a signed-in person's session, never a token."""

    status = 400
    code = "bearer_not_accepted"


def bearer_credentials() -> str | None:
    """What follows `Bearer ` in the Authorization header ("" when nothing does), or None
    when the request carries no bearer header at all."""
    value = request.headers.get("Authorization")
    if value is None:
        return None
    scheme, _space, credentials = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


def has_session_cookie() -> bool:
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def csrf_exempt() -> bool:
    """A bearer request without a session cookie: the one kind of write without CSRF."""
    return bearer_credentials() is not None and not has_session_cookie()


def csrf_check(csrf: CSRFProtect) -> Callable[[], None]:
    """Flask-WTF's before_request check, sparing only what csrf_exempt() spares."""

    def check() -> None:
        if not current_app.config.get("WTF_CSRF_ENABLED", True) or csrf_exempt():
            return
        csrf.protect(apply_exemptions=True)

    return check


def _invalid_token() -> ResponseReturnValue:
    response = make_response(
        problem(
            401,
            _("The API token is not valid: it is unknown, expired, revoked or malformed."),
            "invalid_token",
        )
    )
    response.headers["WWW-Authenticate"] = INVALID_TOKEN_CHALLENGE
    return response


def _too_many(retry_after: int, message: str | None = None) -> ResponseReturnValue:
    response = make_response(
        problem(
            429,
            message
            or _("This API client has made too many calls. Wait %(n)s seconds.", n=retry_after),
            "too_many_requests",
        )
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def gate() -> ResponseReturnValue | None:
    """before_request, just before access.gate: a request with a bearer header is judged
    here, by its token alone, and either refused or marked admitted (access.gate then lets
    it through). Any other request, and one for no route, is left to access.gate."""
    credentials = bearer_credentials()
    if credentials is None or request.endpoint is None:
        return None
    rule = rule_for(current_app, request.endpoint, request.method)
    if rule is None:
        return None  # access.gate answers 404
    refusal = authenticate(rule, credentials)
    if refusal is None:
        g.setdefault(BEARER_ADMITTED, True)
    return refusal


def authenticate(rule: AccessRule, credentials: str) -> ResponseReturnValue | None:
    """The gate for a bearer request: None when the call may go on (g.actor is its client's
    actor), else the refusal to answer with."""
    if not is_api_request():
        raise BearerNotAccepted(_("An API token is accepted on /api/v1 only."))
    settings = current_app.config["REFERRAL_SETTINGS"]
    with request_uow() as uow:
        verified = api_clients.verify(uow.session, credentials, clock.now())
        uow.commit()  # the client's last use, when a minute has passed since the last one
    if verified is None:
        # Counted per address like a failed login, before anything is written: past the
        # limit the caller is only told to wait, so refusals cannot flood the log.
        waited = refused_token_retry_after(
            request_origin().client_address, settings.login_rate_limit
        )
        if waited is not None:
            return _too_many(
                waited,
                _("Too many refused tokens from this address. Wait %(n)s seconds.", n=waited),
            )
        with request_uow() as uow:
            # On record like a failed login: from where, and which token by the prefix an
            # administrator sees in the list (never more of it), so that a system still
            # calling with a revoked or expired token shows in the DPO's refusals.
            record(
                uow.session,
                request_origin(),
                Action.ACCESS_DENIED,
                outcome=Outcome.DENIED,
                object_type="api_token",
                object_id=(
                    api_clients.token_prefix(credentials)
                    if api_clients.well_formed(credentials)
                    else "malformed"
                ),
            )
            uow.commit()
        return _invalid_token()
    retry_after = api_client_retry_after(verified.id, settings.api_client_rate_limit)
    if retry_after is not None:
        return _too_many(retry_after)
    actor = verified.actor(request_origin())
    if rule.level is Level.PUBLIC:
        return None
    permission = rule.permission
    if rule.level is not Level.PERMISSION or permission is None or not can(actor, permission):
        refused = permission.value if permission is not None else str(rule.level.value)
        with request_uow() as uow:
            record_denial(uow.session, Denial(actor, refused, "route", request.endpoint))
            uow.commit()
        return problem(403, _missing(verified.role, permission), "forbidden")
    g.actor = actor
    return None


def _missing(role: Role, permission: Permission | None) -> str:
    """Why a client is refused: the scope it lacks when its role could have been given it."""
    if permission is None:
        return str(_("An API client cannot use this."))
    if permission in client_scopes(role):
        return str(_("This API client's scopes do not include %(scope)s.", scope=permission.value))
    return str(_("This needs the permission %(p)s.", p=permission.value))
