"""The access-control matrix, declared as data: who gets what from every route.

One row per route and method (`"METHOD endpoint"`, every rule of `app.url_map` but Flask's
`static`, every method but HEAD and OPTIONS). A row names the roles the route is for
(`only(...)`); everyone else is refused (deny by default), and how is fixed by who they are:

| who                                   | a page (HTML)                   | the API (/api/v1)    |
|---------------------------------------|---------------------------------|----------------------|
| anonymous (no session)                | LOGIN: redirect to the login    | UNAUTHENTICATED 401  |
| password only (second factor not yet) | SECOND_FACTOR: redirect to /mfa | UNAUTHENTICATED 401  |
| a role the row does not name          | FORBIDDEN 403                   | FORBIDDEN 403        |

A role the row names is let in (ALLOWED):

- a GET must answer OK (2xx, or a redirect anywhere but the login and the second factor);
- a write (POST, PUT, PATCH, DELETE) is sent with the session's CSRF token and an empty
  body (or, where a form or schema is checked before the record is loaded, a body that
  passes it: tests/integration/access_filling.BODIES). The test asks only that
  authorization let it through, so OK or INVALID (a 4xx about the request's content, e.g.
  400 or 422 for the empty body, 409 for a state that does not allow it) both pass; never
  401, 403 or 404, never a redirect to the login. A write is rolled back after its case.

Where a route takes an object's id, each case is walked with an object of the user's own
organisation ("own org": in the scene, tests/integration/access_scene.py, the user's
district or partner, or the city for the city's staff) and of another organisation ("other
org"); where the object belongs to a programme rather than an organisation (a complaint, an
activity report), with one of the user's programme(s) ("own programme") and one of another
programme ("other programme"). A role the row names gets, on another organisation's or
programme's object, HIDDEN (404: a refusal that does not tell the record exists, as
referral.policy.require answers), unless the row says otherwise (`other_org=`,
`other_programme=`, or `own=` for a named role that must not reach even its own
organisation's record of that kind). The scene's partner runs all three programmes, so a
route of one programme refused to another programme's staff of the same partner is the
"own org" case of a role the row does not name.

A public route (`public()`) answers alike to everyone (OK unless the row says what else);
`signed_in()` is a step of the login itself, for anyone with a session.

Every outcome is a status class, never a 5xx. What the table says is what the domain says
(domain.md §1-7, the grants in referral/policy.py), not what the code happens to do: a
known difference is listed in KNOWN_BUGS, whose cases the test marks xfail(strict=True)
until the code is fixed.

The test, tests/integration/test_access_matrix.py, proves OWASP ASVS 5.0 V8 Authorization:
8.2.1 (function-level access: each route only for the roles named), 8.2.2 (data-specific
access: another organisation's or programme's record is refused, and as not found), 8.3.1
(authorization enforced at the server, on every route) and 8.1.1 (the rules documented, here
as this table).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Literal

from referral.roles import Role


class Outcome(StrEnum):
    OK = "ok"  # 2xx, or a redirect elsewhere than the login or the second factor
    INVALID = "invalid"  # 4xx about the request's content (400, 405, 409, 410, 422)
    LOGIN = "login"  # the gate's redirect to the login page
    SECOND_FACTOR = "second factor"  # the gate's redirect to /mfa
    UNAUTHENTICATED = "401"
    FORBIDDEN = "403"
    HIDDEN = "404"
    TOO_MANY = "429"  # never expected: the walk must stay within every rate limit
    ERROR = "5xx"  # never expected


class Variant(StrEnum):
    NONE = ""  # the route names no object (or one that belongs to no organisation)
    OWN_ORG = "own org"
    OTHER_ORG = "other org"
    OWN_PROGRAMME = "own programme"
    OTHER_PROGRAMME = "other programme"


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ANONYMOUS = "anonymous"
PASSWORD_ONLY = "password-only"
WHO: tuple[str, ...] = (ANONYMOUS, PASSWORD_ONLY, *(role.value for role in Role))

SW = Role.SOCIAL_WORKER
GL = Role.GROUP_LEADER
LW = Role.LINK_WORKER
SE = Role.SOCIAL_EMERGENCY
NS = Role.NIGHT_STAFF
NC = Role.NIGHT_COORDINATOR
CO = Role.COORDINATOR
DPO = Role.DPO
ADM = Role.ADMIN
EVERY_ROLE = frozenset(Role)

# Let in: for a GET, OK; for a write, OK or INVALID (see the module's docstring).
ALLOWED: Final[Literal["allowed"]] = "allowed"
Expected = Outcome | Literal["allowed"]


class On(StrEnum):
    """What the route's URL names: the variants each of its cases is walked with."""

    NOTHING = "nothing"  # no id, or one of a record that belongs to no organisation
    ORG = "an organisation's record"  # own org / other org
    PROGRAMME = "a programme's record"  # own programme / other programme


