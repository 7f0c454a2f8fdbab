"""Demo data for `make run`: one district, Bris, the city, and one user of each role.

Only in demo mode (REFERRAL_DEMO=1, refused in production). Passwords and TOTP seeds are
generated on this machine, printed, and kept in a 0600 file under instance/ so that the next
`make run` can print them again; they are never in the repository.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import date, timedelta
from pathlib import Path

import click
import pyotp
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from referral import clock
from referral.actors import Actor
from referral.auth import totp
from referral.db.models import Organisation, User
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import (
    activity_descriptions,
    children,
    concern_reports,
    consent,
    groups,
    interest,
    link_cases,
    organisations,
    outreach,
    referrals,
    users,
)
from referral.services.nights import people, shelters

demo_cli = AppGroup("demo", help="Demo data (demo mode only).")

CREDENTIALS_FILE = Path("instance/demo-credentials.json")

DISTRICT = organisations.NewOrganisation(name="Farsta stadsdelsförvaltning", kind="district")
PARTNER = organisations.NewOrganisation(name="Bris – Barnens rätt i samhället", kind="partner")
CITY = organisations.NewOrganisation(
    name="Stockholms stad, Socialförvaltningen", kind="city", org_number="212000-0142"
)
# The city's social emergency service: receives the concern reports no district is known for.
SOCIALJOUREN = organisations.NewOrganisation(
    name="Socialjouren Stockholm", kind="city", social_emergency_service=True
)

# Programme C: a partner of the night-place partnership (seed 002), keeping a shelter.
STADSMISSIONEN = organisations.NewOrganisation(
    name="Stockholms Stadsmission", kind="partner", org_number="802003-1954"
)

# The consent form's return address and the social worker's phone: invented (the number is
# from the range the Swedish telecoms regulator keeps for fiction).
DISTRICT_POSTAL_ADDRESS = "Box 1\n123 00 Farsta"
DEMO_WORK_PHONES = {"handlaggare": "08-465 004 17"}

# (username, invented display name, organisation, role)
DEMO_USERS = (
    ("handlaggare", "Demo Handläggare", DISTRICT.name, "social_worker"),
    ("gruppledare", "Demo Gruppledare", PARTNER.name, "group_leader"),
    ("lankare", "Demo Länkare", CITY.name, "link_worker"),
    ("socialjour", "Demo Socialjour", SOCIALJOUREN.name, "social_emergency"),
    ("nattpersonal", "Demo Nattpersonal", STADSMISSIONEN.name, "night_staff"),
    ("nattsamordnare", "Demo Nattsamordnare", CITY.name, "night_coordinator"),
    ("samordnare", "Demo Samordnare", CITY.name, "coordinator"),
    ("dataskydd", "Demo Dataskyddsombud", CITY.name, "dpo"),
    ("admin", "Demo Administratör", CITY.name, "admin"),
)


# The information letter's text for Bris's support groups, written from the partnership
# agreement (seed 004) and published by the city as version 2026:1 of Programme A.
BRIS_DESCRIPTION_VERSION = "2026:1"
BRIS_DESCRIPTION = """\
Stödgrupper och stödhelger för barn som är placerade i familjehem

Stockholms stad erbjuder tillsammans med Bris (Barnens rätt i samhället) stöd i grupp för barn \
och unga i åldern 7–18 år som är placerade i familjehem av staden. Verksamheten bedrivs som ett \
idéburet offentligt partnerskap mellan socialförvaltningen och Bris.

Syfte
Barnen får träffa andra barn i liknande situation, få ökad kunskap och förståelse för sin \
livssituation och verktyg för att hantera sitt liv på kort och lång sikt. Målet är att främja \
och stärka barnets psykiska hälsa. Barnets egna åsikter och erfarenheter tas till vara.

Hur grupperna går till
Bris erbjuder två former:
– Stödgrupp: åtta träffar om två timmar, en gång i veckan.
– Stödhelg: minst tre heldagar fördelade på lördag och söndag, och en uppföljande lördag.
Bris väljer form utifrån antalet anmälningar och barnets behov. En grupp har fem till åtta \
barn; på en stödhelg kan barnen delas in i mindre grupper efter ålder. All verksamhet hålls i \
Bris lokaler. Resa och logi betalas av den placerande stadsdelsförvaltningen.

