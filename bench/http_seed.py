"""The whole-request benchmark's data set, made through the service's own code.

Organisations, staff accounts, children with guardians, consents and referrals, and groups
through referral.services (the calls `flask demo load` and tests/factories.py make), so every
record is sealed and every step is on the access log; then the log is filled up to its size
with audit.record.record_many in batches (entries about the seeded children, by the seeded
staff), so that the chain verifies.

The shape per partner does not change with the size (a partner serves 1 000 children by
default): its groups of six (all but the last two completed), 20 referrals shared and 20
accepted waiting for a group, and the rest awaiting a second consent, declined, withdrawn or
cancelled. Each district has one social worker with 50 children. One more partner has exactly
one lawful referral (the group leader's read of one referral).
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from audit.actions import Action, Outcome
from audit.record import Entry, record_many
from referral import clock
from referral.actors import Actor
from referral.auth import totp
from referral.db.audit_log import AuditEntry
from referral.db.models import User
from referral.db.people import Child, district_holder
from referral.db.uow import UnitOfWork
from referral.demo import invented_personnummer as demo_personnummer
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.scopes import KeyScope
from referral.services import (
    activity_descriptions,
    children,
    consent,
    groups,
    organisations,
    referrals,
    users,
)

DISTRICT_SIZE = 50  # children per district and social worker: the list of 50
CHILDREN_PER_PARTNER = 1_000
GROUPS_PER_CHILDREN = 20  # 500 groups for 10 000 children
GROUP_SIZE = 6
PLANNED_GROUPS = 2  # per partner, still to start (their children are in the inbox as placed)
SHARED_WAITING = 20  # per partner: shared, not yet answered
ACCEPTED_WAITING = 20  # per partner: accepted, not yet placed in a group
EXPORT_ENTRIES = 100_000  # the DPO's export (capped at a tenth of the log for small sizes)
AUDIT_BATCH = 10_000
DESCRIPTION_VERSION = "bench-2026:1"
CONSENT_CATEGORIES = ("name", "age", "contact_details", "participation")
LVU_SHARED = ("name", "age", "participation")
CONSENT_DAYS = 420  # the consent outlasts every group the seeding plans (within 300 days)
GROUP_SPREAD_DAYS = 280

FIRST_NAMES = (
    "Alva", "Elsa", "Maja", "Ella", "Wilma", "Saga", "Ebba", "Astrid", "Selma", "Ines",
    "Noah", "Hugo", "William", "Liam", "Lucas", "Oscar", "Elias", "Leo", "Adam", "Ali",
)  # fmt: skip
LAST_NAMES = (
    "Exempel", "Påhittad", "Låtsasson", "Inbillad", "Fiktivsdotter", "Provsson",
    "Testberg", "Lånad", "Tänktsson", "Gissad",
)  # fmt: skip
SUBJECT_ACTIONS = (
    Action.CHILD_READ,
    Action.CHILD_SEARCH,
    Action.REFERRAL_READ,
    Action.REFERRAL_LIST,
    Action.CONSENT_RECORD,
    Action.GUARDIAN_CREATE,
)
OTHER_ACTIONS = (Action.LOGIN, Action.MFA_VERIFIED, Action.LOGOUT, Action.USER_LIST)


@dataclass(frozen=True)
class Sizes:
    children: int
    groups: int
    partners: int
    audit_entries: int

    @classmethod
    def for_children(
        cls,
        children: int,
        audit_entries: int,
        groups: int | None = None,
        partners: int | None = None,
    ) -> Sizes:
        return cls(
            children=children,
            groups=groups if groups is not None else max(1, children // GROUPS_PER_CHILDREN),
            partners=partners if partners is not None else max(1, children // CHILDREN_PER_PARTNER),
            audit_entries=audit_entries,
        )

    @property
    def districts(self) -> int:
        return -(-self.children // DISTRICT_SIZE)

    @property
    def export_entries(self) -> int:
        return min(EXPORT_ENTRIES, self.audit_entries // 10)

    def check(self) -> None:
        """Each partner needs children enough for its groups and its waiting referrals."""
        per_partner = self.children // self.partners
        needed = -(-self.groups // self.partners) * GROUP_SIZE + SHARED_WAITING + ACCEPTED_WAITING
        if per_partner < needed:
            raise SystemExit(
                f"{self.children} children over {self.partners} partners is {per_partner} "
                f"each, fewer than the {needed} their {self.groups} groups and waiting "
                "referrals need: fewer groups or more children"
            )

    def key(self, head: str) -> str:
        return f"c{self.children}-g{self.groups}-p{self.partners}-a{self.audit_entries}-{head[:12]}"


@dataclass
class Account:
    username: str
    totp_seed: str


@dataclass
class District:
    worker: Account
    # (child id, first guardian id) of each child, for the consent writes.
    children: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Manifest:
    """What a run needs of a seeded data set (kept beside it, 0600, never committed)."""

    key: str
    sizes: dict[str, int]
    password: str
    dpo: Account
    leader: Account  # a partner's group leader with the usual inbox
    single_leader: Account  # the partner with exactly one lawful referral
    export_actor: str
    export_entries: int
    districts: list[District]
    inbox_size: int
    seeded_at: str
    seconds: dict[str, float]
    runs: int = 0  # how many runs wrote consents (each run writes in the next district)
    # Schema migrations applied since the seeding ("0033 → 0034 on <date>"): the data set is
    # what production would hold after the same upgrade.
    migrated: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Manifest:
        data = dict(raw)
        for name in ("dpo", "leader", "single_leader"):
            data[name] = Account(**data[name])
        data["districts"] = [
            District(
                Account(**d["worker"]), [(child, guardian) for child, guardian in d["children"]]
            )
            for d in data["districts"]
        ]
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Progress:
    """A line every few seconds: done, rate and what is left, so a long seeding is visible."""

    def __init__(self, label: str, total: int, every_seconds: float = 5.0) -> None:
        self.label, self.total, self.every = label, total, every_seconds
        self.started = self.last = time.perf_counter()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last < self.every and done < self.total:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        left = (self.total - done) / rate if rate else 0.0
        print(
            f"  {self.label}: {done}/{self.total} ({rate:.0f}/s, about {left:.0f} s left)",
            flush=True,
        )

    def seconds(self) -> float:
        return time.perf_counter() - self.started


@contextmanager
def unit_of_work(app: Flask) -> Iterator[UnitOfWork]:
    """A fresh app context and session per batch, so that no identity map grows for hours."""
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


def invented_personnummer(born: date, serial: int) -> str:
    """The demo's made-up personnummer, the birth number running 001-999 (000 is not one)."""
    return demo_personnummer(born, 1 + serial % 999)