VARIANTS: dict[On, tuple[Variant, ...]] = {
    On.NOTHING: (Variant.NONE,),
    On.ORG: (Variant.OWN_ORG, Variant.OTHER_ORG),
    On.PROGRAMME: (Variant.OWN_PROGRAMME, Variant.OTHER_PROGRAMME),
}


class Access(StrEnum):
    PUBLIC = "public"  # no login
    SIGNED_IN = "signed in"  # a session, with or without the second factor
    ROLES = "roles"  # a fully verified session of a named role


@dataclass(frozen=True)
class Row:
    access: Access
    roles: frozenset[Role] = frozenset()
    on: On = On.NOTHING
    # What a named role gets on an object other than its own organisation's or programme's
    # (HIDDEN unless the row says otherwise), and on its own where that is refused.
    own: Mapping[Role, Expected] = field(default_factory=dict)
    other_org: Mapping[Role, Expected] = field(default_factory=dict)
    other_programme: Mapping[Role, Expected] = field(default_factory=dict)
    # For a public route: what everyone gets; and for a step of the login, what a visitor
    # who is not (fully) signed in gets instead (the form's own answer, not the gate's).
    everyone: Expected = ALLOWED
    by_who: Mapping[str, Expected] = field(default_factory=dict)


def _per_role(
    roles: frozenset[Role], given: Expected | Mapping[Role, Expected]
) -> dict[Role, Expected]:
    if isinstance(given, Mapping):
        unknown = set(given) - roles
        assert not unknown, f"{unknown} are not among the row's roles {roles}"
        return dict(given)
    return dict.fromkeys(roles, given)


def only(
    *roles: Role,
    on: On = On.NOTHING,
    own: Mapping[Role, Expected] | None = None,
    other_org: Expected | Mapping[Role, Expected] = Outcome.HIDDEN,
    other_programme: Expected | Mapping[Role, Expected] = Outcome.HIDDEN,
) -> Row:
    """The route is for these roles; `other_org`/`other_programme` say what they get on an
    object of another organisation/programme (one outcome for all, or per role)."""
    named = frozenset(roles)
    return Row(
        Access.ROLES,
        named,
        on=on,
        own=_per_role(named, own or {}),
        other_org=_per_role(named, Outcome.HIDDEN)
        | (_per_role(named, other_org) if other_org else {}),
        other_programme=_per_role(named, Outcome.HIDDEN)
        | (_per_role(named, other_programme) if other_programme else {}),
    )


def public(everyone: Expected = ALLOWED, unverified: Expected | None = None) -> Row:
    """Open to all; `unverified` is what the anonymous and password-only visitors get
    instead, where the route answers them itself (the login form, the keep-alive)."""
    by_who = {ANONYMOUS: unverified, PASSWORD_ONLY: unverified} if unverified else {}
    return Row(Access.PUBLIC, EVERY_ROLE, everyone=everyone, by_who=by_who)


def signed_in(password_only: Expected = ALLOWED) -> Row:
    """A step of the login: for any session, with or without the second factor."""
    return Row(Access.SIGNED_IN, EVERY_ROLE, by_who={PASSWORD_ONLY: password_only})


# Who does what, by the domain (domain.md §1) and the grants (referral.policy):
EVERYONE_SIGNED_IN = tuple(Role)
REPORTERS = (SW, GL, LW, SE, NS, NC)  # anyone who works with children files a concern report
RECEIVERS = (SW, SE)  # the district, or the social emergency service, receives one
FOLLOWERS = (GL, LW, NS, NC, CO, DPO)  # follow their programme's reports and complaints
# The coordinator and the DPO follow all three programmes.
ALL_PROGRAMMES: dict[Role, Expected] = {CO: ALLOWED, DPO: ALLOWED}
RECORDERS = (GL, LW, NS, NC)  # record a complaint on a participant's behalf, and respond
DESK = (NS, NC)  # the night places' registration desk
RETENTION = (DPO, ADM)
CITY_WIDE: Expected = ALLOWED  # the administrator's scope is the city's (policy.CITY_WIDE_ROLES)
ORG, PROGRAMME = On.ORG, On.PROGRAMME

