"""Programme C against the real server (gunicorn, 2 workers), over HTTP only, with the server's
clock stopped on a weekday morning (REFERRAL_TEST_CLOCK_FILE) and moved by the test: cards
issued and people registered at two desks at the same moment are all kept, one card at both
desks at once is registered once, the commitment shown before anyone registered is the hash of
the seed revealed with the result, two allocation runs started at once give one run, the
public result names card numbers only, and another partner's staff find nothing of ours."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.live.conftest import LiveServer, ServerStarter, run_at_once, same_login

ALIAS = "Nattlive Qworbisk"
MORNING = datetime(2027, 3, 3, 8, 15, tzinfo=UTC)  # Wednesday 09:15 in Stockholm
AFTER_WINDOW = datetime(2027, 3, 3, 10, 5, tzinfo=UTC)
DAY = "2027-03-03"


class StoppedClock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, moment: datetime) -> None:
        self.path.write_text(moment.isoformat(), encoding="utf-8")


@pytest.fixture(scope="module")
def stopped_clock(tmp_path_factory: pytest.TempPathFactory) -> StoppedClock:
    clock = StoppedClock(tmp_path_factory.mktemp("nights-clock") / "now")
    clock.set(MORNING)
    return clock


@pytest.fixture(scope="module")
def nights_server(start_server: ServerStarter, stopped_clock: StoppedClock) -> Iterator[LiveServer]:
    with start_server("nights", TEST_CLOCK_FILE=str(stopped_clock.path)) as server:
        yield server


def test_a_busy_morning_at_two_desks_is_kept_once_and_allocated_once(
    nights_server: LiveServer, stopped_clock: StoppedClock
) -> None:
    url, factory = nights_server.url, nights_server.factory
    partner = factory.organisation("partner")
    city = factory.organisation("city")
    desks = [nights_server.log_in(factory.account("night_staff", partner)) for _desk in range(2)]
    coordinator = nights_server.log_in(factory.account("night_coordinator", city))
    shelter = coordinator.post(
        f"{url}/api/v1/nights/shelters",
        json={
            "organisation_id": partner.id,
            "name": "Livehärbärget",
            "places": 5,
            "reserved_for_women": 2,
            "opens_on": "2027-01-01",
        },
    )
    assert shelter.status_code == 201, shelter.text
    commitment = desks[0].get(f"{url}/api/v1/nights/desk").json()["commitment"]
    assert len(commitment) == 64

    def issue(index: int) -> requests.Response:
        return same_login(desks[index % 2]).post(
            f"{url}/api/v1/nights/cards",
            json={"alias": f"{ALIAS} {index}", "gender": ("woman", "man", "other")[index % 3]},
        )

    issued = run_at_once(12, issue)
    assert [r.status_code for r in issued] == [201] * 12
    cards = [r.json()["card_number"] for r in issued]
    assert len(set(cards)) == 12

    registered = run_at_once(
        12,
        lambda i: same_login(desks[i % 2]).post(
            f"{url}/api/v1/nights/registrations", json={"card_number": cards[i]}
        ),
    )
    assert [r.status_code for r in registered] == [201] * 12
    late = issue(99).json()["card_number"]
    twice = run_at_once(
        2,
        lambda i: same_login(desks[i]).post(
            f"{url}/api/v1/nights/registrations", json={"card_number": late}
        ),
    )
    assert sorted(r.status_code for r in twice) == [201, 409]
    desk = desks[0].get(f"{url}/api/v1/nights/desk").json()
    assert (desk["registered"], desk["commitment"]) == (13, commitment)

    stopped_clock.set(AFTER_WINDOW)  # sessions idle since the morning have ended: log in again
    desk_after = nights_server.log_in(factory.account("night_staff", partner))
    closed = desk_after.post(f"{url}/api/v1/nights/registrations", json={"card_number": cards[0]})
    assert closed.status_code == 409 and "2027-03-04" in closed.text  # the next window
    coordinator = nights_server.log_in(factory.account("night_coordinator", city))
    runs = run_at_once(
        2, lambda _: same_login(coordinator).post(f"{url}/api/v1/nights/allocations")
    )
    assert sorted(r.status_code for r in runs) == [201, 409]
    (made,) = [r.json() for r in runs if r.status_code == 201]
    assert (made["registered"], made["placed"], made["turned_away"]) == (13, 5, 8)
    assert hashlib.sha256(bytes.fromhex(made["seed"])).hexdigest() == commitment

    public = requests.get(f"{url}/api/v1/nights/results/{DAY}", timeout=30)
    assert public.status_code == 200
    result = public.json()
    assert result["seed"] == made["seed"] and len(result["lines"]) == 13
    assert (result["placed"], result["turned_away"]) == (5, 8)
    assert ALIAS not in public.text and "Livehärbärget" not in public.text
    verified = nights_server.flask("nights", "verify-run", DAY)
    assert verified.returncode == 0, verified.stderr + verified.stdout
    assert "verifies" in verified.stdout

    stranger = nights_server.log_in(factory.account("night_staff", factory.organisation("partner")))
    shelter_id = shelter.json()["id"]
    answers = [
        stranger.get(f"{url}/api/v1/nights/shelters/{shelter_id}/nights/{DAY}"),
        stranger.get(f"{url}/api/v1/nights/shelters"),
        stranger.get(f"{url}/api/v1/nights/exclusions"),
    ]
    assert [r.status_code for r in answers] == [404, 200, 200]
    assert answers[1].json() == [] and answers[2].json() == []
    assert ALIAS not in " ".join(r.text for r in answers)
