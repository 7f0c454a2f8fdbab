"""The bridge to Flask-Login: the id it keeps in the cookie is the server-side session token."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from flask_login import LoginManager, UserMixin

from referral.auth.sessions import LiveSession, SessionPolicy, load_session
from referral.request_scope import request_session


class SessionUser(UserMixin):  # type: ignore[misc]
    def __init__(self, live: LiveSession) -> None:
        self.live = live

    def get_id(self) -> str:
        return self.live.token


def session_policy() -> SessionPolicy:
    settings = current_app.config["REFERRAL_SETTINGS"]
    return SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )


def _load(token: str) -> SessionUser | None:
    live = load_session(request_session(), token, session_policy())
    return SessionUser(live) if live else None


def init_login(app: Flask) -> None:
    manager = LoginManager()
    # Protection against stolen cookies comes from server-side state and short timeouts;
    # Flask-Login's IP/agent hashing would only log out people whose phone changes network.
    manager.session_protection = None
    manager.user_loader(_load)
    manager.init_app(app)
