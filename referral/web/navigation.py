"""The menu every page carries once someone is signed in: the places of their work, the one
they are on marked (aria-current), and how many notifications are unread. What a role sees
is what the gate would let it open (access.may_open), so the menu never offers a page that
refuses nor hides one the role was granted."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request, url_for
from flask_babel.speaklater import LazyString

from referral.actors import Actor
from referral.auth import forced_change
from referral.i18n import _l
from referral.policy import Permission, can
from referral.request_scope import request_uow
from referral.services import notifications
from referral.web.access import may_open

# In the order shown: the start page, then each role's daily work, then what several share.
MENU: tuple[tuple[str, LazyString], ...] = (
    ("home.index", _l("Start")),
    ("casework.children_page", _l("Children and referrals")),
    ("partner.inbox", _l("Referrals to your organisation")),
    ("groups.index", _l("Groups")),
    ("outreach.encounters_page", _l("Encounters")),
    ("outreach.youths_page", _l("Youths")),
    ("nights.desk", _l("Registration desk")),
    ("nights.shelters_page", _l("Tonight's lists")),
    ("nights.coordinator", _l("Coordination")),
    ("nights.exclusions_page", _l("Exclusions")),
    ("concern.inbox", _l("Concern reports received")),
    ("dpo.audit_log", _l("Access log")),
    ("dpo.alerts", _l("Alerts")),
    ("gallring.plan_page", _l("Retention and purge")),
    ("admin.users_page", _l("Staff accounts")),
    ("admin.organisations_page", _l("Organisations")),
    ("api_clients.clients_page", _l("API clients")),
    ("reports.index", _l("Activity reports")),
    ("complaints.index", _l("Feedback and complaints")),
    ("notifications.index", _l("Notifications")),
)


@dataclass(frozen=True)
class MenuItem:
    url: str
    label: str
    current: bool
    unread: int = 0  # notifications only


def _covers(url: str, path: str) -> bool:
    """Is `path` this item's page or one below it (the start page only itself)?"""
    if url == "/":
        return path == "/"
    return path == url or path.startswith(url.rstrip("/") + "/")


def menu() -> list[MenuItem]:
    """This request's menu (empty until the second factor is passed)."""
    actor: Actor | None = g.get("actor")
    # While a first password must be replaced, every other page leads back to the change page.
    if actor is None or forced_change.is_due_now():
        return []
    # Asked of the gate first: a role opens a few of the twenty places, and each address and
    # label costs a url_for and a translation on every page.
    offered = [
        (url_for(endpoint), str(label), endpoint) for endpoint, label in MENU if may_open(endpoint)
    ]
    path = request.path
    covering = [url for url, _label, _endpoint in offered if _covers(url, path)]
    current = max(covering, key=len) if covering else None
    return [
        MenuItem(
            url,
            label,
            url == current,
            _unread(actor) if endpoint == "notifications.index" else 0,
        )
        for url, label, endpoint in offered
    ]


def _unread(actor: Actor) -> int:
    if not can(actor, Permission.NOTIFICATION_READ):
        return 0
    with request_uow() as uow:
        return notifications.unread_count(uow, actor)


def init_navigation(app: Flask) -> None:
    app.jinja_env.globals["main_menu"] = menu
