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

# The public form for complaints and suggestions (synpunkter och klagomål) needs no login:
# per client address a few sendings an hour (enough for a participant, not for a flood), the
# page itself as often as the published result, and a cap on the whole form's sendings an
# hour, whatever the addresses, so that a spread-out flood cannot bury the partners' lists.
PUBLIC_COMPLAINT_PAGE_RATE = "60 per minute"
PUBLIC_COMPLAINT_RATE = "5 per hour"
PUBLIC_COMPLAINT_GLOBAL_RATE = "200 per hour"
