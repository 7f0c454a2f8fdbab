"""The interface speaks Swedish by default; English is one click away and remembered."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from flask.testing import FlaskClient


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
