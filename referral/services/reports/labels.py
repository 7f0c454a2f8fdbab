"""The words a report uses for codes: one place, so the page, the CSV and the PDF say the
same thing, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from flask_babel.speaklater import LazyString

from referral.actors import Actor
from referral.i18n import _, _l
from referral.reports.tables import Axis
from referral.services.reports.periods import Period, PeriodKind

PROGRAMME: Mapping[str, LazyString] = {
    "A": _l("Programme A: support groups for children placed in family homes"),
    "B": _l("Programme B: outreach and link cases for unaccompanied youths"),
    "C": _l("Programme C: night places for EU citizens"),
}
GENDER: Mapping[str, LazyString] = {
    "girl": _l("Girls"),
    "boy": _l("Boys"),
    "other": _l("Other"),
    "woman": _l("Women"),
    "man": _l("Men"),
    "unknown": _l("Not known"),
}
AGE_BAND: Mapping[str, LazyString] = {
    "7_9": _l("7-9 years"),
    "10_12": _l("10-12 years"),
    "13_15": _l("13-15 years"),
    "16_18": _l("16-18 years"),
    "under_15": _l("Under 15"),
    "15_17": _l("15-17 years"),
    "18_20": _l("18-20 years"),
    "under_18": _l("Under 18"),
    "18_29": _l("18-29 years"),
    "30_49": _l("30-49 years"),
    "50_64": _l("50-64 years"),
    "65_plus": _l("65 or older"),
    "unknown": _l("Not known"),
}
REFERRAL_STATUSES = (
    "submitted",
    "awaiting_consent",
    "shared",
    "accepted",
    "placed",
    "participating",
    "completed",
    "declined",
    "withdrawn",
    "cancelled",
)
REFERRAL_STATUS: Mapping[str, LazyString] = {
    "submitted": _l("Submitted"),
    "awaiting_consent": _l("Awaiting consent"),
    "shared": _l("Shared with the partner"),
    "accepted": _l("Accepted"),
    "placed": _l("Placed in a group"),
    "participating": _l("Participating"),
    "completed": _l("Completed"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
    "cancelled": _l("Cancelled"),
}
GROUP_FORMAT: Mapping[str, LazyString] = {"weekly": _l("Weekly group"), "weekend": _l("Weekend")}
GROUP_SIZE: Mapping[str, LazyString] = {
    "under_5": _l("Fewer than 5 children"),
    "5_8": _l("5-8 children"),
    "over_8": _l("More than 8 children"),
}
CONSENT_OUTCOME: Mapping[str, LazyString] = {
    "given": _l("Given"),
    "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
    "lapsed": _l("Lapsed"),
}
CONCERN: Mapping[str, LazyString] = {
    "acknowledged": _l("Acknowledged"),
    "waiting": _l("Not yet acknowledged"),
}
ENCOUNTER_KIND: Mapping[str, LazyString] = {
    "anonymous": _l("Anonymous"),
    "identified": _l("With the youth's identity recorded"),
}
PLACES = ("sergels_torg", "centralstationen", "medborgarplatsen", "meeting_place", "other")
PLACE: Mapping[str, LazyString] = {
    "sergels_torg": _l("Sergels torg"),
    "centralstationen": _l("Centralstationen"),
    "medborgarplatsen": _l("Medborgarplatsen"),
    "meeting_place": _l("Meeting place"),
    "other": _l("Other"),
}
AUTHORITIES = (
    "district_social_services",
    "socialjouren",
    "migrationsverket",
    "police",
    "healthcare",
    "dental_care",
    "god_man",
    "public_counsel",
    "youth_clinic",
)
AUTHORITY: Mapping[str, LazyString] = {
    "district_social_services": _l("District social services"),
    "socialjouren": _l("Socialjouren"),
    "migrationsverket": _l("Migrationsverket"),
    "police": _l("Police"),
    "healthcare": _l("Healthcare"),
    "dental_care": _l("Dental care"),
    "god_man": _l("Guardian (god man)"),
    "public_counsel": _l("Public counsel"),
    "youth_clinic": _l("Youth clinic"),
}
LINK_OUTCOMES = ("open", "back_in_welfare", "declined", "lost_contact", "other")
LINK_OUTCOME: Mapping[str, LazyString] = {
    "open": _l("Still open"),
    "back_in_welfare": _l("Back within welfare"),
    "declined": _l("Declined"),
    "lost_contact": _l("Lost contact"),
    "other": _l("Other"),
}
MORNING_COUNT: Mapping[str, LazyString] = {
    "placed": _l("Places given"),
    "turned_away": _l("Turned away"),
}
NIGHT_STATUSES = ("allocated", "checked_in", "no_show")
NIGHT_STATUS: Mapping[str, LazyString] = {
    "allocated": _l("Allocated"),
    "checked_in": _l("Checked in"),
    "no_show": _l("Did not come"),
}
ROLE: Mapping[str, LazyString] = {
    "group_leader": _l("group leader"),
    "link_worker": _l("link worker"),
    "night_staff": _l("night staff"),
    "night_coordinator": _l("night coordinator"),
    "coordinator": _l("the city's coordinator"),
    "dpo": _l("the data protection officer"),
}
MONTHS = (
    _l("January"),
    _l("February"),
    _l("March"),
    _l("April"),
    _l("May"),
    _l("June"),
    _l("July"),
    _l("August"),
    _l("September"),
    _l("October"),
    _l("November"),
    _l("December"),
)


def axis(keys: Sequence[str], words: Mapping[str, LazyString]) -> Axis:
    return Axis(tuple(keys), tuple(str(words[key]) for key in keys))


def programme(key: str) -> str:
    return str(PROGRAMME[key])


def month(first_day: date) -> str:
    return f"{MONTHS[first_day.month - 1]} {first_day.year}"


def period(p: Period) -> str:
    if p.kind is PeriodKind.YEAR:
        return str(_("The year %(year)s", year=p.year))
    return str(
        _(
            "%(first)s - %(last)s",
            first=month(p.first_day),
            last=month(p.last_day.replace(day=1)),
        )
    )


def roles_of(actor: Actor) -> str:
    named = sorted(str(ROLE[role]) for role in actor.roles if role in ROLE)
    return ", ".join(named) or "-"
