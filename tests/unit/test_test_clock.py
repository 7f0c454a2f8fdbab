"""The test suite's stopped clock for the real server: the time is read from a file that a
test over HTTP writes and moves; an empty file is the real time again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from referral import clock


def test_the_clock_follows_the_file_and_returns_to_real_time_when_it_is_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "_read_instant", None)
    moment = tmp_path / "clock"
    moment.write_text("2027-03-03T09:30:00+01:00", encoding="utf-8")
    clock.follow_file(str(moment))

    assert clock.now() == datetime(2027, 3, 3, 8, 30, tzinfo=UTC)
    assert clock.today().isoformat() == "2027-03-03"
    moment.write_text("2027-03-05T23:30:00+00:00", encoding="utf-8")
    assert clock.today().isoformat() == "2027-03-06"  # already Saturday in Stockholm
    moment.write_text("", encoding="utf-8")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
