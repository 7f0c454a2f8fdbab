"""Rate limits (Flask-Limiter). Storage is configurable so several app instances can share it."""

from __future__ import annotations

import math
import time
from functools import lru_cache

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

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

# A city system's API client: counted per client (its id, not the address it calls from, so
# that a system behind a shared proxy has its own budget and one client cannot spend
# another's), at REFERRAL_API_CLIENT_RATE_LIMIT, in the same storage as every other limit.
API_CLIENT_SCOPE = "api-client"
# A token the service does not accept is counted per client address, like a failed login
# (at REFERRAL_LOGIN_RATE_LIMIT): each refusal is an access-log entry, so without a bound
# anyone could fill the log and hold its chain head.
REFUSED_TOKEN_SCOPE = "api-token-refused"  # noqa: S105 - a counter's name, not a secret


@lru_cache(maxsize=8)
def _parsed(rate: str) -> RateLimitItem:
    return parse(rate)


def retry_after(scope: str, key: str, rate: str) -> int | None:
    """Count one hit of `key` in `scope`: None while within `rate`, else the seconds until
    its window ends (for Retry-After)."""
    item = _parsed(rate)
    if limiter.limiter.hit(item, scope, key):
        return None
    reset_at = limiter.limiter.get_window_stats(item, scope, key).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def api_client_retry_after(client_id: str, rate: str) -> int | None:
    """Count one call of the client against its own limit."""
    return retry_after(API_CLIENT_SCOPE, client_id, rate)


def refused_token_retry_after(address: str, rate: str) -> int | None:
    """Count one refused token from this address."""
    return retry_after(REFUSED_TOKEN_SCOPE, address, rate)
