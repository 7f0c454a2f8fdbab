"""The interface speaks Swedish by default; English is one click away and remembered."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from config.settings import Environment, Settings
from tests.conftest import app_in_rolled_back_transaction


def test_the_login_page_is_in_swedish_by_default(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Logga in" in page and "Användarnamn" in page


def test_english_is_available_and_the_choice_is_remembered(client: FlaskClient) -> None:
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and "Username" in page
    assert "Username" in client.get("/login").get_data(as_text=True)


@pytest.fixture
def production_client(base_settings: Settings) -> Iterator[FlaskClient]:
    """The service as production runs it, asked over HTTPS."""
    with app_in_rolled_back_transaction(
        replace(base_settings, environment=Environment.PRODUCTION)
    ) as app:
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        yield client


@pytest.mark.asvs("V3.3.1", "V3.3.3")
def test_in_production_the_choice_and_the_session_are_kept_in_host_only_secure_cookies(
    production_client: FlaskClient,
) -> None:
    response = production_client.get("/login?lang=en")
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        name_and_value, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = name_and_value.partition("=")
        cookies[name] = (value, attributes)
    assert set(cookies) == {"__Host-lang", "__Host-session"}
    assert cookies["__Host-lang"][0] == "en"
    for _value, attributes in cookies.values():
        assert "Secure" in attributes and "Path=/" in attributes
        assert not [a for a in attributes if a.lower().startswith("domain=")]
    assert "Username" in production_client.get("/login").get_data(as_text=True)


@pytest.mark.asvs("V3.3.3")
def test_in_production_a_language_cookie_without_the_prefix_is_not_believed(
    production_client: FlaskClient,
) -> None:
    """Any host under the same domain, or a plain-http answer, could have set it."""
    production_client.set_cookie("lang", "en")
    assert '<html lang="sv">' in production_client.get("/login").get_data(as_text=True)


def test_over_plain_http_in_development_the_choice_is_still_remembered(
    client: FlaskClient,
) -> None:
    client.get("/login?lang=en")
    cookie = client.get_cookie("lang")
    assert cookie is not None and not cookie.secure
    assert "Username" in client.get("/login").get_data(as_text=True)


def test_an_error_message_from_a_service_reaches_the_user_in_swedish(client: FlaskClient) -> None:
    response = client.get("/api/v1/me")
    assert response.get_json()["title"] == "Du behöver logga in"


def test_every_message_has_a_swedish_translation(repo_root: Path) -> None:
    with (repo_root / "referral/translations/sv/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_a_page_switches_language_mid_request_when_a_letter_is_printed_in_another(
    app: Flask,
) -> None:
    """The templates' catalogue is looked up once per locale, not once per string: a part of
    the page printed under `force_locale` (the consent letter is always Swedish) is in that
    language, and the rest of the page stays in the reader's."""
    page = app.jinja_env.from_string('{{ _("Username") }}')
    with app.test_request_context("/login?lang=en"):
        assert page.render() == "Username"
        with force_locale("sv"):
            assert page.render() == "Användarnamn"
        assert page.render() == "Username"
    with app.test_request_context("/login"):
        assert page.render() == "Användarnamn"
