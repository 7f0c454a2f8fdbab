"""Every view declares who may reach it; a before_request gate refuses any that does not.

`@public` (login, health, static), `@password_step` (the second-factor pages, reachable with
a password-verified session only) or `@requires(Permission.X)` (a fully verified session whose
actor the policy grants X). A view with no declaration is refused, and create_app fails at
start-up when one exists, so a forgotten decorator cannot open a route. A person whose
first password must be replaced is sent to the change page first (referral.auth.forced_change).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from referral.actors import Actor, Origin
from referral.auth import forced_change
from referral.db.uow import record_denial
from referral.errors import Denial
from referral.policy import Permission, can
from referral.request_scope import request_uow

F = TypeVar("F", bound=Callable[..., Any])


class Level(Enum):
    PUBLIC = "public"
    PASSWORD_STEP = "password_step"  # noqa: S105 - an access level, not a password
    PERMISSION = "permission"


@dataclass(frozen=True)
class AccessRule:
    level: Level
    permission: Permission | None = None


ATTRIBUTE = "_referral_access"
# Flask's own static route serves only the project's CSS and scripts.
BUILTIN_PUBLIC_ENDPOINTS = frozenset({"static"})


def _mark(rule: AccessRule) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        setattr(view, ATTRIBUTE, rule)
        return view

    return decorate


public = _mark(AccessRule(Level.PUBLIC))
password_step = _mark(AccessRule(Level.PASSWORD_STEP))


def requires(permission: Permission) -> Callable[[F], F]:
    return _mark(AccessRule(Level.PERMISSION, permission))


def declare(app: Flask, endpoint: str, rule: AccessRule) -> None:
    """Declare access for a view a library registered (e.g. the OpenAPI document)."""
    if endpoint not in app.view_functions:
        raise KeyError(f"no endpoint {endpoint!r} to declare access for")
    app.extensions.setdefault("referral_access", {})[endpoint] = rule


def rule_for(app: Flask, endpoint: str, method: str) -> AccessRule | None:
    if endpoint in BUILTIN_PUBLIC_ENDPOINTS:
        return AccessRule(Level.PUBLIC)
    declared: dict[str, AccessRule] = app.extensions.get("referral_access", {})
    if endpoint in declared:
        return declared[endpoint]
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        name = "get" if method == "HEAD" else method.lower()
        handler = getattr(view_class, name, None)
        found = getattr(handler, ATTRIBUTE, None)
    else:
        found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, AccessRule) else None


def undeclared_routes(app: Flask) -> list[str]:
    missing = []
    for url_rule in app.url_map.iter_rules():
        for method in sorted((url_rule.methods or set()) - {"OPTIONS"}):
            if rule_for(app, url_rule.endpoint, method) is None:
                missing.append(f"{method} {url_rule.rule} ({url_rule.endpoint})")
    return missing


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def current_actor() -> Actor:
    """The actor of this request's fully verified session; only `@requires` views have one."""
    actor: Actor | None = g.get("actor")
    if actor is None:
        abort(401)
    return actor


# Set by the bearer path (referral.web.bearer.gate, which runs just before this gate) once a
# request's API token is verified and its client's actor allowed the route.
BEARER_ADMITTED = "bearer_admitted"


def gate() -> ResponseReturnValue | None:
    """before_request: deny by default; a refused permission is written to the access log."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404
    rule = rule_for(current_app, request.endpoint, request.method)
    if rule is None:
        abort(404)
    if g.get(BEARER_ADMITTED):  # a city system's API client, let in by its token alone
        return None
    if rule.level is Level.PUBLIC:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            abort(401)
        return redirect(url_for("auth.login", next=request.path))
    if rule.level is Level.PASSWORD_STEP:
        return None
    if not current_user.live.mfa_verified:
        if is_api_request():
            abort(401)
        return redirect(url_for("auth.second_factor"))
    if forced_change.is_due(current_user.live) and request.endpoint != forced_change.CHANGE_PAGE:
        if is_api_request():
            abort(403)
        return redirect(url_for(forced_change.CHANGE_PAGE))
    actor = current_user.live.actor(request_origin())
    assert rule.permission is not None
    if not can(actor, rule.permission):
        with request_uow() as uow:
            record_denial(
                uow.session, Denial(actor, rule.permission.value, "route", request.endpoint)
            )
            uow.commit()
        abort(403)
    g.actor = actor
    return None


# A proxy's id is taken only as a UUID in its canonical form (hex in 8-4-4-4-12), matched
# as a whole: anything else (a newline, an overlong or SQL-looking value) could forge or
# spoil lines of the access log, and is replaced by a new id.
REQUEST_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE
)
REQUEST_ID_HEADER = "X-Request-ID"


def accepted_request_id(offered: str | None) -> str:
    """The offered id in lower case when it is a well-formed UUID, otherwise a new one."""
    if offered and REQUEST_ID.fullmatch(offered):
        return offered.lower()
    return str(uuid.uuid4())


def request_origin() -> Origin:
    """This request's id (from a trusted proxy's X-Request-ID, or new) and client address."""
    if "origin" not in g:
        request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.origin = Origin(request_id=request_id, client_address=request.remote_addr or "-")
    origin: Origin = g.origin
    return origin


def may_open(endpoint: str, method: str = "GET") -> bool:
    """For menus: would the gate let this request's actor into `endpoint`? The answer comes
    from the route's own declaration and the policy, so a menu never offers a page that
    refuses, nor hides one a role was granted (templates call it instead of naming roles)."""
    rule = rule_for(current_app, endpoint, method)
    if rule is None:
        return False
    if rule.level is not Level.PERMISSION:
        return True
    actor: Actor | None = g.get("actor")
    return rule.permission is not None and can(actor, rule.permission)


def init_menus(app: Flask) -> None:
    app.jinja_env.globals["may_open"] = may_open
