"""An independent model of the law of sharing, for the stateful test of the law
(tests/integration/test_law_stateful.py).

Written from ../shared/domain.md §2, §3 and §5 and the README's Programme A, in plain Python,
without importing or copying referral/rules.py, referral/policy.py or the sharing services, so
that the model and the service can disagree. What the model says the partner may see:

- Nothing of a child without a placement basis recorded.
- LVU: no guardian's consent is needed; the partner sees the categories the social worker
  decided to share (name and age when nothing else was decided; a decision already documented
  for an LVU placement stands until changed). The child's and the guardians' decisions do not
  matter.
- SoL: a category is shared only when every guardian with custody has given consent that
  covers it and is in force today (from its decision day to its last day, both included). No
  guardian with custody means no consent. From the day a child turns 15 their own consent is
  needed too. A guardian without custody has no say. A party's latest decision is their
  decision: a withdrawal or refusal ends everything that party's consent covered, at once.
- The partner sees a referral only while it holds it (shared, accepted, placed, participating)
  and the child's name may be shared; then exactly the name, the age if the age may be
  shared, and the family home's name, address and phone if contact details may be shared.
  Never a referral of another partner, and nothing once the participation is completed,
  declined or withdrawn (§5: the partner keeps nothing identifying after completion).
- A referral submitted goes to the partner (shared) at once if the name may be shared, else it
  awaits consent and goes as soon as a change to the child's record makes the name shareable.
- Groups (§2): the partner places the child of an accepted referral it may see, whose
  participation may be registered, aged 7-18 at the group's start; a group starts with 5 to 8
  children it may see, each visited and with participation shareable; completion ends every
  participation in the group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

NAME = "name"
AGE = "age"
CONTACT = "contact_details"
PARTICIPATION = "participation"
CATEGORIES = (NAME, AGE, CONTACT, PARTICIPATION)
LVU_WHEN_NOTHING_DECIDED = frozenset({NAME, AGE})
OWN_SAY_FROM = 15
CHILD = "child"  # the party of the child's own decision

# Where a referral stands while the partner holds it (domain.md §1: the group leader sees the
# referrals sent to their organisation, only where sharing is lawful).
HELD_BY_PARTNER = frozenset({"shared", "accepted", "placed", "participating"})
ENDED = frozenset({"completed", "declined", "withdrawn", "cancelled"})
YOUNGEST, OLDEST = 7, 18
GROUP_FEWEST, GROUP_MOST = 5, 8


def years_old(born: date, day: date) -> int:
    """Completed years on `day` (the tests never use a birthday on 29 February)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def fifteenth_birthday(born: date) -> date:
    return born.replace(year=born.year + OWN_SAY_FROM)


@dataclass(frozen=True)
class Decision:
    decision: str  # given, refused, withdrawn
    categories: frozenset[str]
    decided_on: date
    valid_until: date

    def covers(self, category: str, day: date) -> bool:
        return (
            self.decision == "given"
            and category in self.categories
            and self.decided_on <= day <= self.valid_until
        )


@dataclass
class Child:
    key: str  # the service's id of the child
    name: str
    born: date
    family_home: tuple[str, str, str]  # name, address, phone
    filler: bool = False  # one of the LVU children the scene adds to fill a group
    placement: str | None = None  # None, "SoL" or "LVU"
    lvu_shared: frozenset[str] = frozenset()
    custody: dict[str, bool] = field(default_factory=dict)  # guardian id -> has custody
    decisions: dict[str, Decision] = field(default_factory=dict)  # party -> latest decision

    def age(self, day: date) -> int:
        return years_old(self.born, day)

    def basis(self, category: str, day: date) -> str | None:
        """The lawful basis for sharing `category` on `day`, in words, or None."""
        if self.placement == "LVU":
            return "LVU decision" if category in self.lvu_shared else None
        if self.placement != "SoL":
            return None
        custodians = sorted(g for g, custody in self.custody.items() if custody)
        if not custodians:
            return None
        parties = custodians + ([CHILD] if self.age(day) >= OWN_SAY_FROM else [])
        for party in parties:
            decision = self.decisions.get(party)
            if decision is None or not decision.covers(category, day):
                return None
        return "SoL consent of " + ", ".join(parties)

    def may_share(self, category: str, day: date) -> bool:
        return self.basis(category, day) is not None

    def place(self, basis: str, lvu_shared: frozenset[str] | None) -> None:
        if basis == "LVU":
            if lvu_shared is not None:
                self.lvu_shared = lvu_shared
            elif self.placement != "LVU":
                self.lvu_shared = LVU_WHEN_NOTHING_DECIDED
        else:
            self.lvu_shared = frozenset()  # a later LVU placement is decided afresh
        self.placement = basis

    def shown_fields(self, day: date) -> dict[str, object]:
        """The child's fields in a partner's document, when the name may be shared."""
        shown: dict[str, object] = {"name": self.name}
        if self.may_share(AGE, day):
            shown["age"] = self.age(day)
        if self.may_share(CONTACT, day):
            home_name, address, phone = self.family_home
            shown["family_home_name"] = home_name
            shown["family_home_address"] = address
            shown["family_home_phone"] = phone
        return shown


