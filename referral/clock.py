"""The service's clock: instants in UTC, calendar days in Stockholm.

Consents, decisions and ages run on Swedish calendar days whatever the server's time zone, so
every "today" the service acts on comes from here, never from `date.today()`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Stockholm."""
    return now().astimezone(STOCKHOLM).date()
