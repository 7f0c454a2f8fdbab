"""How pages write what is stored as codes and UTC instants: Stockholm's date and time, and
words for actions, outcomes and roles (referral.words). Available in every template."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from referral.clock import local_text
from referral.words import action_words, outcome_words, role_words


def stockholm_time(moment: datetime, fmt: str = "%H:%M") -> str:
    """Times are shown as the social worker's and the DPO's clocks show them."""
    return local_text(moment, fmt)


def local(moment: datetime | str | None) -> str:
    """A stored UTC instant (or the access log's ISO text) as Stockholm's date and time."""
    return local_text(moment)


def init_formatting(app: Flask) -> None:
    app.jinja_env.globals.update(
        local=local,
        action_words=action_words,
        outcome_words=outcome_words,
        role_words=role_words,
    )
