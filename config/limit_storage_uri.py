"""What REFERRAL_RATE_LIMIT_STORAGE_URI may name, checked before the service starts.

Empty (the service's own database), redis://[[user]:password@]host[:port][/db] or rediss://…
(TLS), with one option of ours, `?key_prefix=…`; and memory:// outside production. Anything
else would fail only at the first counted request, or count nothing that workers share, so it
stops the start instead. The messages never repeat the URI: it may carry Redis's password.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

REDIS_SCHEMES = ("redis", "rediss")
KEY_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
SHAPE = "redis://host:6379/0 or rediss://host:6379/0, optionally ?key_prefix=name"


def storage_uri_problem(uri: str, *, production: bool) -> str | None:
    """Why this storage URI cannot be used, as the end of a sentence; None when it can."""
    if not uri:
        return None
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme == "memory":
        if production:
            return (
                "is memory://, which counts per worker process: production refuses it "
                "(leave it empty for the database, or name Redis)"
            )
        return None
    if scheme not in REDIS_SCHEMES:
        named = f"names {scheme}://" if scheme else "has no scheme"
        return f"{named}: it must be empty (the database) or name Redis as {SHAPE}"
    return _redis_problem(uri)


def _redis_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port == -1:
        return f"must name Redis's host and, if any, a numeric port: {SHAPE}"
    if parts.path not in ("", "/") and not parts.path[1:].isdigit():
        return f"must name a numbered Redis database after the host, if any: {SHAPE}"
    options = parse_qsl(parts.query, keep_blank_values=True)
    unknown = sorted({name for name, _ in options} - {"key_prefix"})
    if unknown:
        return f"has options the service does not take ({', '.join(unknown)}): {SHAPE}"
    for _, prefix in options:
        if not KEY_PREFIX.fullmatch(prefix):
            return (
                "has a key_prefix that is not 1-64 letters, digits or _.:- "
                "(starting with a letter or digit)"
            )
    return None
