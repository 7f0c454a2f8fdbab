"""Rate limits (Flask-Limiter). Storage is configurable so several app instances can share it."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Registers the referral+… storage schemes with limits before any app reads its URI.
from referral.web import limit_storage  # noqa: F401

# Wired to an app in create_app (init_app); no limits apply until a view asks for one.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# The night places' published result is open to anyone: per client address, enough for a
# person checking their number and a desk refreshing it, not for scraping every day's run.
PUBLIC_RESULT_RATE = "60 per minute"