def add_account(
    uow: UnitOfWork, mfa_key: str, username: str, organisation_id: str, role: str, password: str
) -> tuple[Account, Actor]:
    """A staff account with its authenticator enrolled, as the demo loader makes one."""
    added = users.add_user(
        uow,
        Actor.system_actor("bench-seed"),
        users.NewUser(username, f"Bench {username}", organisation_id, [role], password),
    )
    user = uow.session.get(User, added.id)
    assert user is not None
    seed = totp.new_seed()
    user.totp_seed_encrypted = totp.seal_seed(mfa_key, user.id, seed)
    user.totp_confirmed = True
    uow.commit()
    return Account(username, seed), Actor(user.id, username, organisation_id, user.role_names)


# ---------------------------------------------------------------------------------------------
# The plan: what becomes of each child's referral


@dataclass(frozen=True)
class Fate:
    # completed | placed | shared | accepted | awaiting | declined | withdrawn | cancelled
    status: str
    lvu: bool


def fate_of(position: int, groups_of_partner: int) -> Fate:
    """The `position`-th child referred to a partner: first its groups, then its inbox, then
    the referrals that left it (or never reached it)."""
    in_groups = groups_of_partner * GROUP_SIZE
    lvu = position % 5 == 4
    if position < in_groups:
        planned = position >= (groups_of_partner - PLANNED_GROUPS) * GROUP_SIZE
        return Fate("placed" if planned else "completed", lvu)
    rest = position - in_groups
    if rest < SHARED_WAITING:
        return Fate("shared", lvu)
    if rest < SHARED_WAITING + ACCEPTED_WAITING:
        return Fate("accepted", lvu)
    kind = ("awaiting",) * 4 + ("declined",) * 3 + ("withdrawn",) * 2 + ("cancelled",)
    status = kind[(rest - SHARED_WAITING - ACCEPTED_WAITING) % len(kind)]
    return Fate(status, lvu and status != "awaiting")


