"""How pages write what is stored as codes and UTC instants: Stockholm's date and time, and
words for actions, outcomes and roles (referral.words). Available in every template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, g

from referral.clock import local_text
from referral.words import action_words, outcome_words, role_words


def stockholm_time(moment: datetime, fmt: str = "%H:%M") -> str:
    """Times are shown as the social worker's and the DPO's clocks show them."""
    return local_text(moment, fmt)


def local(moment: datetime | str | None) -> str:
    """A stored UTC instant (or the access log's ISO text) as Stockholm's date and time."""
    return local_text(moment)


@dataclass(frozen=True)
class NotedError:
    field_id: str
    label: str
    message: str


def note_error(field_id: str, label: str, message: str) -> str:
    """Called by the field macro for each error it shows: the page's summary lists them."""
    g.setdefault("noted_errors", []).append(NotedError(field_id, str(label), str(message)))
    return ""


def noted_errors() -> list[NotedError]:
    found: list[NotedError] = g.get("noted_errors", [])
    g.pop("noted_errors", None)  # (a page drawn again, as an error page, starts afresh)
    return found


def init_formatting(app: Flask) -> None:
    app.jinja_env.globals.update(
        note_error=note_error,
        noted_errors=noted_errors,
        local=local,
        action_words=action_words,
        outcome_words=outcome_words,
        role_words=role_words,
    )
