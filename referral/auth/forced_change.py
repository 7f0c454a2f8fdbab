"""A first password someone else knows is replaced before anything else (ASVS 5.0 V6.4.1).

`flask user add` marks the account (User.must_change_password): the operator has seen its
password, generated or chosen. After the second factor the access gate sends such a person
from every page to the change page until they have changed it; logging out stays open (a
step of the login, let through before this check), and a city system's API client, let in
by its token alone, has no password and is never held to it.

A session signed in through the city's identity provider is not held to it either: the
person did not use the password and may never have been given it (an invitation links the
account), so the change page, which asks for the current password, could not free them.
"""

from __future__ import annotations

from flask import session
from flask_login import current_user

from referral.auth import oidc_session
from referral.auth.sessions import LiveSession

CHANGE_PAGE = "auth.change_password"


def is_due(live: LiveSession) -> bool:
    """Must this fully verified session change the account's password before anything else?"""
    return (
        live.mfa_verified
        and live.user.must_change_password
        and oidc_session.SIGNED_IN_WITH not in session
    )


def is_due_now() -> bool:
    """The same, for this request's session (False without one, e.g. an API client's call)."""
    return bool(current_user.is_authenticated) and is_due(current_user.live)
