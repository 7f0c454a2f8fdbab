"""The service's clock: instants in UTC, calendar days in Stockholm.

Consents, decisions and ages run on Swedish calendar days whatever the server's time zone, so
every "today" the service acts on comes from here, never from `date.today()`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

_read_instant: Callable[[], datetime] | None = None


def now() -> datetime:
    if _read_instant is not None:
        return _read_instant()
    return datetime.now(UTC)


def follow_file(path: str) -> None:
    """Tests only (REFERRAL_TEST_CLOCK_FILE, refused outside the test environment): read the
    time from a file holding an ISO instant, so a test driving the real server over HTTP can
    stop its clock and move it (a weekday morning's window on any day the suite runs). An
    empty or missing file means the real time."""
    global _read_instant

    def read() -> datetime:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        return datetime.fromisoformat(text).astimezone(UTC) if text else datetime.now(UTC)

    _read_instant = read


def today() -> date:
    """Today's date in Stockholm."""
    return now().astimezone(STOCKHOLM).date()


def local_day(moment: datetime) -> date:
    """The Stockholm calendar day an instant falls on (a stored UTC time as a day)."""
    return moment.astimezone(STOCKHOLM).date()


def local_text(moment: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored instant (a UTC datetime, or the access log's ISO text) as Stockholm's clock
    shows it: what every page and export a person reads says, never "…T08:06:55Z"."""
    if moment is None or moment == "":
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(STOCKHOLM).strftime(fmt)
