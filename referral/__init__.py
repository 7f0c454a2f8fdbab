"""The referral service: create_app(settings) is the only place Flask is wired."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from config import Settings, load_settings
from referral.web import limit_storage

# Requests larger than this are refused with 413 before anything reads them.
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        REFERRAL_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        DEBUG=settings.debug,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_NAME="__Host-session" if settings.is_production else "session",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_absolute_hours),
        WTF_CSRF_TIME_LIMIT=settings.session_absolute_hours * 3600,
        RATELIMIT_STORAGE_URI=limit_storage.storage_uri(
            settings.rate_limit_storage_uri, settings.database_url
        ),
        RATELIMIT_HEADERS_ENABLED=True,
        # A limit that cannot be counted refuses the request (503, referral/web/errors.py):
        # swallowing the error would let every login through uncounted, and counting in
        # memory would multiply the limit by the workers and instances while the storage is
        # away. Flask-Limiter's defaults, said here so that no one turns them on unnoticed.
        RATELIMIT_SWALLOW_ERRORS=False,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False,
        TESTING=settings.environment.value == "test",
    )
    app.config["RATELIMIT_STORAGE_OPTIONS"] = limit_storage.storage_options(
        app.config["RATELIMIT_STORAGE_URI"], settings.secret_key
    )
    if settings.test_clock_file:  # the test environment only (config refuses it elsewhere)
        from referral import clock

        clock.follow_file(settings.test_clock_file)
    if settings.trusted_proxies:
        # Only the hops configured are believed: the last N addresses of X-Forwarded-For (and
        # X-Forwarded-Proto, for the HTTPS checks), so a client cannot name itself someone
        # else by sending the header; the proxy must be the only way in.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    _wire(app, settings)
    return app


def _wire(app: Flask, settings: Settings) -> None:
    from referral import cli_loader
    from referral.api import init_api
    from referral.auth.oidc import blueprint as oidc_blueprint
    from referral.auth.principal import init_login
    from referral.auth.views import blueprint as auth_blueprint
    from referral.db.engine import Database
    from referral.keys import build_audit_config, build_cipher
    from referral.request_scope import init_database
    from referral.web import (
        access,
        admin,
        api_clients,
        bearer,
        casework,
        complaints,
        concern,
        consent_documents,
        dpo,
        emergency,
        fees,
        formatting,
        gallring,
        groups,
        home,
        interest,
        invitations,
        my_sessions,
        navigation,
        nights,
        notifications,
        outreach,
        partner,
        partner_files,
        reports,
        returned_files,
    )
    from referral.web.errors import init_errors
    from referral.web.headers import init_headers
    from referral.web.limits import limiter
    from referral.web.locale import init_locale

    init_database(
        app, Database(settings.database_url, build_cipher(settings), build_audit_config(settings))
    )
    init_login(app)
    # The access gate runs before the CSRF check, so an anonymous request is told to log in.
    # A city system's bearer request is judged by its token first (referral.web.bearer).
    app.before_request(bearer.gate)
    app.before_request(access.gate)
    access.init_menus(app)
    navigation.init_navigation(app)
    formatting.init_formatting(app)
    # Flask-WTF's check runs as ours, which spares only an API client's bearer request
    # without a session cookie (referral.web.bearer); every other write needs the token.
    csrf = CSRFProtect(app)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(bearer.csrf_check(csrf))
    limiter.init_app(app)
    init_locale(app)
    init_headers(app)
    app.register_blueprint(auth_blueprint)
    app.register_blueprint(oidc_blueprint)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(my_sessions.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(invitations.blueprint)
    app.register_blueprint(api_clients.blueprint)
    app.register_blueprint(dpo.blueprint)
    app.register_blueprint(consent_documents.admin_blueprint)
    app.register_blueprint(consent_documents.blueprint)
    app.register_blueprint(casework.blueprint)
    app.register_blueprint(emergency.blueprint)
    app.register_blueprint(partner.blueprint)
    app.register_blueprint(partner_files.blueprint)
    app.register_blueprint(notifications.blueprint)
    app.register_blueprint(groups.blueprint)
    app.register_blueprint(fees.blueprint)
    app.register_blueprint(interest.blueprint)
    app.register_blueprint(concern.blueprint)
    app.register_blueprint(returned_files.blueprint)
    app.register_blueprint(outreach.blueprint)
    app.register_blueprint(gallring.blueprint)
    app.register_blueprint(nights.blueprint)
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(complaints.blueprint)
    init_api(app)
    init_errors(app)  # after the API, so problem documents replace flask-smorest's format
    cli_loader.install(app)  # the operator commands, imported on the command line only
    undeclared = access.undeclared_routes(app)
    if undeclared:
        raise RuntimeError("routes without an access declaration: " + ", ".join(undeclared))