MATRIX: dict[str, Row] = {
    # --- signing in, and what every signed-in role has ----------------------------------
    # The form answers 401 to a wrong (here: empty) password; a signed-in user is sent home.
    "GET auth.login": public(),
    "POST auth.login": public(unverified=Outcome.UNAUTHENTICATED),
    # A signed-in page's script asks for more time: 401 when there is no full session.
    "POST auth.extend": public(unverified=Outcome.UNAUTHENTICATED),
    "GET auth.second_factor": signed_in(),
    "POST auth.second_factor": signed_in(password_only=Outcome.UNAUTHENTICATED),  # empty code
    "POST auth.logout": signed_in(),
    # Sign-in through an identity provider: none is configured in the walk, so a provider's
    # routes are not found (for everyone alike); an invitation nobody was given is gone.
    "GET oidc.start": public(Outcome.HIDDEN),
    "GET oidc.callback": public(Outcome.HIDDEN),
    "GET oidc.invitation": public(Outcome.INVALID),
    "GET oidc.provider_logout": public(),
    "GET home.healthz": public(),
    "GET home.index": only(*EVERYONE_SIGNED_IN),
    "GET me.Me": only(*EVERYONE_SIGNED_IN),
    "GET api-docs.openapi_json": only(*EVERYONE_SIGNED_IN),
    # Their own sessions: listed, one ended (an empty form names none: 422), the others ended.
    "GET my_sessions.page": only(*EVERYONE_SIGNED_IN),
    "POST my_sessions.end": only(*EVERYONE_SIGNED_IN),
    "POST my_sessions.end_others": only(*EVERYONE_SIGNED_IN),
    # One's own password (a fully verified session; an empty form is refused as invalid).
    "GET auth.change_password": only(*EVERYONE_SIGNED_IN),
    "POST auth.change_password": only(*EVERYONE_SIGNED_IN),
    # --- administration: the city's administrators, city-wide ---------------------------
    "GET admin.users_page": only(ADM),
    "GET users.Users": only(ADM),
    "POST admin.disable_user": only(ADM, on=ORG, other_org=CITY_WIDE),
    "POST admin.reset_mfa": only(ADM, on=ORG, other_org=CITY_WIDE),
    "POST admin.end_sessions": only(ADM, on=ORG, other_org=CITY_WIDE),
    "POST admin.set_work_phone": only(ADM, on=ORG, other_org=CITY_WIDE),
    "GET invitations.sign_in_page": only(ADM, on=ORG, other_org=CITY_WIDE),
    "POST invitations.invite": only(ADM, on=ORG, other_org=CITY_WIDE),
    "GET admin.organisations_page": only(ADM),
    "POST admin.organisations_page": only(ADM),
    "POST admin.set_postal_address": only(ADM, on=ORG, other_org=CITY_WIDE),
    "POST organisations.Organisations": only(ADM),
    # The partners by name, for a social worker choosing whom to refer to.
    "GET organisations.Organisations": only(SW, ADM),
    "GET api_clients.clients_page": only(ADM),
    "GET api_clients.issue_page": only(ADM),
    "POST api_clients.issue_page": only(ADM),
    "POST api_clients.rotate": only(ADM),
    "POST api_clients.revoke": only(ADM),
    "GET activity_descriptions.descriptions": only(ADM),
    "POST activity_descriptions.publish": only(ADM),
    # --- Programme A, the district: its children, consents and referrals ----------------
    "GET casework.children_page": only(SW),
    "GET api_children.Children": only(SW),
    "POST casework.register_child": only(SW),
    "POST api_children.Children": only(SW),
    "POST casework.find_child": only(SW),
    "POST api_children.Lookup": only(SW),
    "GET casework.child_page": only(SW, on=ORG),
    "GET api_children.ChildRecord": only(SW, on=ORG),
    "POST casework.reveal_personnummer": only(SW, on=ORG),
    "POST casework.update_details": only(SW, on=ORG),
    "PUT api_children.Details": only(SW, on=ORG),
    "POST casework.set_case_number": only(SW, on=ORG),
    "POST casework.set_responsible_worker": only(SW, on=ORG),
    "POST casework.record_placement": only(SW, on=ORG),
    "PUT api_children.Placement": only(SW, on=ORG),
    "POST casework.decide_lvu_sharing": only(SW, on=ORG),
    "PUT api_children.LvuSharing": only(SW, on=ORG),
    "POST casework.add_guardian": only(SW, on=ORG),
    "POST api_children.Guardians": only(SW, on=ORG),
    "POST casework.record_consent": only(SW, on=ORG),
    "POST api_children.Consents": only(SW, on=ORG),
    "GET consent_documents.consent_form": only(SW, on=ORG),
    "GET consent_documents.expiring": only(SW),
    "POST casework.create_referral": only(SW, on=ORG),
    "GET api_referrals.Referrals": only(SW),
    "POST api_referrals.Referrals": only(SW),
    "GET api_referrals.OneReferral": only(SW, on=ORG),
    "POST casework.submit_referral": only(SW, on=ORG),
    "POST api_referrals.Submit": only(SW, on=ORG),
    "POST casework.withdraw_referral": only(SW, on=ORG),
    "POST api_referrals.Withdraw": only(SW, on=ORG),
    # Emergency access: a social worker opens another district's child, with a reason.
    "POST emergency.find": only(SW),
    "POST emergency.grant": only(SW),
    "GET interest.queue": only(SW),
    "GET api_interest.Queue": only(SW),
    "POST interest.confirm": only(SW, on=ORG),
    "POST api_interest.Confirm": only(SW, on=ORG),
    "POST interest.decline": only(SW, on=ORG),
    "POST api_interest.Decline": only(SW, on=ORG),
    "GET returned_files.inbox": only(SW),
    "GET returned_files.public_key": only(SW),
    "GET returned_files.document": only(SW, on=ORG),
    "GET returned_files.download": only(SW, on=ORG),
    "POST returned_files.acknowledge": only(SW, on=ORG),
    # What outreach handed over to the district's social services.
    "GET outreach.handovers": only(SW),
    "GET api_handovers.Handovers": only(SW),
    # Notices to the district and to the partner, about their referrals and registrations.
    "GET notifications.index": only(SW, GL),
    "GET api_notifications.Notices": only(SW, GL),
    "POST notifications.mark_all_read": only(SW, GL),
    "POST notifications.mark_read": only(SW, GL, on=ORG),
    "POST api_notifications.MarkRead": only(SW, GL, on=ORG),
    # --- Programme A, the partner: its inbox, groups and own file -----------------------
    "GET partner.inbox": only(GL),
    "GET api_partner.Inbox": only(GL),
    "POST partner.accept": only(GL, on=ORG),
    "POST api_partner.Accept": only(GL, on=ORG),
    "POST partner.decline": only(GL, on=ORG),
    "POST api_partner.Decline": only(GL, on=ORG),
    "GET partner_files.notes": only(GL, on=ORG),
    "POST partner_files.write": only(GL, on=ORG),
    "GET api_partner_files.Notes": only(GL, on=ORG),
    "POST api_partner_files.Notes": only(GL, on=ORG),
    "GET groups.index": only(GL),
    "GET api_groups.Groups": only(GL),
    "POST groups.create": only(GL),
    "POST api_groups.Groups": only(GL),
    "POST groups.place": only(GL),
    "GET groups.group_page": only(GL, on=ORG),
    "GET api_groups.OneGroup": only(GL, on=ORG),
    "POST api_groups.Enrolments": only(GL, on=ORG),
    "POST groups.record_visit": only(GL, on=ORG),
    "POST api_groups.Visits": only(GL, on=ORG),
    "POST groups.start": only(GL, on=ORG),
    "POST api_groups.Start": only(GL, on=ORG),
    "POST groups.attendance": only(GL, on=ORG),
    "PUT api_groups.SessionAttendance": only(GL, on=ORG),
    "POST groups.complete": only(GL, on=ORG),
    "POST api_groups.Complete": only(GL, on=ORG),
    "GET interest.partner_page": only(GL),
    "POST interest.register": only(GL),
    "GET api_interest.PartnerInterest": only(GL),
    "POST api_interest.PartnerInterest": only(GL),
    # The 5 000 SEK per child from another municipality (seed 004).
    "GET fees.report": only(GL, ADM),
    "GET fees.export": only(GL, ADM),
    # --- concern reports: filed by anyone working with children, whatever the consent; --
    # read by the receiving organisation only (the district, or the social emergency
    # service for a youth no district is known for); the DPO sees who filed and read.
    "GET concern.new": only(*REPORTERS),
    "POST concern.file": only(*REPORTERS),
    "GET concern.filed": only(*REPORTERS),
    "GET api_concern.Filed": only(*REPORTERS),
    "POST api_concern.Filed": only(*REPORTERS),
    "GET concern.inbox": only(*RECEIVERS),
    "GET api_concern.Received": only(*RECEIVERS),
    "GET concern.report": only(*RECEIVERS, on=ORG),
    "GET concern.print_copy": only(*RECEIVERS, on=ORG),
    "GET api_concern.Report": only(*RECEIVERS, on=ORG),
    "POST concern.acknowledge": only(*RECEIVERS, on=ORG),
    "POST api_concern.Acknowledge": only(*RECEIVERS, on=ORG),
    "POST concern.close": only(*RECEIVERS, on=ORG),
    "POST api_concern.Close": only(*RECEIVERS, on=ORG),
    "GET concern.trails": only(DPO),
    "GET api_concern.Trails": only(DPO),
    # --- Programme B: the outreach organisation's own youths, encounters, link cases ----
    "GET outreach.encounters_page": only(LW),
    "GET api_outreach.Encounters": only(LW),
    "POST outreach.record_encounter": only(LW),
    "POST api_outreach.Encounters": only(LW),
    "POST outreach.link": only(LW, on=ORG),
    "POST api_outreach.Link": only(LW, on=ORG),
    "POST outreach.unlink": only(LW, on=ORG),
    "POST api_outreach.Unlink": only(LW, on=ORG),
    "GET outreach.youths_page": only(LW),
    "GET api_outreach.Youths": only(LW),
    "POST outreach.register_youth": only(LW),
    "POST api_outreach.Youths": only(LW),
    "POST outreach.find_youth": only(LW),
    "POST api_outreach.Lookup": only(LW),
    "GET outreach.youth_page": only(LW, on=ORG),
    "GET api_outreach.OneYouth": only(LW, on=ORG),
    "POST outreach.record_found": only(LW, on=ORG),
    "POST api_outreach.Found": only(LW, on=ORG),
    "GET outreach.duplicates_page": only(LW),
    "GET api_outreach.Candidates": only(LW, on=ORG),
    "POST outreach.link_records": only(LW, on=ORG),
    "POST api_outreach.RecordLinks": only(LW, on=ORG),
    "POST api_outreach.NotTheSame": only(LW, on=ORG),
    "POST outreach.unlink_records": only(LW, on=ORG),
    "POST api_outreach.UnlinkRecords": only(LW, on=ORG),
    "POST outreach.record_consent": only(LW, on=ORG),
    "GET api_outreach.Consents": only(LW, on=ORG),
    "POST api_outreach.Consents": only(LW, on=ORG),
    "POST outreach.revoke_consent": only(LW, on=ORG),
    "POST api_outreach.Revoke": only(LW, on=ORG),
    "POST outreach.open_case": only(LW, on=ORG),
    "POST api_outreach.LinkCases": only(LW),
    "GET api_outreach.YouthCases": only(LW, on=ORG),
    "POST outreach.record_step": only(LW, on=ORG),
    "POST api_outreach.Steps": only(LW, on=ORG),
    # --- Programme C: night places. The desk (night staff and the city's coordinator) ---
    # issues cards and registers in the morning; a shelter's own staff keep its list; the
    # coordinator keeps every shelter and runs the allocation; the result is public.
    "GET nights.desk": only(*DESK),
    "GET api_nights.Desk": only(*DESK),
    "POST nights.issue_card": only(*DESK),
    "POST api_nights.Cards": only(*DESK),
    "POST nights.look_up": only(*DESK),
    "POST api_nights.CardLookUp": only(*DESK),
    "POST nights.register": only(*DESK),
    "POST api_nights.Registrations": only(*DESK),
    "POST api_nights.RegistrationOverride": only(*DESK),
    "GET api_nights.Shelters": only(*DESK),
    "GET nights.shelters_page": only(NS),
    "GET nights.tonight_page": only(NS, on=ORG),
    "GET api_nights.ShelterNight": only(NS, on=ORG),
    "POST nights.check_in": only(NS, on=ORG),
    "POST api_nights.CheckIn": only(NS, on=ORG),
    "POST nights.record_no_shows": only(NS, on=ORG),
    "POST api_nights.NoShows": only(NS, on=ORG),
    # A shelter's own staff exclude from their shelter; the coordinator lifts, but does not
    # exclude: let in by its grant (night_exclusion:manage, for lifting), it is refused the
    # keeping of a shelter (night_shelter:keep), and the page's form offers it no shelter.
    "GET nights.exclusions_page": only(*DESK),
    "GET api_nights.Exclusions": only(*DESK),
    "POST nights.exclude": only(*DESK, own={NC: Outcome.INVALID}),
    "POST api_nights.Exclusions": only(*DESK, own={NC: Outcome.FORBIDDEN}),
    "POST nights.lift": only(*DESK, on=ORG, other_org={NC: ALLOWED}),
    "POST api_nights.ExclusionLift": only(*DESK, on=ORG, other_org={NC: ALLOWED}),
    # The person may ask for a review at any desk of the partnership, not only the
    # shelter's that excluded them (services/nights/exclusions.request_review).
    "POST nights.request_review": only(*DESK, on=ORG, other_org=ALLOWED),
    "POST api_nights.ExclusionReview": only(*DESK, on=ORG, other_org=ALLOWED),
    "GET nights.coordinator": only(NC),
    "POST nights.create_shelter": only(NC),
    "POST api_nights.Shelters": only(NC),
    "POST nights.update_shelter": only(NC),
    "PUT api_nights.OneShelter": only(NC, on=ORG, other_org=ALLOWED),
    "POST nights.change_capacity": only(NC),
    "POST api_nights.Capacity": only(NC, on=ORG, other_org=ALLOWED),
    "POST nights.run_allocation": only(NC),
    "POST api_nights.Allocations": only(NC),
    "GET api_nights.Verification": only(NC),
    # Published by design, card numbers only: anyone can recompute the draw.
    "GET nights.result": public(),
    "GET nights.result_of_day": public(),
    "GET api_nights.Results": public(),
    # --- governance: activity reports, complaints and suggestions -----------------------
    "GET reports.index": only(*FOLLOWERS),
    "GET reports.report": only(*FOLLOWERS, on=PROGRAMME, other_programme=ALL_PROGRAMMES),
    "GET reports.export_csv": only(*FOLLOWERS, on=PROGRAMME, other_programme=ALL_PROGRAMMES),
    "GET reports.export_pdf": only(*FOLLOWERS, on=PROGRAMME, other_programme=ALL_PROGRAMMES),
    "GET complaints.index": only(*FOLLOWERS),
    "GET complaints.detail": only(*FOLLOWERS, on=PROGRAMME, other_programme=ALL_PROGRAMMES),
    "GET complaints.new": only(*RECORDERS),
    "POST complaints.record_on_behalf": only(*RECORDERS),
    "POST complaints.respond": only(*RECORDERS, on=PROGRAMME),
    # Anyone may give feedback about a programme, without an account.
    "GET complaints.public_form": public(),
    "POST complaints.submit_public": public(),
    "GET complaints.receipt": public(),
    # --- the DPO: the access log, its integrity, emergency grants, subject access -------
    "GET dpo.audit_log": only(DPO),
    "POST dpo.audit_for_person": only(DPO),
    "GET audit.Entries": only(DPO),
    "GET dpo.export": only(DPO),
    "GET dpo.alerts": only(DPO),
    "GET dpo.integrity": only(DPO),
    "POST dpo.verify_now": only(DPO),
    "POST dpo.checkpoint_now": only(DPO),
    "POST audit.Verify": only(DPO),
    "GET dpo.subject_access_page": only(DPO),
    "POST dpo.subject_access_page": only(DPO),
    "POST audit.SubjectAccess": only(DPO),
    "GET dpo.emergency_grants": only(DPO),
    # --- retention (gallring): the plan and holds for the DPO and the administrators ----
    "GET gallring.plan_page": only(*RETENTION),
    "POST gallring.set_hold": only(*RETENTION),
    "POST gallring.release_hold": only(*RETENTION),
}

# Cases where the code answers otherwise than this table: "METHOD endpoint" -> who ->
# variants -> the bug. Each is marked xfail(strict=True): fixing the code makes it pass,
# and then the entry must go.
KNOWN_BUGS: dict[str, dict[str, dict[Variant, str]]] = {}
