"""Staying logged in (WCAG 2.2.1 Timing adjustable): a signed-in page tells its script when the
idle limit runs out, so the person is warned before it does and can ask for more time.

The page carries the seconds left as the server counts them, not an instant: the browser's
clock may be wrong, and only the interval since the page came matters to it. The time shown
to the person (HH:MM) is Stockholm's, from the service's clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import has_request_context
from flask_limiter.util import get_remote_address
from flask_login import current_user

from referral import clock
from referral.auth.principal import session_policy
from referral.auth.sessions import LiveSession

# Long enough to read the warning and reach the button, short enough not to nag.
WARNING_BEFORE = timedelta(minutes=2)

# A person asks for more time once in each idle period; this allows a few tabs and retries
# and stops a script from holding a session open by hammering the endpoint.
EXTEND_RATE = "10 per minute"


@dataclass(frozen=True)
class Timing:
    seconds_left: int
    ends_at: str  # "HH:MM", Stockholm time
    idle_seconds: int
    warning_seconds: int

    def as_json(self) -> dict[str, int | str]:
        return {
            "seconds_left": self.seconds_left,
            "ends_at": self.ends_at,
            "idle_seconds": self.idle_seconds,
            "warning_seconds": self.warning_seconds,
        }


def timing(expires_at: datetime, now: datetime | None = None) -> Timing:
    now = now or clock.now()
    return Timing(
        seconds_left=max(0, int((expires_at - now).total_seconds())),
        ends_at=clock.local_text(expires_at, "%H:%M"),
        idle_seconds=int(session_policy().idle.total_seconds()),
        warning_seconds=int(WARNING_BEFORE.total_seconds()),
    )


def verified_session() -> LiveSession | None:
    """This request's fully verified session: a half-verified one (password only) has no
    page to warn on and nothing to extend."""
    if not current_user.is_authenticated:
        return None
    live: LiveSession = current_user.live
    return live if live.mfa_verified else None


def page_timing() -> Timing | None:
    """For base.html: the timing of this page's session, or None on pages shown to nobody."""
    if not has_request_context():
        return None
    live = verified_session()
    if live is None or live.expires_at is None:
        return None
    return timing(live.expires_at)


def rate_key() -> str:
    """Counted per session, not per address: a district's staff may share one address. The
    token is hashed so the limiter's storage never holds a live credential."""
    live = verified_session()
    if live is None:
        return get_remote_address()
    return "session:" + hashlib.sha256(live.token.encode()).hexdigest()[:32]
