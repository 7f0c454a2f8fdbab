"""The JSON API under /api/v1 (flask-smorest), with its OpenAPI document."""

from __future__ import annotations

from flask import Flask

from referral.api.base import Api
from referral.policy import Permission
from referral.web.access import AccessRule, Level, declare


def init_api(app: Flask) -> None:
    app.config.update(
        API_TITLE="Stockholm IOP referrals",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(app)
    # Two ways in, both documented: a signed-in person's session cookie (with the CSRF token
    # for writes), or a city system's API-client token (referral.auth.api_clients).
    api.spec.components.security_scheme(
        "apiClientToken",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's token, issued by an administrator (shown once).",
        },
    )
    api.spec.components.security_scheme(
        "session",
        {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]},
    )
    api.spec.options["security"] = [{"apiClientToken": []}, {"session": []}]
    # Imported here: each module defines a blueprint at import, which is fine once per app.
    from referral.api import (
        audit,
        children,
        concern,
        groups,
        interest,
        me,
        nights,
        notifications,
        organisations,
        outreach,
        partner,
        partner_files,
        referrals,
        users,
    )

    for module in (
        me,
        organisations,
        users,
        audit,
        children,
        referrals,
        partner,
        partner_files,
        groups,
        interest,
        concern,
        outreach,
        notifications,
        nights,
    ):
        api.register_blueprint(module.blueprint)
    api.register_blueprint(outreach.handovers_blueprint)
    # The document describes every route: only people who may use the API may read it.
    declare(app, "api-docs.openapi_json", AccessRule(Level.PERMISSION, Permission.API_DOCS_READ))