Vilka leder grupperna
Grupperna leds av Bris utbildade stödgruppsledare, som arbetar med samtal, kognitiva metoder \
och emotionellt stöd i grupp. Innan gruppen börjar gör gruppledaren ett hembesök, eller så \
träffar barnet och familjehemmet gruppledaren i Bris lokaler.

Vilka uppgifter Bris får
Uppgifter om barnet skyddas av sekretess. Socialtjänsten lämnar bara ut barnets namn, ålder \
och kontaktuppgifter till Bris, och anmäler barnets deltagande, om du som vårdnadshavare har \
samtyckt till det. Vid gemensam vårdnad behövs samtycke från båda vårdnadshavarna. Är barnet \
15 år eller äldre tillfrågas även barnet. Du väljer själv vilka av uppgifterna samtycket gäller. \
Bris informerar alltid socialtjänsten om en anmälan innan barnet börjar i en grupp. Om det \
finns oro för att ett barn far illa gäller anmälningsskyldigheten enligt socialtjänstlagen \
oavsett samtycke.

Du kan återkalla samtycket
Samtycket är frivilligt och gäller till det datum som står på blanketten. Du kan när som helst \
återkalla det genom att kontakta barnets handläggare. Från den stunden får Bris inte längre \
ta del av uppgifterna.