# ---------------------------------------------------------------------------------------------


@dataclass
class Seeder:
    app: Flask
    sizes: Sizes
    rng: random.Random
    today: date = field(default_factory=clock.today)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    serial: int = 0

    @property
    def mfa_key(self) -> str:
        return str(self.app.config["REFERRAL_SETTINGS"].mfa_key)

    def run(self, key: str) -> Manifest:
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        with unit_of_work(self.app) as uow:
            structure = self.structure(uow)
        seconds["organisations_and_accounts"] = round(time.perf_counter() - started, 1)
        print(f"  organisations and accounts in {seconds['organisations_and_accounts']} s")
        progress = Progress("children", self.sizes.children)
        districts: list[District] = []
        referred: dict[int, list[tuple[str, Fate]]] = {p: [] for p in range(self.sizes.partners)}
        positions = [0] * self.sizes.partners
        done = 0
        for number, (worker, actor) in enumerate(structure.workers):
            district = District(worker)
            count = min(DISTRICT_SIZE, self.sizes.children - number * DISTRICT_SIZE)
            with unit_of_work(self.app) as uow:
                for _ in range(count):
                    partner = done % self.sizes.partners
                    fate = fate_of(positions[partner], structure.groups_per_partner[partner])
                    positions[partner] += 1
                    child_id, guardian_id, referral_id = self.child(
                        uow, actor, structure.partner_ids[partner], structure.leaders[partner], fate
                    )
                    district.children.append((child_id, guardian_id))
                    if fate.status in {"completed", "placed"}:
                        referred[partner].append((referral_id, fate))
                    done += 1
                    progress.update(done)
            districts.append(district)
        seconds["children"] = round(progress.seconds(), 1)
        groups_started = time.perf_counter()
        for partner, placed in referred.items():
            self.groups(structure.leaders[partner], structure.groups_per_partner[partner], placed)
        seconds["groups"] = round(time.perf_counter() - groups_started, 1)
        print(f"  {self.sizes.groups} groups in {seconds['groups']} s", flush=True)
        with unit_of_work(self.app) as uow:
            self.single(uow, structure)
        audit_started = time.perf_counter()
        self.fill_log(structure.export_actor, structure.staff)
        seconds["audit_log"] = round(time.perf_counter() - audit_started, 1)
        seconds["total"] = round(time.perf_counter() - started, 1)
        return Manifest(
            key=key,
            sizes=asdict(self.sizes),
            password=self.password,
            dpo=structure.dpo,
            leader=structure.leader_accounts[0],
            single_leader=structure.single_leader,
            export_actor=structure.export_actor.username,
            export_entries=self.sizes.export_entries,
            districts=districts,
            inbox_size=SHARED_WAITING + ACCEPTED_WAITING + PLANNED_GROUPS * GROUP_SIZE,
            seeded_at=clock.now().isoformat(timespec="seconds"),
            seconds=seconds,
        )

    # --- organisations and staff ---------------------------------------------------------

    def structure(self, uow: UnitOfWork) -> Structure:
        system = Actor.system_actor("bench-seed")

        def organisation(name: str, kind: str) -> str:
            new = organisations.NewOrganisation(name=name, kind=kind)
            return str(organisations.add_organisation(uow, system, new).id)

        city = organisation("Bench stad, socialförvaltningen", "city")
        partner_ids = [
            organisation(f"Bench partner {number + 1:03d}", "partner")
            for number in range(self.sizes.partners)
        ]
        single_partner = organisation("Bench partner med en anmälan", "partner")
        single_district = organisation("Bench stadsdel med en anmälan", "district")
        activity_descriptions.publish(
            uow,
            system,
            activity_descriptions.NewDescription(
                activity_descriptions.SUPPORT_GROUP,
                partner_ids[0],
                DESCRIPTION_VERSION,
                "Stödgrupper för barn i familjehem: åtta träffar om två timmar (bench).",
            ),
        )

        def account(username: str, organisation_id: str, role: Role) -> tuple[Account, Actor]:
            return add_account(
                uow, self.mfa_key, username, organisation_id, role.value, self.password
            )

        dpo, _ = account("bench-dpo", city, Role.DPO)
        _, export_actor = account("bench-arkiv", city, Role.DPO)
        leaders = [
            account(f"bench-gl-{p + 1:03d}", pid, Role.GROUP_LEADER)
            for p, pid in enumerate(partner_ids)
        ]
        single_leader = account("bench-gl-single", single_partner, Role.GROUP_LEADER)
        workers = []
        progress = Progress("districts and social workers", self.sizes.districts)
        for number in range(self.sizes.districts):
            district = organisation(f"Bench stadsdel {number + 1:05d}", "district")
            workers.append(account(f"bench-sw-{number + 1:05d}", district, Role.SOCIAL_WORKER))
            progress.update(number + 1)
        single_worker = account("bench-sw-single", single_district, Role.SOCIAL_WORKER)
        per_partner = [
            self.sizes.groups // self.sizes.partners
            + (1 if p < self.sizes.groups % self.sizes.partners else 0)
            for p in range(self.sizes.partners)
        ]
        return Structure(
            partner_ids=partner_ids,
            leaders=[actor for _, actor in leaders],
            leader_accounts=[acc for acc, _ in leaders],
            groups_per_partner=per_partner,
            workers=workers,
            dpo=dpo,
            export_actor=export_actor,
            single_partner=single_partner,
            single_leader=single_leader[0],
            single_worker=single_worker[1],
            staff=[actor for _, actor in workers] + [actor for _, actor in leaders],
        )

    # --- one child, from registration to where its referral stands -----------------------

    def born(self) -> date:
        """Eight to thirteen years old today: 7-15 at any group of the coming year, and under
        15 (SoL asks the guardians only)."""
        return self.today - timedelta(days=self.rng.randrange(8 * 365 + 2, 14 * 365 - 2))

    def child(
        self, uow: UnitOfWork, worker: Actor, partner_id: str, leader: Actor | None, fate: Fate
    ) -> tuple[str, str, str]:
        """Register a child and take its referral to `fate`; its id, its first guardian's id
        and its referral's id."""
        today, rng = self.today, self.rng
        self.serial += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        registered = children.register_child(
            uow,
            worker,
            children.NewChild(invented_personnummer(self.born(), self.serial), f"{first} {last}"),
            today,
        )
        child_id = registered.id
        children.update_details(
            uow,
            worker,
            child_id,
            children.ChildDetails(
                gender=rng.choice(("girl", "boy")),
                family_home_name=f"Familjen {rng.choice(LAST_NAMES)}",
                family_home_address=f"Påhittade vägen {rng.randrange(1, 200)}, 123 45 Stockholm",
                family_home_phone=f"08-000 {rng.randrange(100):02d} {rng.randrange(100):02d}",
                child_views="Vill gärna träffa andra barn som bor i familjehem.",
            ),
        )
        if fate.lvu:
            consent.record_placement(
                uow,
                worker,
                child_id,
                "LVU",
                f"Beslut {self.serial}/2026",
                "Socialnämnden",
                today - timedelta(days=rng.randrange(30, 400)),
                today=today,
                lvu_shared=LVU_SHARED,
            )
        else:
            consent.record_placement(uow, worker, child_id, "SoL", today=today)
        guardians = [
            consent.add_guardian(
                uow, worker, child_id, f"{name} {last}", "070-000 00 00", True, today=today
            ).id
            for name in (rng.choice(FIRST_NAMES), rng.choice(FIRST_NAMES))
        ]
        if not fate.lvu:
            consenting = guardians[:1] if fate.status == "awaiting" else guardians
            for guardian in consenting:
                consent.record_consent(uow, worker, child_id, self.consent(guardian), today=today)
        referral = referrals.create_referral(
            uow, worker, referrals.NewReferral(child_id, partner_id, "weekly"), today=today
        )
        if fate.status == "cancelled":
            referrals.withdraw_referral(uow, worker, referral.id)
        else:
            referrals.submit_referral(uow, worker, referral.id, today)
        if fate.status == "withdrawn":
            referrals.withdraw_referral(uow, worker, referral.id)
        elif leader is None:
            assert fate.status in {"shared", "awaiting"}
        elif fate.status == "declined":
            referrals.respond(uow, leader, referral.id, False, today)
        elif fate.status in {"accepted", "placed", "completed"}:
            referrals.respond(uow, leader, referral.id, True, today)
        return child_id, guardians[0], referral.id

    def consent(self, guardian_id: str) -> consent.ConsentInput:
        return consent.ConsentInput(
            party=guardian_id,
            decision="given",
            categories=CONSENT_CATEGORIES,
            decided_on=self.today,
            valid_until=self.today + timedelta(days=CONSENT_DAYS),
            method="written",
            description_version=DESCRIPTION_VERSION,
        )

    # --- groups: planned, filled, visited, and all but the last two run to completion -----

    def groups(self, leader: Actor, count: int, placed: Sequence[tuple[str, Fate]]) -> None:
        today = self.today
        for number in range(count):
            start = today + timedelta(days=14 + number * GROUP_SPREAD_DAYS // max(count, 1))
            members = placed[number * GROUP_SIZE : (number + 1) * GROUP_SIZE]
            with unit_of_work(self.app) as uow:
                group = groups.create_group(
                    uow,
                    leader,
                    groups.NewGroup(
                        f"Stödgrupp {number + 1} (7–15 år)",
                        "weekly",
                        start,
                        7,
                        15,
                        [leader.user_id],
                    ),
                    today,
                )
                group_id = group.group_id
                for referral_id, _fate in members:
                    enrolment = groups.enrol(uow, leader, group_id, referral_id, today)
                    visit = groups.NewVisit(enrolment.enrolment_id, "home", today)
                    groups.record_visit(uow, leader, group_id, visit, today)
                if members and members[0][1].status == "completed":
                    # Run on the days they happen: started on its first day, completed on
                    # its last (the services take the day as an argument).
                    state = groups.start_group(uow, leader, group_id, start)
                    last_day = max(session.day for session in state.sessions)
                    groups.complete_group(uow, leader, group_id, last_day)

    def single(self, uow: UnitOfWork, structure: Structure) -> None:
        """One child of its own district, shared with the partner that has nothing else."""
        worker = structure.single_worker
        self.child(uow, worker, structure.single_partner, None, Fate("shared", False))

    # --- the access log, filled up to its size -------------------------------------------

    def fill_log(self, export_actor: Actor, staff: Sequence[Actor]) -> None:
        with self.app.app_context():
            session = request_session()
            present = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
            scopes = [
                KeyScope(child_id, district_holder(district_id))
                for child_id, district_id in session.execute(select(Child.id, Child.district_id))
            ]
            session.rollback()
        # The export's entries are added whatever the seeding wrote: at 100 000 children the
        # seeding alone passes a million entries, and the export would have nothing to read.
        export = self.sizes.export_entries
        missing = max(self.sizes.audit_entries - present, export)
        print(f"  access log: {present} entries from the seeding, {missing} to add")
        progress = Progress("access-log entries", missing)
        done = 0
        while done < missing:
            actor = export_actor if done < export else self.rng.choice(staff)
            limit = export - done if done < export else missing - done
            count = min(AUDIT_BATCH, limit)
            entries = [self.entry(scopes) for _ in range(count)]
            with unit_of_work(self.app) as uow:
                record_many(uow.session, actor, entries)
                uow.commit()
            done += count
            progress.update(done)
        get_database(self.app).engine.dispose()

    def entry(self, scopes: Sequence[KeyScope]) -> Entry:
        if self.rng.random() < 0.8:
            scope = self.rng.choice(scopes)
            action = self.rng.choice(SUBJECT_ACTIONS)
            return Entry(
                action,
                Outcome.ALLOWED,
                object_type="child",
                object_id=scope.person_id,
                subject=scope,
                legal_basis="sol_consent",
            )
        return Entry(self.rng.choice(OTHER_ACTIONS), object_type="session")


@dataclass
class Structure:
    partner_ids: list[str]
    leaders: list[Actor]
    leader_accounts: list[Account]
    groups_per_partner: list[int]
    workers: list[tuple[Account, Actor]]
    dpo: Account
    export_actor: Actor
    single_partner: str
    single_leader: Account
    single_worker: Actor
    staff: list[Actor]
