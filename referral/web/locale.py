"""Language: Swedish by default, English available; the choice is kept in a cookie.

A few public pages that the people affected read themselves (Programme C's published result
of the morning draw, issue 14) are also readable in Romanian and Bulgarian, the languages of
the largest groups. Those catalogues hold those pages' words only, so the two languages are
accepted on those pages only: anywhere else the interface stays in Swedish or English."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_translations
from markupsafe import Markup
from werkzeug.wrappers import Response

SUPPORTED = ("sv", "en")
MORE_LANGUAGES = ("ro", "bg")
# The endpoints whose pages are translated into MORE_LANGUAGES as well.
MORE_LANGUAGES_ENDPOINTS = frozenset({"nights.result", "nights.result_of_day"})
# The choice's cookie. Over HTTPS (production) it has the __Host- prefix, which a browser
# keeps only when it is Secure, for Path=/ and with no Domain: no sibling host and no
# plain-http answer can set it. Development over plain http cannot keep a Secure cookie, so
# there it is plain "lang": the same rule as the session cookie's (create_app). A "lang"
# cookie is never read in production, not even once to carry an old choice over: anyone
# able to set cookies for the domain could set it, and the cost is one more click.
COOKIE = "lang"
HOST_COOKIE = "__Host-lang"


def cookie_name() -> str:
    """The language cookie's name here: prefixed exactly when the session cookie is Secure."""
    return HOST_COOKIE if current_app.config["SESSION_COOKIE_SECURE"] else COOKIE


def languages_here() -> tuple[str, ...]:
    """The languages this request's page may be shown in."""
    if request.endpoint in MORE_LANGUAGES_ENDPOINTS:
        return SUPPORTED + MORE_LANGUAGES
    return SUPPORTED


def select_locale() -> str:
    if not has_request_context():
        return "en"  # command-line output is for operators and stays in English
    chosen = request.args.get("lang") or request.cookies.get(cookie_name())
    if chosen in languages_here():
        return chosen
    default: str = current_app.config["REFERRAL_SETTINGS"].default_locale
    return default


def _remember_choice(response: Response) -> Response:
    chosen = request.args.get("lang")
    name = cookie_name()
    if chosen in languages_here() and request.cookies.get(name) != chosen:
        response.set_cookie(
            name,
            chosen,
            max_age=365 * 24 * 3600,
            path="/",  # no domain: both are what the __Host- prefix requires
            samesite="Lax",
            httponly=True,
            secure=name == HOST_COOKIE,
        )
    return response


def current_language() -> str:
    return g.get("lang") or select_locale()


def language_link(code: str) -> str:
    """Where the language switch goes: this page again, in `code` (a link relative to this
    address: the page never writes its own path or query into itself, so a refusal never
    repeats an id that was asked for). A page shown in answer to a form (a POST: a refused
    save) cannot be asked for again by a link: its address may answer POST only, or be
    another page's (a link to one answered 405). The Referer would name the form's page, but
    it is what the client says, not what the service knows: the switch goes to the start
    page."""
    if request.method == "GET":
        return f"?{urlencode({'lang': code})}"
    return f"/?{urlencode({'lang': code})}"


def _translations() -> NullTranslations:
    """This request's catalogue, looked up once per locale. Flask-Babel's own template
    callables look it up for every string (the request's context, the locale, its name as a
    cache key): a page of fifty cards asks for five hundred strings. The catalogue is kept
    beside the locale it was found for, so `force_locale` (a letter printed in Swedish) and
    `refresh` (a new choice) are seen at once: another locale object finds it again."""
    babel_context: SimpleNamespace | None = g.get("_flask_babel")
    locale = getattr(babel_context, "babel_locale", None)
    cached = getattr(babel_context, "referral_translations", None)
    if locale is not None and cached is not None and cached[0] is locale:
        found: NullTranslations = cached[1]
        return found
    found = get_translations()
    babel_context = g.get("_flask_babel")  # created by the lookup when it was missing
    if babel_context is not None:
        babel_context.referral_translations = (getattr(babel_context, "babel_locale", None), found)
    return found


# The templates' translation functions. They do what Jinja's "newstyle" callables do on an
# autoescaped page: the catalogue's text is the service's own and is marked safe, the
# variables put into it are escaped, and the text is always a format string (so "%%" is
# "%"). Jinja's own take the template's context to ask whether autoescaping is on, and in a
# loop each call copies the loop's variables into a new context first: fifty cards of ten
# strings each took 4.9 ms in gettext, and take 3.2 ms with these (issue 18). Every template
# is HTML and autoescaped (tests/unit/test_source_rules.py), so the answer is always yes.


def _from_catalogue(text: str, variables: dict[str, Any]) -> Markup:
    # The catalogue's text is the service's own; the variables are escaped by Markup's %.
    # Formatting with no variables changes only "%%": most strings have no "%" at all.
    marked = Markup(text)  # noqa: S704  # nosec B704
    return marked % variables if variables or "%" in marked else marked


def _html_gettext(string: str, **variables: Any) -> Markup:
    return _from_catalogue(_translations().ugettext(string), variables)


def _html_ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
    variables.setdefault("num", num)
    return _from_catalogue(_translations().ungettext(singular, plural, num), variables)


def _html_pgettext(context: str, string: str, **variables: Any) -> Markup:
    variables.setdefault("context", context)
    return _from_catalogue(_translations().upgettext(context, string), variables)


def _html_npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> Markup:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    text = _translations().unpgettext(context, singular, plural, num)
    return _from_catalogue(text, variables)


def init_locale(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    # newstyle: `{% trans %}` blocks call gettext with their variables, and it formats them.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_html_gettext,
        ngettext=_html_ngettext,
        pgettext=_html_pgettext,
        npgettext=_html_npgettext,
        newstyle=True,
    )
    # Then in place of the context-taking wrappers Jinja has just made of them (and of its
    # `_`, which looks gettext up in the context on every call).
    app.jinja_env.globals.update(
        _=_html_gettext,
        gettext=_html_gettext,
        ngettext=_html_ngettext,
        pgettext=_html_pgettext,
        npgettext=_html_npgettext,
    )
    app.after_request(_remember_choice)
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["language_link"] = language_link