När gruppen är slut
Bris dokumenterar bara det som är nödvändigt och förvarar det säkert. När gruppen eller \
insatsen avslutas gallras uppgifterna hos Bris eller lämnas tillbaka till socialtjänsten. Bris \
följer upp verksamheten genom utvärdering; i Bris påverkansarbete är barnen alltid anonyma.
"""


def _require_demo_mode() -> None:
    if not current_app.config["REFERRAL_SETTINGS"].demo_mode:
        raise click.ClickException("Demo commands run only with REFERRAL_DEMO=1.")


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)


def _print_credentials(credentials: list[dict[str, str]]) -> None:
    click.echo("Demo accounts (demo mode only; the TOTP seed goes into any authenticator app,")
    click.echo("or print the current code with: make demo-code WHO=<username>):")
    for entry in credentials:
        click.echo(
            f"  {entry['role']:<16} user {entry['username']:<12} "
            f"password {entry['password']}  TOTP seed {entry['totp_seed']}"
        )


@demo_cli.command("load")
def load() -> None:
    """Create the demo organisations and users (once) and print their credentials."""
    _require_demo_mode()
    settings = current_app.config["REFERRAL_SETTINGS"]
    db = request_session()
    if db.scalar(select(Organisation.id).where(Organisation.name == DISTRICT.name)):
        if CREDENTIALS_FILE.exists():
            _print_credentials(json.loads(CREDENTIALS_FILE.read_text(encoding="utf-8")))
        else:
            click.echo("Demo data is loaded, but its credentials file is gone: `make reset`.")
        return
    actor = Actor.system_actor("demo-load")
    credentials = []
    with UnitOfWork(db) as uow:
        by_name = {
            new.name: organisations.add_organisation(uow, actor, new)
            for new in (DISTRICT, PARTNER, CITY, SOCIALJOUREN, STADSMISSIONEN)
        }
        activity_descriptions.publish(
            uow,
            actor,
            activity_descriptions.NewDescription(
                programme=activity_descriptions.SUPPORT_GROUP,
                partner_id=by_name[PARTNER.name].id,
                version=BRIS_DESCRIPTION_VERSION,
                text=BRIS_DESCRIPTION,
            ),
        )
        organisations.set_postal_address(
            uow, actor, by_name[DISTRICT.name].id, DISTRICT_POSTAL_ADDRESS
        )
        for username, display_name, org_name, role in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            account = users.add_user(
                uow,
                actor,
                users.NewUser(username, display_name, by_name[org_name].id, [role], password),
            )
            # The demo enrols each authenticator itself, on the row (the service answers with
            # a read model; a real user enrols at the first login).
            user = uow.session.get(User, account.id)
            assert user is not None
            seed = totp.new_seed()
            user.totp_seed_encrypted = totp.seal_seed(settings.mfa_key, user.id, seed)
            user.totp_confirmed = True
            uow.commit()
            if username in DEMO_WORK_PHONES:
                users.set_work_phone(uow, actor, account.id, DEMO_WORK_PHONES[username])
            credentials.append(
                {"role": role, "username": username, "password": password, "totp_seed": seed}
            )
        _load_cases(
            uow,
            by_name[DISTRICT.name].id,
            by_name[PARTNER.name].id,
            concern_reports.AcknowledgementRule.from_settings(settings),
        )
        _load_nights(uow, by_name[STADSMISSIONEN.name].id)
    _write_private(CREDENTIALS_FILE, json.dumps(credentials, indent=2))
    _print_credentials(credentials)


def invented_personnummer(born: date, serial: int) -> str:
    """A made-up personnummer (YYYYMMDDNNNC) whose check digit is right (Luhn)."""
    digits = f"{born:%y%m%d}{serial:03d}"
    total = 0
    for position, char in enumerate(digits):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return f"{born:%Y%m%d}{serial:03d}{(10 - total % 10) % 10}"


def demo_actor(username: str) -> Actor:
    user = request_session().scalar(select(User).where(User.username == username))
    assert user is not None
    return Actor(user.id, user.username, user.organisation_id, user.role_names)


def _load_cases(
    uow: UnitOfWork, district_id: str, partner_id: str, rule: concern_reports.AcknowledgementRule
) -> None:
    """Invented cases, so the demo shows the flow: an SoL child whose referral waits for the
    second guardian's consent (and about whom Bris has filed a concern report all the same),
    an LVU child already with Bris, and a planned group."""
    worker, leader = demo_actor("handlaggare"), demo_actor("gruppledare")
    today = clock.today()
    until = date(today.year, 12, 31) if today.month < 12 else date(today.year + 1, 6, 30)

    alva = children.register_child(
        uow,
        worker,
        children.NewChild(invented_personnummer(date(today.year - 10, 3, 14), 982), "Alva Exempel"),
    )
    children.update_details(
        uow,
        worker,
        alva.id,
        children.ChildDetails(
            gender="girl",
            family_home_name="Familjen Påhittad",
            family_home_address="Låtsasvägen 3, 123 45 Farsta",
            family_home_phone="08-000 00 01",
            child_views="Vill gärna träffa andra barn som bor i familjehem.",
        ),
    )
    consent.record_placement(uow, worker, alva.id, "SoL", today=today)
    mother = consent.add_guardian(
        uow, worker, alva.id, "Anna Exempel", "070-000 00 02", True, today=today
    )
    consent.add_guardian(uow, worker, alva.id, "Erik Exempel", "070-000 00 03", True, today=today)
    consent.record_consent(
        uow,
        worker,
        alva.id,
        consent.ConsentInput(
            party=mother.id,
            decision="given",
            categories=("name", "age", "contact_details", "participation"),
            decided_on=today,
            valid_until=until,
            method="written",
            description_version=BRIS_DESCRIPTION_VERSION,
        ),
        today=today,
    )
    first = referrals.create_referral(
        uow, worker, referrals.NewReferral(alva.id, partner_id, "weekly", None), today=today
    )
    referrals.submit_referral(uow, worker, first.id, today)
    # The duty to report does not wait for the second guardian's consent.
    concern_reports.file_report(
        uow,
        leader,
        concern_reports.NewConcernReport(
            what_happened=(
                "Familjehemmet ringde Bris och berättade att Alva inte vill åka på umgänge och "
                "att hon har sagt att hon är rädd."
            ),
            reporter_contact="Demo Gruppledare, Bris, 08-000 00 09 (vardagar 9–16)",
            actions_taken="Familjehemmet är informerat om att vi gör en anmälan.",
            referral_id=first.id,
        ),
        rule,
        today,
    )

    noah = children.register_child(
        uow,
        worker,
        children.NewChild(invented_personnummer(date(today.year - 12, 9, 2), 984), "Noah Påhittad"),
    )
    # Under LVU the social worker decided that Bris may see his name and age and register his
    # participation; the family home's contact details are not shared.
    consent.record_placement(
        uow,
        worker,
        noah.id,
        "LVU",
        "Beslut 12/2026",
        "Socialnämnden",
        today - timedelta(days=60),
        today=today,
        lvu_shared=("name", "age", "participation"),
    )
    second = referrals.create_referral(
        uow,
        worker,
        referrals.NewReferral(noah.id, partner_id, "partner_decides", None),
        today=today,
    )
    referrals.submit_referral(uow, worker, second.id, today)

    # A family home's call the district has declined: due for purge at once, so the DPO's
    # retention page (/gallring) has something to show and `flask gallring run` to purge.
    called = interest.register_interest(
        uow,
        leader,
        interest.NewInterest(
            "Elsa Låtsasdotter",
            invented_personnummer(date(today.year - 9, 5, 20), 986),
            district_id,
            "Familjen Inbillad, 08-000 00 04",
            today,
        ),
        today,
    )
    interest.decline(uow, worker, called.id, "Barnet har redan en plats i en annan grupp.")

    _load_outreach(uow, district_id, today)

    start = today + timedelta(days=14)
    groups.create_group(
        uow,
        leader,
        groups.NewGroup("Vårgrupp Farsta 8–12 år", "weekly", start, 8, 12, [leader.user_id]),
        today,
    )


def _load_outreach(uow: UnitOfWork, district_id: str, today: date) -> None:
    """Programme B for `lankare`: two anonymous encounters, one of them since linked to a
    youth who agreed, and a link case to Migrationsverket waiting for contact."""
    worker = demo_actor("lankare")
    for place, needs in (
        ("sergels_torg", ("basic_needs", "supportive_talk")),
        ("centralstationen", ("healthcare_referral",)),
    ):
        met = outreach.record_encounter(
            uow,
            worker,
            outreach.NewEncounter(today - timedelta(days=3), place, needs, "boy", "15_17"),
            today,
        )
    youth = outreach.register_youth(
        uow,
        worker,
        outreach.NewYouth(
            alias="Demo-Amir",
            personnummer=invented_personnummer(date(today.year - 17, 8, 8), 986),
            country_of_origin="Afghanistan",
            situation="no_contact_with_authorities",
            district_id=district_id,
        ),
        today,
    )
    outreach.link_encounter(uow, worker, met.id, youth.id)
    link_cases.record_consent(
        uow,
        worker,
        youth.id,
        link_cases.NewYouthConsent(
            "migrationsverket",
            "Återuppta kontakten om asylärendet",
            ("identity", "situation"),
            "god_man",
            today,
            today + timedelta(days=90),
        ),
        today,
    )
    link_cases.open_case(
        uow,
        worker,
        link_cases.NewLinkCase(
            youth.id,
            "migrationsverket",
            "Följa med till Migrationsverket",
            today + timedelta(days=2),
        ),
        today,
    )


def _load_nights(uow: UnitOfWork, shelter_keeper_id: str) -> None:
    """Programme C for `nattpersonal` and `nattsamordnare`: a shelter of ten places, three of
    them reserved for women, and two cards already issued (registration itself waits for the
    weekday-morning window)."""
    today = clock.today()
    shelters.create_shelter(
        uow,
        demo_actor("nattsamordnare"),
        shelters.NewShelter(
            organisation_id=shelter_keeper_id,
            name="Stadsmissionens natthärbärge",
            places=10,
            opens_on=today - timedelta(days=30),
            reserved_for_women=3,
        ),
        today,
    )
    desk = demo_actor("nattpersonal")
    for person in (
        people.NewPerson("Demo-Elena", today.year - 41, "woman", "Rumänien"),
        people.NewPerson(None, today.year - 33, "man", "Bulgarien"),
    ):
        people.issue_card(uow, desk, person, today)


@demo_cli.command("code")
@click.argument("username")
def code(username: str) -> None:
    """Print the current TOTP code of a demo user (demo mode only)."""
    _require_demo_mode()
    settings = current_app.config["REFERRAL_SETTINGS"]
    user = request_session().scalar(select(User).where(User.username == username))
    if user is None or user.totp_seed_encrypted is None:
        raise click.ClickException("No demo user with an enrolled authenticator by that name.")
    seed = totp.open_seed(settings.mfa_key, user.id, user.totp_seed_encrypted)
    remaining = totp.STEP_SECONDS - int(time.time()) % totp.STEP_SECONDS
    click.echo(f"{pyotp.TOTP(seed).now()}  (valid for {remaining} s more)")
