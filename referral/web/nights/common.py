"""What every Programme C page shares: the blueprint, the words for a status or a kind of place,
how days and times are written, and how a form or a button runs a service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from flask import Blueprint, abort, current_app, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from config import Settings
from referral.auth.forms import PostOnlyForm
from referral.clock import STOCKHOLM
from referral.db.uow import UnitOfWork
from referral.errors import DomainError
from referral.night_calendar import WindowTimes, day_in_path
from referral.request_scope import request_uow
from referral.web.casework import show_error
from referral.web.formatting import local

blueprint = Blueprint("nights", __name__, url_prefix="/nights")

GENDER_LABELS = {"": _l("Not stated"), "woman": _l("Woman"), "man": _l("Man"), "other": _l("Other")}
OVERRIDE_LABELS = {
    "danger_to_life": _l("Danger to life"),
    "children_involved": _l("Children involved (socialjouren is told at once)"),
}
KIND_LABELS = {
    "women": _l("Reserved for women"),
    "men": _l("Reserved for men"),
    "unreserved": _l("Unreserved"),
}
STATUS_LABELS = {
    "allocated": _l("Expected"),
    "checked_in": _l("Checked in"),
    "no_show": _l("Did not come"),
}

T = TypeVar("T")


def settings() -> Settings:
    found: Settings = current_app.config["REFERRAL_SETTINGS"]
    return found


def window_text(window: WindowTimes | None) -> str:
    """A window as Stockholm's day and times, e.g. 2027-03-03, 09:00 to 11:00."""
    if window is None:
        return "—"
    opens = window.opens_at.astimezone(STOCKHOLM)
    closes = window.closes_at.astimezone(STOCKHOLM)
    return f"{opens.date().isoformat()}, {opens:%H:%M}–{closes:%H:%M}"


def hhmm(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%H:%M")


def nights_text(nights: tuple[date, ...]) -> str:
    return ", ".join(night.isoformat() for night in nights)


def labels() -> dict[str, object]:
    return {
        "gender_labels": GENDER_LABELS,
        "override_labels": OVERRIDE_LABELS,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "window_text": window_text,
        "nights_text": nights_text,
        "hhmm": hhmm,
        "local": local,
    }


def day_or_404(text: str) -> date:
    """A day in a URL or a query, as YYYY-MM-DD; anything else is no such page."""
    day = day_in_path(text)
    if day is None:
        abort(404)
    return day


def _run(form: FlaskForm, service: Callable[[UnitOfWork], T]) -> T | None:
    try:
        with request_uow() as uow:
            return service(uow)
    except DomainError as error:
        show_error(form, error)
        return None


def submitted(form: FlaskForm, service: Callable[[UnitOfWork], T]) -> T | None:
    """The service's answer once the form is valid; None when it is not, or when the service
    refused (the refusal is put beside its field, or at the top of the page)."""
    return _run(form, service) if form.validate_on_submit() else None


def button_pressed(service: Callable[[UnitOfWork], T]) -> T | None:
    """A button's action (a form of the CSRF token only): the service's answer, or None when
    the form had expired or the service refused (either is said at the top of the page)."""
    form = PostOnlyForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return None
    return _run(form, service)
