"""Errors: JSON problem documents (RFC 9457) on the API, friendly pages in the UI.

Never a traceback: an unexpected error is logged with its type and place only (statement
parameters are hidden by the engine) and the user sees a generic page.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from limits.errors import StorageError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from referral.errors import DomainError
from referral.web.access import is_api_request, request_origin

log = logging.getLogger(__name__)
# Attempts to get past a control, apart from the policy's refusals (those are in the access
# log): a line each, for whoever watches the service's log (OWASP ASVS 5.0 V16.3.3).
security_log = logging.getLogger("referral.security")

# The domain errors that only a client crafting its request meets: a browser or a client
# built from the API's document never sends them.
CRAFTED_REQUEST_CODES = frozenset(
    {"nested_too_deeply", "number_too_long", "duplicate_key", "repeated_parameter"}
)

PROBLEM_TYPE_BASE = "https://referral.invalid/problems/"
# While the rate-limit counters cannot be reached: a client may try again after this long.
LIMITS_UNREACHABLE_RETRY_AFTER_SECONDS = 30


def _titles() -> dict[int, str]:
    return {
        400: _("The request could not be read"),
        401: _("You need to log in"),
        403: _("You do not have access to this"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("The request is too large"),
        415: _("Unsupported media type"),
        422: _("The input was not accepted"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
        503: _("The service is unavailable"),
    }


def problem(
    status: int, detail: str, code: str, errors: dict[str, Any] | None = None
) -> tuple[Response, int]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": _titles().get(status, _("Error")),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.mimetype = "application/problem+json"
    return response, status


def _page(status: int, detail: str) -> tuple[str, int]:
    return render_template(
        "error.html", status=status, title=_titles().get(status, _("Error")), detail=detail
    ), status


def _flat_messages(messages: Any, place: str = "") -> list[str]:
    """marshmallow nests the messages about a list's items and a nested object's fields
    ({2: ["Must be one of: ..."]}); the problem document gives each field a flat list of
    messages, as it documents, each nested one led by its place ("2: Must be one of: ...")."""
    if isinstance(messages, dict):
        return [
            text
            for key, inner in messages.items()
            for text in _flat_messages(inner, f"{place}.{key}" if place else str(key))
        ]
    if isinstance(messages, list | tuple):
        return [text for item in messages for text in _flat_messages(item, place)]
    return [f"{place}: {messages}" if place else str(messages)]


def _field_errors(exc: HTTPException) -> dict[str, list[str]] | None:
    # webargs puts marshmallow's per-field messages here: {"json": {"field": ["..."]}}.
    data = getattr(exc, "data", None)
    if not isinstance(data, dict):
        return None
    messages = data.get("messages")
    if isinstance(messages, dict):
        merged: dict[str, list[str]] = {}
        for location_messages in messages.values():
            if isinstance(location_messages, dict):
                for field, field_messages in location_messages.items():
                    merged[str(field)] = _flat_messages(field_messages)
        return merged or None
    return None


def _describe(errors: dict[str, Any] | None, fallback: str) -> str:
    if not errors:
        return fallback
    parts = []
    for field, messages in errors.items():
        text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        parts.append(f"{field}: {text}")
    return " ".join(parts)


def security_event(kind: str, status: int, field: str | None = None) -> None:
    """One line naming what was refused, where, for whom and in which request: the endpoint
    (never the path or query, which may carry what was sent), the field's name (never its
    value), the account's pseudonymous id and the request id the access log shares."""
    actor = g.get("actor")
    security_log.warning(
        "refused %s: %s %s answered %d%s; user %s; request %s",
        kind,
        request.method,
        request.endpoint or "-",
        status,
        f" (field {field})" if field else "",
        getattr(actor, "user_id", None) or "-",
        request_origin().request_id,
    )


def handle_http_exception(exc: HTTPException) -> Any:
    status = exc.code or 500
    if isinstance(exc, CSRFError):
        security_event("csrf_token", status)
        detail = _("The form had expired or did not come from this site. Reload and try again.")
    elif status == 429:
        security_event("rate_limit", status)
        detail = _("Too many attempts. Wait a minute and try again.")
    elif status == 413:
        security_event("too_large", status)
        detail = _("The request is too large.")
    else:
        detail = _titles().get(status, exc.name)
    if is_api_request():
        errors = _field_errors(exc)
        response = make_response(
            problem(
                status, _describe(errors, str(detail)), exc.name.lower().replace(" ", "_"), errors
            )
        )
    else:
        response = make_response(_page(status, str(detail)))
    # The headers the error itself defines, such as a 405's Allow (the methods the URL
    # takes) or a 429's Retry-After; the body, and so its type, is ours.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_domain_error(exc: DomainError) -> Any:
    if exc.code in CRAFTED_REQUEST_CODES:
        security_event(exc.code, exc.status, exc.field)
    if is_api_request():
        errors = {exc.field: [exc.message]} if exc.field else None
        return problem(exc.status, _describe(errors, exc.message), exc.code, errors)
    return _page(exc.status, exc.message)


def handle_unexpected(exc: Exception) -> Any:
    # Type and place only: an exception's text may carry values the service must not log.
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{f.filename}:{f.lineno} {f.name}" for f in reversed(frames[-5:]))
    log.error("unhandled %s at %s", type(exc).__name__, where)
    return handle_http_exception(InternalServerError())


def handle_limits_unreachable(exc: StorageError) -> Any:
    """A request that a rate limit counts is refused while its counter cannot be counted
    (Redis or the database away): letting it through would lift the login limit for as long
    as the storage is gone. The log names the failure's type, never the storage's URI (it may
    carry a password)."""
    log.error(
        "rate-limit storage unreachable (%s): request refused with 503",
        type(exc.storage_error).__name__,
    )
    return handle_http_exception(
        ServiceUnavailable(retry_after=LIMITS_UNREACHABLE_RETRY_AFTER_SECONDS)
    )


def init_errors(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(StorageError, handle_limits_unreachable)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
