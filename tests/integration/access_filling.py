"""What the access-control matrix's walk (tests/integration/test_access_matrix.py) sends:
each URL parameter filled from the scene (tests/integration/access_scene.py) by its name,
for a case's role and object (own or other organisation, own or other programme), the
query strings a page needs, and the bodies of the writes that need one to reach their
record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from werkzeug.routing import Map

from referral import clock
from referral.roles import Role
from tests.access_matrix import WRITES, On, Variant
from tests.integration.access_scene import Scene, World

# The programmes each role follows (referral.policy.PROGRAMMES_OF_ROLE): its own is the
# first; another is one it does not follow (the coordinator and the DPO follow all three).
OWN_PROGRAMME = {Role.LINK_WORKER: "B", Role.NIGHT_STAFF: "C", Role.NIGHT_COORDINATOR: "C"}
OTHER_PROGRAMME = {"A": "B", "B": "C", "C": "A"}
PARTNER_STAFF = frozenset({Role.GROUP_LEADER, Role.LINK_WORKER, Role.NIGHT_STAFF})


@dataclass(frozen=True)
class Filling:
    scene: Scene
    role: Role | None
    variant: Variant

    @property
    def world(self) -> World:
        return self.scene.other if self.variant is Variant.OTHER_ORG else self.scene.own

    @property
    def programme(self) -> str:
        own = OWN_PROGRAMME.get(self.role, "A") if self.role else "A"
        return OTHER_PROGRAMME[own] if self.variant is Variant.OTHER_PROGRAMME else own


def filling_for(scene: Scene, who: str, variant: Variant) -> Filling:
    role = Role(who) if who in {r.value for r in Role} else None
    return Filling(scene, role, variant)


def _report(f: Filling) -> str:
    """A concern report received by the role's organisation: the social emergency service's
    own is the one it received; everyone else's, the district's."""
    if f.role is Role.SOCIAL_EMERGENCY and f.variant is Variant.OWN_ORG:
        return f.scene.emergency_report_id
    return f.world.report_id


def _notice(f: Filling) -> str:
    partner = f.role in PARTNER_STAFF
    return f.world.partner_notice_id if partner else f.world.district_notice_id


def _user(f: Filling) -> str:
    """A staff account of the user's own organisation (for the city's administrator, the
    city's DPO), or of another (the other district's social worker)."""
    if f.variant is Variant.OTHER_ORG:
        return f.world.social_worker_id
    return f.scene.accounts[Role.DPO].user.id


# What each URL parameter is, and how the scene fills it. A route whose parameter is not
# here fails the walk, naming the parameter: add it (and the record it names to the scene).
# Where "own" depends on the role (a notice to the partner, or to the district), the role's
# organisation decides.
ORG_PARAMETERS: dict[str, Callable[[Filling], str]] = {
    "child_id": lambda f: f.world.child_id,
    "referral_id": lambda f: f.world.referral_id,
    "group_id": lambda f: f.world.group_id,
    "session_id": lambda f: f.world.session_id,
    "report_id": _report,
    "registration_id": lambda f: f.world.registration_id,
    "file_id": lambda f: f.world.file_id,
    "notice_id": _notice,
    "youth_id": lambda f: f.world.youth_id,
    "encounter_id": lambda f: f.world.encounter_id,
    "case_id": lambda f: f.world.case_id,
    "consent_id": lambda f: f.world.consent_id,
    "link_id": lambda f: f.world.link_id,
    "shelter_id": lambda f: f.world.shelter_id,
    "place_id": lambda f: f.world.place_id,
    "exclusion_id": lambda f: f.world.exclusion_id,
    "user_id": _user,
    "organisation_id": lambda f: (
        f.world.district_id if f.variant is Variant.OTHER_ORG else f.scene.city_id
    ),
}
PROGRAMME_PARAMETERS: dict[str, Callable[[Filling], str]] = {
    "programme": lambda f: f.programme,
    "complaint_id": lambda f: f.scene.complaint_ids[f.programme],
}
# Parameters that name no organisation's record: one value for every case.
PLAIN_PARAMETERS: dict[str, Callable[[Filling], str]] = {
    "key": lambda _f: "2026-winter",  # a reporting period
    "day": lambda f: f.scene.night_day.isoformat(),
    "client_id": lambda f: f.scene.client_id,  # the city's API client
    "hold_id": lambda f: f.scene.hold_id,  # a legal hold (the city's retention)
    "provider": lambda _f: "unconfigured",  # no identity provider is configured here
    "token": lambda _f: "a" * 43,  # a well-formed invitation token nobody was given
    "filename": lambda _f: "app.css",
}
PARAMETERS = ORG_PARAMETERS | PROGRAMME_PARAMETERS | PLAIN_PARAMETERS

# Query strings a page needs to show (not to authorize): the partner a consent form is for,
# the night a shelter's list is of.
QUERIES: dict[str, Callable[[Filling], dict[str, str]]] = {
    "consent_documents.consent_form": lambda f: {"partner": f.world.partner_id},
    "nights.tonight_page": lambda f: {"night": f.scene.night_day.isoformat()},
    "api_clients.issue_page": lambda f: {"for": f"{f.world.partner_id}:group_leader"},
}


def _day(days: int = 0) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def _attendance(f: Filling) -> dict[str, object]:
    enrolment = f.world.enrolment_id
    return {"enrolment": enrolment, f"mark-{enrolment}": "present"}


def _step(f: Filling) -> dict[str, object]:
    prefix = f"step-{f.world.case_id[:8]}"
    return {
        "youth_id": f.world.youth_id,
        f"{prefix}-step": "contact_made",
        f"{prefix}-done_on": _day(),
    }


def _exclusion(f: Filling, prefix: str = "") -> dict[str, object]:
    fields = {
        "shelter_id": f.world.shelter_id,
        "card_number": f.world.card_number,
        "reason": "Bröt mot husets regler.",
        "expires_on": _day(7),
    }
    return {f"{prefix}{name}": value for name, value in fields.items()}


# Bodies for writes whose form or schema is checked before the record is loaded: with an
# empty body another organisation's record would be answered 422 and never reach the check
# this walk is about. Ids in a body are of the same world as the URL's; other writes are
# sent empty.
BODIES: dict[str, Callable[[Filling], dict[str, object]]] = {
    "POST api_children.Guardians": lambda _f: {"name": "Vårdnadshavare", "has_custody": True},
    "POST api_children.Consents": lambda _f: {
        "party": "child",
        "decision": "given",
        "categories": ["name"],
        "decided_on": _day(),
        "valid_until": _day(30),
        "method": "written",
        "description_version": "Matris-0",
    },
    "PUT api_children.Details": lambda _f: dict.fromkeys(
        (
            "gender",
            "family_home_name",
            "family_home_address",
            "family_home_phone",
            "paying_municipality",
            "child_views",
        )
    ),
    "PUT api_children.LvuSharing": lambda _f: {"shared": []},
    "PUT api_children.Placement": lambda _f: {"basis": "SoL"},
    "POST api_groups.Enrolments": lambda f: {"referral_id": f.world.referral_id},
    "POST api_groups.Visits": lambda f: {
        "enrolment_id": f.world.enrolment_id,
        "kind": "home",
        "day": _day(),
    },
    "PUT api_groups.SessionAttendance": lambda f: {"present": {f.world.enrolment_id: True}},
    "POST groups.attendance": _attendance,
    "POST api_partner_files.Notes": lambda _f: {"text": "En anteckning."},
    "POST api_nights.NoShows": lambda f: {"card_numbers": [f.world.card_number]},
    "POST api_nights.Exclusions": _exclusion,
    "POST nights.exclude": lambda f: _exclusion(f, "exclude-"),
    "POST api_outreach.Link": lambda f: {"youth_id": f.world.youth_id},
    "POST outreach.link": lambda f: {"encounter_id": f.world.encounter_id},
    "POST api_outreach.RecordLinks": lambda f: {"other_id": f.world.twin_id},
    "POST api_outreach.NotTheSame": lambda f: {"other_id": f.world.twin_id},
    "POST outreach.link_records": lambda f: {"other_id": f.world.twin_id, "same": "yes"},
    "POST api_outreach.Found": lambda _f: {
        "found_at": clock.now().isoformat(),
        "place": "sergels_torg",
        "reporter_contact": "070-1",
    },
    "POST api_outreach.Consents": lambda _f: {
        "authority": "district_social_services",
        "purpose": "Länkning",
        "categories": ["identity"],
        "given_by": "god_man",
        "valid_from": _day(),
        "valid_until": _day(30),
    },
    "POST api_outreach.Steps": lambda _f: {"step": "contact_made", "done_on": _day()},
    "POST outreach.record_step": _step,
}


def on_of(arguments: set[str]) -> On:
    """What a route's parameters name, for the row's `on`."""
    if arguments & set(ORG_PARAMETERS):
        return On.ORG
    if arguments & set(PROGRAMME_PARAMETERS):
        return On.PROGRAMME
    return On.NOTHING


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, object] | None  # None: a GET, with no body

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def request_for(url_map: Map, key: str, filling: Filling) -> Request:
    """The request of a case: "METHOD endpoint" with its URL filled from the scene."""
    method, endpoint = key.split(" ")
    rules = list(url_map.iter_rules(endpoint))
    assert len(rules) == 1, f"{endpoint} has {len(rules)} URL rules: one row cannot name them"
    unknown = sorted(rules[0].arguments - set(PARAMETERS))
    assert not unknown, (
        f"{endpoint} takes {unknown}: add them to PARAMETERS in "
        "tests/integration/access_filling.py (and the records they name to the scene)"
    )
    values = {name: PARAMETERS[name](filling) for name in rules[0].arguments}
    path = url_map.bind("localhost").build(endpoint, values, method=method)
    query = QUERIES[endpoint](filling) if endpoint in QUERIES else {}
    body = (BODIES[key](filling) if key in BODIES else {}) if method in WRITES else None
    return Request(method, path, query, body)
