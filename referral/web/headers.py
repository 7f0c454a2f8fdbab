"""Security headers on every response, and no caching of anything but static files."""

from __future__ import annotations

from flask import Flask, Response, request

from referral.web.access import REQUEST_ID_HEADER, request_origin

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # Addresses hold record ids: they never go to another site. The service's own pages do
    # send them back to it, because over HTTPS the CSRF check (Flask-WTF's strict mode)
    # refuses a form posted without a Referer of this origin.
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    # The id this request has in the access log: accepted from a proxy only as a UUID.
    headers[REQUEST_ID_HEADER] = request_origin().request_id
    if request.endpoint != "static" or response.status_code >= 400:
        # Pages show personal data: no browser or proxy may keep a copy. Only a static file
        # itself may be kept: the error page of one that is not there greets a signed-in user
        # by name, as every page does.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def init_headers(app: Flask) -> None:
    app.after_request(_add_headers)
