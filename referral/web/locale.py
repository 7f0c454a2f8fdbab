"""Language: Swedish by default, English available; the choice is kept in a cookie."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel
from werkzeug.wrappers import Response

SUPPORTED = ("sv", "en")
COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():
        return "en"  # command-line output is for operators and stays in English
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in SUPPORTED:
        return chosen
    default: str = current_app.config["REFERRAL_SETTINGS"].default_locale
    return default


def _remember_choice(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen in SUPPORTED and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def current_language() -> str:
    return g.get("lang") or select_locale()


def init_locale(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.after_request(_remember_choice)
    app.jinja_env.globals["current_language"] = current_language
