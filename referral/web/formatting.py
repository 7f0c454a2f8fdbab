"""How pages write what is stored as codes and UTC instants: Stockholm's date and time, and
words for actions, outcomes and roles (referral.words). Available in every template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask, g
from flask_babel import gettext, ngettext

from referral.clock import local_text
from referral.words import action_words, outcome_words, role_words


def stockholm_time(moment: datetime, fmt: str = "%H:%M") -> str:
    """Times are shown as the social worker's and the DPO's clocks show them."""
    return local_text(moment, fmt)


def local(moment: datetime | str | None) -> str:
    """A stored UTC instant (or the access log's ISO text) as Stockholm's date and time."""
    return local_text(moment)


def day_and_distance(day: date | None, today: date) -> str:
    """A date with how far it is from today ("2027-01-15, om 3 dagar"): a busy reader
    sees at once what is close and what has passed."""
    if day is None:
        return "—"
    days = (day - today).days
    if days == 0:
        distance = gettext("today")
    elif days == 1:
        distance = gettext("tomorrow")
    elif days == -1:
        distance = gettext("yesterday")
    elif days > 0:
        distance = ngettext("in %(num)s day", "in %(num)s days", days)
    else:
        distance = ngettext("%(num)s day ago", "%(num)s days ago", -days)
    return f"{day.isoformat()}, {distance}"


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
        day_and_distance=day_and_distance,
        action_words=action_words,
        outcome_words=outcome_words,
        role_words=role_words,
    )
