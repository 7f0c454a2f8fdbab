"""The interface speaks Swedish by default; English is one click away and remembered."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale


def test_the_login_page_is_in_swedish_by_default(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Logga in" in page and "Användarnamn" in page


def test_english_is_available_and_the_choice_is_remembered(client: FlaskClient) -> None:
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and "Username" in page
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