@dataclass
class Referral:
    key: str  # the service's id
    child: Child
    partner: str  # "A" or "B"
    preferred_format: str
    status: str
    in_group: bool = False
    visited: bool = False

    def visible(self, day: date) -> bool:
        return self.status in HELD_BY_PARTNER and self.child.may_share(NAME, day)

    def document(self, day: date) -> dict[str, object] | None:
        """The inbox document the partner receives today, or None when it sees nothing."""
        if not self.visible(day):
            return None
        return {
            "referral_id": self.key,
            "status": self.status,
            "preferred_format": self.preferred_format,
            **self.child.shown_fields(day),
        }


@dataclass
class Group:
    key: str
    start_date: date
    last_day: date
    status: str = "planned"


@dataclass
class LawModel:
    day: date
    children: dict[str, Child] = field(default_factory=dict)
    referrals: dict[str, Referral] = field(default_factory=dict)
    group: Group | None = None

    # --- the district's record ----------------------------------------------------------------

    def settle(self, child: Child) -> None:
        """After any change to the child's record: waiting referrals go once the name may be
        shared."""
        for referral in self.referrals.values():
            waiting = referral.child is child and referral.status == "awaiting_consent"
            if waiting and child.may_share(NAME, self.day):
                referral.status = "shared"

    def may_be_referred(self, child: Child) -> bool:
        """7-18 at some day of the coming year."""
        return (
            child.age(self.day + timedelta(days=365)) >= YOUNGEST and child.age(self.day) <= OLDEST
        )

    def refer(self, key: str, child: Child, partner: str, preferred_format: str) -> Referral:
        status = "shared" if child.may_share(NAME, self.day) else "awaiting_consent"
        referral = Referral(key, child, partner, preferred_format, status)
        self.referrals[key] = referral
        return referral

    def withdraw(self, referral: Referral) -> bool:
        """The district withdraws (or cancels) a referral; False if it has already ended."""
        if referral.status in ENDED:
            return False
        referral.status = "withdrawn" if referral.status in HELD_BY_PARTNER else "cancelled"
        return True

    # --- the partner ---------------------------------------------------------------------------

    def inbox(self, partner: str) -> dict[str, dict[str, object]]:
        documents = {}
        for referral in self.referrals.values():
            document = referral.document(self.day)
            if referral.partner == partner and document is not None:
                documents[referral.key] = document
        return documents

    def respond(self, referral: Referral, partner: str, accept: bool) -> int:
        """The HTTP status a partner's answer gets, with the referral moved on success."""
        if referral.partner != partner or not referral.visible(self.day):
            return 404
        if referral.status != "shared":
            return 409
        referral.status = "accepted" if accept else "declined"
        return 200

    def places(self) -> list[Referral]:
        """The children holding a place in the group that the partner may see today."""
        return [
            r
            for r in self.referrals.values()
            if r.in_group and r.status in {"placed", "participating"} and r.visible(self.day)
        ]

    def enrol(self, referral: Referral, partner: str) -> int:
        assert self.group is not None
        if referral.partner != partner or not referral.visible(self.day):
            return 404
        child = referral.child
        refused = (
            referral.status != "accepted"
            or self.group.status != "planned"
            or not YOUNGEST <= child.age(self.group.start_date) <= OLDEST
            or not child.may_share(PARTICIPATION, self.day)
            or any(place.child is child for place in self.places())
            or len(self.places()) >= GROUP_MOST
        )
        if refused:
            return 409
        referral.status = "placed"
        referral.in_group = True
        return 201

    def start(self) -> int:
        assert self.group is not None and self.group.status == "planned"
        places = self.places()
        ready = GROUP_FEWEST <= len(places) <= GROUP_MOST and all(
            place.visited and place.child.may_share(PARTICIPATION, self.day) for place in places
        )
        if not ready:
            return 409
        for place in places:
            place.status = "participating"
        self.group.status = "started"
        return 200

    def complete(self) -> int:
        assert self.group is not None and self.group.status == "started"
        if self.day < self.group.last_day:
            return 409
        for referral in self.referrals.values():
            if referral.in_group and referral.status == "participating":
                referral.status = "completed"
        self.group.status = "completed"
        return 200

    def roster(self) -> dict[str, dict[str, object]]:
        """The group's children as the partner sees them today: name, and age if shared."""
        shown = {}
        for place in self.places():
            entry: dict[str, object] = {"status": place.status, "name": place.child.name}
            if place.child.may_share(AGE, self.day):
                entry["age"] = place.child.age(self.day)
            shown[place.key] = entry
        return shown
