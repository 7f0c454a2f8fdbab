"""A count reads as Swedish whatever it is (issue 16, finding 4): "1 grupp", "2 grupper",
"1 dag", "2 dagar", never "1 grupper". Every message that puts a number before a noun goes
through ngettext, and each of them says its singular for 1 and its plural for 2."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from referral import clock
from referral.services.gallring.rules import RULES_BY_NAME
from referral.web.gallring import period_words
from tests.factories import Factory, log_in
from tests.web.test_group_pages import _accepted_referrals, _post

REFERRAL = Path(__file__).resolve().parents[2] / "referral"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}

# (singular msgid, plural msgid, other placeholders, Swedish for 1, Swedish for 2)
COUNTED: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("%(num)s child", "%(num)s children", {}, "1 barn", "2 barn"),
    ("%(num)s place left", "%(num)s places left", {}, "1 plats kvar", "2 platser kvar"),
    ("%(num)s group", "%(num)s groups", {}, "1 grupp", "2 grupper"),
    (
        "%(num)s child waiting for a group",
        "%(num)s children waiting for a group",
        {},
        "1 barn väntar på en grupp",
        "2 barn väntar på en grupp",
    ),
    (
        "acknowledged after %(num)s minute",
        "acknowledged after %(num)s minutes",
        {},
        "kvitterad efter 1 minut",
        "kvitterad efter 2 minuter",
    ),
    ("waiting %(num)s day", "waiting %(num)s days", {}, "väntat 1 dag", "väntat 2 dagar"),
    (
        "Waiting for %(num)s day.",
        "Waiting for %(num)s days.",
        {},
        "Har väntat i 1 dag.",
        "Har väntat i 2 dagar.",
    ),
    (
        "Waiting for a response for %(num)s day.",
        "Waiting for a response for %(num)s days.",
        {},
        "Har väntat på svar i 1 dag.",
        "Har väntat på svar i 2 dagar.",
    ),
    (
        "%(num)s day to the response",
        "%(num)s days to the response",
        {},
        "1 dag till svar",
        "2 dagar till svar",
    ),
    ("%(num)s day waiting", "%(num)s days waiting", {}, "har väntat 1 dag", "har väntat 2 dagar"),
    ("%(num)s day", "%(num)s days", {}, "1 dag", "2 dagar"),
    ("%(num)s entry", "%(num)s entries", {}, "1 post", "2 poster"),
    ("%(num)s checkpoint", "%(num)s checkpoints", {}, "1 kontrollpunkt", "2 kontrollpunkter"),
    ("every entry", "every %(num)s entries", {}, "varje post", "var 2:e post"),
    (
        "every minute when entries were written",
        "every %(num)s minutes when entries were written",
        {},
        "varje minut när poster har skrivits",
        "var 2:e minut när poster har skrivits",
    ),
    (
        "The log is intact: %(num)s entry verified.",
        "The log is intact: %(num)s entries verified.",
        {},
        "Loggen är intakt: 1 post kontrollerad.",
        "Loggen är intakt: 2 poster kontrollerade.",
    ),
    ("%(num)s year", "%(num)s years", {}, "1 år", "2 år"),
    (
        "%(num)s year (born %(date)s)",
        "%(num)s years (born %(date)s)",
        {"date": "2025-03-01"},
        "1 år (född 2025-03-01)",
        "2 år (född 2025-03-01)",
    ),
    (
        "%(num)s more unread is not shown: mark these read to see them.",
        "%(num)s more unread are not shown: mark these read to see them.",
        {},
        "1 oläst till visas inte",
        "2 olästa till visas inte",
    ),
    (
        "Consents of your district's children that end within %(num)s day, and consents that "
        "have lapsed while a partner still has the referral. The partner loses access the day "
        "after the end date.",
        "Consents of your district's children that end within %(num)s days, and consents that "
        "have lapsed while a partner still has the referral. The partner loses access the day "
        "after the end date.",
        {},
        "som upphör inom 1 dag,",
        "som upphör inom 2 dagar,",
    ),
    (
        "Emergency access is for emergencies only, and you must give a reason. It lasts "
        "%(num)s hour and lets you read the record, not change it. The access and everything "
        "you open are logged and reported to the data-protection officer, who reviews your "
        "reason.",
        "Emergency access is for emergencies only, and you must give a reason. It lasts "
        "%(num)s hours and lets you read the record, not change it. The access and everything "
        "you open are logged and reported to the data-protection officer, who reviews your "
        "reason.",
        {},
        "Den gäller i 1 timme och",
        "Den gäller i 2 timmar och",
    ),
    (
        "%(num)s place is already given on %(night)s (%(women)s for women, %(men)s for men, "
        "%(other)s unreserved): the places cannot be fewer.",
        "%(num)s places are already given on %(night)s (%(women)s for women, %(men)s for men, "
        "%(other)s unreserved): the places cannot be fewer.",
        {"night": "2027-01-05", "women": 1, "men": 0, "other": 1},
        "1 plats är redan tilldelad den 2027-01-05 (1 för kvinnor, 0 för män, 1 utan reservation)",
        "2 platser är redan tilldelade den 2027-01-05 (1 för kvinnor, 0 för män, 1 utan "
        "reservation)",
    ),
    (
        "The places were allocated: %(num)s registered, %(placed)s placed, %(turned_away)s on "
        "the reserve list.",
        "The places were allocated: %(num)s registered, %(placed)s placed, %(turned_away)s on "
        "the reserve list.",
        {"placed": 1, "turned_away": 0},
        "Platserna fördelades: 1 inskriven, 1 fick plats, 0 på reservlistan.",
        "Platserna fördelades: 2 inskrivna, 1 fick plats, 0 på reservlistan.",
    ),
]

# A plural noun after a number, in a message without ngettext.
COUNT_BEFORE_NOUN = re.compile(
    r"%\(\w+\)s (days?|minutes?|hours?|weeks?|months?|years?|groups?|places?|entries|"
    r"checkpoints?|children|nights?)\b"
)
# Limits fixed in code that are never 1, and ranges ("5 to 8 children") read as plurals.
FIXED_LIMITS = {
    "The birth date in the personnummer is more than %(n)s years ago.",  # OLDEST_AGE
    "Programme B meets youths up to and including %(n)s years of age.",  # MAX_YOUTH_AGE, 20
    "The group is full: a group holds at most %(n)s children.",  # GROUP_MAX, 8
    "An exclusion ends after today and at most %(n)s days ahead.",  # 365 days
    "At most %(n)s years ahead.",  # PLANNING_YEARS, 2
    "A group starts with %(lowest)s to %(highest)s children; this one has %(n)s.",
    "The age band lies within %(lowest)s to %(highest)s years, youngest first.",
    "A client is valid for 1 to %(n)s days.",  # api_clients.MAX_VALID_DAYS
    "The old token may work on for 0 to %(n)s days.",  # api_clients.MAX_GRACE_DAYS
}


def _messages() -> list[tuple[str, ...]]:
    """Every message the code and the templates mark, as (msgid,) or (singular, plural)."""
    found: list[tuple[str, ...]] = []
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REFERRAL),
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.append(message if isinstance(message, tuple) else (message,))
    return found


@pytest.fixture(scope="module")
def messages() -> list[tuple[str, ...]]:
    return _messages()


def _swedish(app: Flask, singular: str, plural: str, n: int, extra: dict[str, Any]) -> str:
    with app.test_request_context("/"):  # the interface's default language: Swedish
        return render_template_string(
            "{{ ngettext(singular, plural, n, **extra) }}",
            singular=singular,
            plural=plural,
            n=n,
            extra=extra,
        )


@pytest.mark.parametrize(
    ("singular", "plural", "extra", "one", "two"), COUNTED, ids=[c[0][:40] for c in COUNTED]
)
def test_a_count_of_one_reads_singular_and_two_plural_in_swedish(
    app: Flask, singular: str, plural: str, extra: dict[str, Any], one: str, two: str
) -> None:
    assert one in _swedish(app, singular, plural, 1, extra)
    assert two in _swedish(app, singular, plural, 2, extra)


def test_every_counted_message_is_one_the_pages_use(messages: list[tuple[str, ...]]) -> None:
    unused = [singular for singular, plural, *_ in COUNTED if (singular, plural) not in messages]
    assert unused == []


def test_no_message_puts_a_count_before_a_plural_noun_without_ngettext(
    messages: list[tuple[str, ...]],
) -> None:
    single_form = {m[0] for m in messages if len(m) == 1}
    counted = sorted(m for m in single_form if COUNT_BEFORE_NOUN.search(m))
    assert [m for m in counted if m not in FIXED_LIMITS] == []


PERIODIC_RULES = [
    name for name, rule in RULES_BY_NAME.items() if "%(period)s" in str(rule.help._args[0])
]


@pytest.mark.parametrize("name", PERIODIC_RULES)
def test_a_retention_period_of_one_reads_singular_on_the_retention_page(
    app: Flask, name: str
) -> None:
    rule = RULES_BY_NAME[name]
    (unit,) = rule.retention(app.config["REFERRAL_SETTINGS"])
    with app.test_request_context("/"):
        one = str(rule.help % period_words({unit: 1}))
        two = str(rule.help % period_words({unit: 2}))
    assert ("1 dag " in one and "2 dagar " in two) if unit == "days" else ("1 år " in one)
    assert "%(period)s" not in one and "1 dagar" not in one


def test_the_group_leader_sees_one_group_and_one_child_in_the_singular(
    app: Flask, factory: Factory, client: FlaskClient
) -> None:
    partner = factory.organisation("partner")
    leader = factory.account("group_leader", partner)
    log_in(client, leader)
    (referral_id,) = _accepted_referrals(app, factory, partner, leader, 1)
    planned = _post(
        client,
        "/partner/groups",
        {
            "name": "Vårgrupp Skärholmen",
            "group_format": "weekly",
            "start_date": clock.today().isoformat(),
            "min_age": 7,
            "max_age": 12,
            "leader_ids": [leader.user.id],
        },
    )
    assert planned.status_code == 302, planned.get_data(as_text=True)
    overview = " ".join(client.get("/partner/groups").get_data(as_text=True).split())
    assert "1 grupp, 8 platser kvar, 1 barn väntar på en grupp." in overview

    group_id = planned.headers["Location"].rsplit("/", 1)[-1]
    placed = _post(
        client, "/partner/groups/place", {"group_id": group_id, "referral_id": referral_id}
    )
    assert placed.status_code == 302
    page = client.get(f"/partner/groups/{group_id}").get_data(as_text=True)
    assert "1 barn, 7 platser kvar (en grupp startar med 5 till 8)." in page
