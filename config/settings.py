"""Settings for every deployment, read from environment variables with documented defaults.

Production refuses to start, with one clear sentence, on a missing or default secret,
on SQLite without an explicit opt-in, or in debug mode.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from config.limit_storage_uri import storage_uri_problem

PREFIX = "REFERRAL_"

# Values people paste in from tutorials. A secret equal to one of these is no secret.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"dev", "development", "secret", "changeme", "change-me", "test", "password", "default"}
)
MIN_SECRET_LENGTH = 32
# Emergency access to another district's child is short by design: a day at the most.
MAX_EMERGENCY_ACCESS_HOURS = 24
GENERATE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105 - a shell recipe, not a secret


class ConfigError(Exception):
    """The configuration is unsafe or malformed; the message is one sentence for an operator."""


# An OpenID Connect provider's key names it in addresses and the access log: short and plain.
PROVIDER_KEY = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
# The clock skew allowed when checking an ID token's times: bounded, a minute at the most.
MAX_OIDC_CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class OidcProvider:
    """The city's (or a partner's) identity provider, signing in staff of one organisation.

    The client secret is read from the environment and never shown (repr=False)."""

    key: str
    display_name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    # The organisation whose staff it signs in: its id or exact name (`flask org list`).
    organisation: str = ""
    # When set, the e-mail (or a subject written user@domain) must be in one of these.
    email_domains: tuple[str, ...] = ()
    # acr values, or amr values, that prove a second factor; without either, every sign-in
    # through this provider also takes the service's own TOTP step.
    acr_values: tuple[str, ...] = ()
    amr_values: tuple[str, ...] = ()


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment. Secrets are never logged or shown."""

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///instance/referral.sqlite3"
    # One secret per purpose: none of these ever falls back to another.
    secret_key: str = field(default="", repr=False)  # signs the session cookie
    mfa_key: str = field(default="", repr=False)  # encrypts stored TOTP seeds
    blind_index_key: str = field(default="", repr=False)  # keys the personnummer look-up index
    audit_key: str = field(default="", repr=False)  # HMAC key of the access log's chain
    # Seals backup files (`flask backup`). Only the backup commands need it, so a server may
    # run without it; when set, it is checked like the others.
    backup_key: str = field(default="", repr=False)
    debug: bool = False
    allow_sqlite_in_production: bool = False
    # Key provider for the key-encryption keys (crypto/): "local" keeps a 0600 keyring file
    # outside the database; a KMS or Vault Transit provider plugs in behind the same name.
    key_provider: str = "local"
    keyring_path: str = "instance/keyring.json"
    # Unwrapped data keys kept in memory: bounded in number and in time, so a key shredded
    # by another instance stops working here within dek_cache_seconds.
    dek_cache_entries: int = 10_000
    dek_cache_seconds: int = 300
    # The access log: signed checkpoints go to a directory outside the database that the
    # DPO can copy away; the Ed25519 signing key is a 0600 file made by `flask audit init`.
    audit_checkpoint_dir: str = "instance/audit-checkpoints"
    audit_signing_key_path: str = "instance/audit-signing-key.pem"
    audit_checkpoint_every: int = 1000
    # Also sign on time: when entries were written and the last checkpoint is this old
    # (REFERRAL_AUDIT_CHECKPOINT_SECONDS; 0: on count and on demand only).
    audit_checkpoint_seconds: int = 300
    # A second place for every checkpoint, out of reach of whoever holds the database and
    # instance/: a directory on another mount, or "syslog" / "syslog://host:port".
    # Required in production (REFERRAL_AUDIT_CHECKPOINT_MIRROR).
    audit_checkpoint_mirror: str = ""
    # Alerts on unusual access, for the DPO.
    alert_distinct_people_per_hour: int = 30
    alert_denials_per_hour: int = 5
    working_hours_start: int = 7  # local time (Europe/Stockholm), weekdays
    working_hours_end: int = 19
    # A concern report not acknowledged within this many working hours (the hours above, on
    # Swedish working days) is overdue; at the social emergency service, which is staffed
    # around the clock, within this many hours (REFERRAL_CONCERN_ACKNOWLEDGE_HOURS).
    concern_acknowledge_hours: int = 4
    session_idle_minutes: int = 15
    session_absolute_hours: int = 8
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_rate_limit: str = "20 per minute"
    # Calls per API client (a city system's bearer token), counted per client, not per address.
    api_client_rate_limit: str = "120 per minute"
    # Empty: the service's own database (see referral/web/limit_storage.py); shared by workers.
    # Or Redis: redis://host:6379/0 or rediss://… (config/limit_storage_uri.py says what passes).
    rate_limit_storage_uri: str = ""
    # How many reverse proxies stand in front of the service and are trusted to say who the
    # client is (X-Forwarded-For) and whether it came over HTTPS (X-Forwarded-Proto). 0: none,
    # the address that connects is the client's. Behind one proxy, 1: the per-address limits
    # and the access log then see the client, not the proxy (docs/deployment.md).
    trusted_proxies: int = 0
    # Retention (gallring, domain.md §5; referral.services.gallring declares each rule and
    # its basis). The partner's file on a child: purged this many days after the
    # participation ended (completed, declined or withdrawn), after its return to social
    # services (IOP agreement, seed 004: "gallras eller återlämnas").
    partner_retention_days: int = 30
    # The district's own record (SoL 12 kap. 1 §): a case file five years after its last
    # entry, but never the file of a child placed in a family home (12 kap. 2 §); concern
    # reports the district received follow it.
    district_retention_years: int = 5
    # An interest registration: the partner's note of a family home's call, purged this many
    # days after the district decided on it (data minimisation, GDPR art. 5.1 c and e; the
    # district's referral carries on what it needs).
    interest_retention_days: int = 0
    # Programme B: an outreach organisation's record of a youth, purged this many days after
    # its last entry once no link case is open and no consent runs (IOP agreement, seed 003;
    # GDPR art. 5.1 e). Encounters stay only as anonymous counts.
    outreach_retention_days: int = 30
    # Programme C (seed 002): a person's card, registrations and nights, purged this many
    # days after their last registration or night; runs keep only their counts after it
    # (REFERRAL_NIGHTS_RETENTION_DAYS; data minimisation, GDPR art. 5.1 c and e).
    nights_retention_days: int = 90
    # Complaints and suggestions (synpunkter och klagomål): what was written, the contact and
    # the response are purged this many days after the response (two years by default: long
    # enough for the half-year and annual follow-up and a complaint's review, seed 000 §4.2,
    # seed 002 §4.1; then data minimisation, GDPR art. 5.1 c and e). The category, kind, dates
    # and outcome stay, naming no one, so the report does not change. An unanswered one waits.
    complaint_retention_days: int = 730
    # A purge run commits this many units (one person's data under one holder each) per
    # transaction, each unit whole or not at all: a batch that fails is redone one unit per
    # transaction, so one bad unit never holds back the others, and a run killed half-way
    # leaves every unit either purged or untouched. 1 commits every unit on its own; larger
    # batches share the statements and the commit (bench/gallring_bench.py measures it).
    gallring_units_per_transaction: int = 100
    # The Ed25519 key that signs files returned to social services (its own purpose: never
    # the access log's checkpoint key), made 0600 by `flask gallring init`.
    return_signing_key_path: str = "instance/return-signing-key.pem"
    # The social worker's consent-lapse queue lists consents ending within this many days
    # (REFERRAL_CONSENT_LAPSE_WARNING_DAYS; 0 lists only those ending today or already lapsed):
    # six weeks, time enough to reach a guardian and have a new form signed and returned.
    consent_lapse_warning_days: int = 42
    # A new consent's end date by default, when the child is in no group yet: this many days
    # after the decision (REFERRAL_CONSENT_DEFAULT_DAYS). In a group, the group's last session.
    consent_default_days: int = 183
    # Emergency access ("break the glass"): how many hours a social worker's access to a
    # child of another district lasts once a reason is given (REFERRAL_EMERGENCY_ACCESS_HOURS).
    emergency_access_hours: int = 3
    # Programme C's registration window on weekday mornings (Stockholm time, "HH:MM-HH:MM"),
    # how many nights one allocation covers (0: until the next window, so Friday's covers
    # the weekend), the local time after which a shelter records a place not taken as a
    # no-show and gives it to the reserve, and the ranking's caps (referral.night_allocation).
    nights_window: str = "09:00-11:00"
    nights_per_allocation: int = 0
    nights_no_show_at: str = "21:00"
    nights_days_since_cap: int = 30
    nights_max_consecutive: int = 7
    nights_max_per_30_days: int = 20
    # Tests only: a file the service's clock reads the time from (referral.clock.follow_file),
    # so that a test over HTTP can stop and move the real server's clock.
    test_clock_file: str = ""
    default_locale: str = "sv"
    demo_mode: bool = False
    # Sign-in through identity providers (OpenID Connect), none by default: see README,
    # "Sign-in through the city's identity provider".
    oidc_providers: tuple[OidcProvider, ...] = ()
    oidc_clock_skew_seconds: int = MAX_OIDC_CLOCK_SKEW_SECONDS
    oidc_invitation_hours: int = 72
    # The service's address as browsers reach it (https://…): the providers' redirect URI is
    # built on it, never on a Host header. Required in production when a provider is set.
    public_url: str = ""

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def oidc_provider(self, key: str) -> OidcProvider | None:
        return next((p for p in self.oidc_providers if p.key == key), None)


def _flag(raw: str | None, name: str) -> bool:
    if raw is None or raw == "":
        return False
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{PREFIX}{name} must be a yes/no flag (1/0, true/false), not {raw!r}.")


MAX_TRUSTED_PROXIES = 5


def _trusted_proxies(raw: str | None) -> int:
    """0 to MAX_TRUSTED_PROXIES: a chain longer than that is a misconfiguration, and every
    hop trusted that is not really there lets a client write its own address."""
    hops = _positive_int(raw, "TRUSTED_PROXIES", 0, 0)
    if hops > MAX_TRUSTED_PROXIES:
        raise ConfigError(
            f"{PREFIX}TRUSTED_PROXIES must be at most {MAX_TRUSTED_PROXIES} (the reverse proxies "
            f"in front of the service), not {hops}."
        )
    return hops


def _positive_int(raw: str | None, name: str, default: int, minimum: int = 1) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{PREFIX}{name} must be at least {minimum}.")
    return value


def _clock_time(raw: str, name: str) -> str:
    """A local time written HH:MM (24-hour)."""
    try:
        hours, minutes = raw.split(":")
        if (
            len(hours) == 2
            and len(minutes) == 2
            and 0 <= int(hours) < 24
            and 0 <= int(minutes) < 60
        ):
            return raw
    except ValueError:
        pass
    raise ConfigError(f"{PREFIX}{name} must be a time written HH:MM, not {raw!r}.")


def _window(raw: str) -> str:
    """The registration window, "HH:MM-HH:MM", opening before it closes."""
    opens, _, closes = raw.partition("-")
    _clock_time(opens, "NIGHTS_WINDOW"), _clock_time(closes, "NIGHTS_WINDOW")
    if not opens < closes:
        raise ConfigError(f"{PREFIX}NIGHTS_WINDOW must open before it closes, not {raw!r}.")
    return raw


def _list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _oidc_providers(env: Mapping[str, str]) -> tuple[OidcProvider, ...]:
    """REFERRAL_OIDC_PROVIDERS names the providers' keys; each is described by
    REFERRAL_OIDC_<KEY>_… (the key upper-cased, '-' as '_')."""
    providers: list[OidcProvider] = []
    for key in _list(env.get(PREFIX + "OIDC_PROVIDERS", "")):
        if not PROVIDER_KEY.match(key):
            raise ConfigError(
                f"{PREFIX}OIDC_PROVIDERS: {key!r} is not a provider key (a lower-case letter, "
                "then up to 23 lower-case letters, digits or '-')."
            )
        stem = f"OIDC_{key.upper().replace('-', '_')}_"

        def read(name: str, stem: str = stem) -> str:
            return env.get(PREFIX + stem + name, "").strip()

        for required in ("ISSUER", "CLIENT_ID", "ORGANISATION"):
            if not read(required):
                raise ConfigError(f"{PREFIX}{stem}{required} is not set: provider {key} needs it.")
        providers.append(
            OidcProvider(
                key=key,
                display_name=read("DISPLAY_NAME") or key,
                issuer=read("ISSUER").rstrip("/"),
                client_id=read("CLIENT_ID"),
                client_secret=env.get(PREFIX + stem + "CLIENT_SECRET", ""),
                organisation=read("ORGANISATION"),
                email_domains=tuple(d.lower().lstrip("@") for d in _list(read("EMAIL_DOMAINS"))),
                acr_values=_list(read("ACR_VALUES")),
                amr_values=_list(read("AMR_VALUES")),
            )
        )
    return tuple(providers)


def _is_loopback_http(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))


def _check_oidc(settings: Settings) -> None:
    """A provider's secret is required wherever it is configured; production also wants
    TLS everywhere and its own public address."""
    if settings.oidc_clock_skew_seconds > MAX_OIDC_CLOCK_SKEW_SECONDS:
        raise ConfigError(
            f"{PREFIX}OIDC_CLOCK_SKEW_SECONDS must be at most {MAX_OIDC_CLOCK_SKEW_SECONDS}: "
            "a token's times are checked with a minute's leeway at the most."
        )
    for provider in settings.oidc_providers:
        stem = f"{PREFIX}OIDC_{provider.key.upper().replace('-', '_')}_"
        secret = provider.client_secret
        if not secret or secret.strip().lower() in KNOWN_DEFAULT_SECRETS:
            problem = "is missing" if not secret else "is a well-known default"
            raise ConfigError(
                f"{stem}CLIENT_SECRET {problem}: the service refuses to start with provider "
                f"{provider.key} configured without the secret the provider issued."
            )
        if not (provider.issuer.startswith("https://") or _is_loopback_http(provider.issuer)):
            raise ConfigError(f"{stem}ISSUER must be an https:// address.")
        if settings.is_production and not provider.issuer.startswith("https://"):
            raise ConfigError(f"{stem}ISSUER must be an https:// address in production.")
    if (
        settings.oidc_providers
        and settings.is_production
        and not settings.public_url.startswith("https://")
    ):
        raise ConfigError(
            f"{PREFIX}PUBLIC_URL must be the service's https:// address when a provider is "
            "configured: the redirect URI registered with the provider is built on it."
        )


def secret_problem(value: str) -> str | None:
    """Why this secret is unfit, or None when it is fit to use."""
    if not value:
        return "is missing"
    if value.strip().lower() in KNOWN_DEFAULT_SECRETS:
        return "is a well-known default"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def backup_key_problem(settings: Settings) -> str | None:
    """Why the backup commands cannot seal or open a backup with these settings, or None."""
    problem = secret_problem(settings.backup_key)
    if problem:
        return (
            f"{PREFIX}BACKUP_KEY {problem}: backups are sealed with a secret of their own "
            f"(generate one with: {GENERATE_SECRET}) and kept apart from the backups."
        )
    return None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (the process environment by default) and check them."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        return env.get(PREFIX + name, default) or default

    raw_environment = get("ENV", Environment.DEVELOPMENT.value)
    try:
        environment = Environment(raw_environment)
    except ValueError:
        allowed = ", ".join(e.value for e in Environment)
        raise ConfigError(
            f"{PREFIX}ENV must be one of {allowed}, not {raw_environment!r}."
        ) from None

    locale = get("LOCALE", "sv")
    if locale not in {"sv", "en"}:
        raise ConfigError(f"{PREFIX}LOCALE must be sv or en, not {locale!r}.")

    def number(name: str, default: int, minimum: int = 1) -> int:
        return _positive_int(env.get(PREFIX + name), name, default, minimum)

    def flag(name: str) -> bool:
        return _flag(env.get(PREFIX + name), name)

    settings = Settings(
        environment=environment,
        database_url=get("DATABASE_URL", Settings.database_url),
        secret_key=env.get(PREFIX + "SECRET_KEY", ""),
        mfa_key=env.get(PREFIX + "MFA_KEY", ""),
        blind_index_key=env.get(PREFIX + "BLIND_INDEX_KEY", ""),
        audit_key=env.get(PREFIX + "AUDIT_KEY", ""),
        backup_key=env.get(PREFIX + "BACKUP_KEY", ""),
        audit_checkpoint_dir=get("AUDIT_CHECKPOINT_DIR", Settings.audit_checkpoint_dir),
        audit_signing_key_path=get("AUDIT_SIGNING_KEY_PATH", Settings.audit_signing_key_path),
        audit_checkpoint_every=number(
            "AUDIT_CHECKPOINT_EVERY", Settings.audit_checkpoint_every, minimum=0
        ),
        audit_checkpoint_seconds=number(
            "AUDIT_CHECKPOINT_SECONDS", Settings.audit_checkpoint_seconds, minimum=0
        ),
        audit_checkpoint_mirror=get("AUDIT_CHECKPOINT_MIRROR", ""),
        alert_distinct_people_per_hour=number(
            "ALERT_DISTINCT_PEOPLE_PER_HOUR", Settings.alert_distinct_people_per_hour
        ),
        alert_denials_per_hour=number("ALERT_DENIALS_PER_HOUR", Settings.alert_denials_per_hour),
        working_hours_start=number("WORKING_HOURS_START", Settings.working_hours_start),
        working_hours_end=number("WORKING_HOURS_END", Settings.working_hours_end),
        concern_acknowledge_hours=number(
            "CONCERN_ACKNOWLEDGE_HOURS", Settings.concern_acknowledge_hours
        ),
        debug=flag("DEBUG"),
        allow_sqlite_in_production=flag("ALLOW_SQLITE_IN_PRODUCTION"),
        key_provider=get("KEY_PROVIDER", Settings.key_provider),
        keyring_path=get("KEYRING_PATH", Settings.keyring_path),
        dek_cache_entries=number("DEK_CACHE_ENTRIES", Settings.dek_cache_entries),
        dek_cache_seconds=number("DEK_CACHE_SECONDS", Settings.dek_cache_seconds),
        session_idle_minutes=number("SESSION_IDLE_MINUTES", Settings.session_idle_minutes),
        session_absolute_hours=number("SESSION_ABSOLUTE_HOURS", Settings.session_absolute_hours),
        login_max_failures=number("LOGIN_MAX_FAILURES", Settings.login_max_failures),
        login_lockout_minutes=number("LOGIN_LOCKOUT_MINUTES", Settings.login_lockout_minutes),
        login_rate_limit=get("LOGIN_RATE_LIMIT", Settings.login_rate_limit),
        api_client_rate_limit=get("API_CLIENT_RATE_LIMIT", Settings.api_client_rate_limit),
        rate_limit_storage_uri=get("RATE_LIMIT_STORAGE_URI", Settings.rate_limit_storage_uri),
        trusted_proxies=_trusted_proxies(env.get(PREFIX + "TRUSTED_PROXIES")),
        partner_retention_days=number("PARTNER_RETENTION_DAYS", Settings.partner_retention_days),
        district_retention_years=number(
            "DISTRICT_RETENTION_YEARS", Settings.district_retention_years
        ),
        interest_retention_days=number(
            "INTEREST_RETENTION_DAYS", Settings.interest_retention_days, minimum=0
        ),
        outreach_retention_days=number(
            "OUTREACH_RETENTION_DAYS", Settings.outreach_retention_days, minimum=0
        ),
        nights_retention_days=number(
            "NIGHTS_RETENTION_DAYS", Settings.nights_retention_days, minimum=0
        ),
        complaint_retention_days=number(
            "COMPLAINT_RETENTION_DAYS", Settings.complaint_retention_days, minimum=0
        ),
        nights_window=_window(get("NIGHTS_WINDOW", Settings.nights_window)),
        nights_per_allocation=number(
            "NIGHTS_PER_ALLOCATION", Settings.nights_per_allocation, minimum=0
        ),
        nights_no_show_at=_clock_time(
            get("NIGHTS_NO_SHOW_AT", Settings.nights_no_show_at), "NIGHTS_NO_SHOW_AT"
        ),
        nights_days_since_cap=number("NIGHTS_DAYS_SINCE_CAP", Settings.nights_days_since_cap),
        nights_max_consecutive=number("NIGHTS_MAX_CONSECUTIVE", Settings.nights_max_consecutive),
        nights_max_per_30_days=number("NIGHTS_MAX_PER_30_DAYS", Settings.nights_max_per_30_days),
        gallring_units_per_transaction=number(
            "GALLRING_UNITS_PER_TRANSACTION", Settings.gallring_units_per_transaction, minimum=1
        ),
        return_signing_key_path=get("RETURN_SIGNING_KEY_PATH", Settings.return_signing_key_path),
        consent_default_days=number(
            "CONSENT_DEFAULT_DAYS", Settings.consent_default_days, minimum=1
        ),
        consent_lapse_warning_days=number(
            "CONSENT_LAPSE_WARNING_DAYS", Settings.consent_lapse_warning_days, minimum=0
        ),
        emergency_access_hours=number("EMERGENCY_ACCESS_HOURS", Settings.emergency_access_hours),
        test_clock_file=get("TEST_CLOCK_FILE", ""),
        default_locale=locale,
        demo_mode=flag("DEMO"),
        oidc_providers=_oidc_providers(env),
        oidc_clock_skew_seconds=number(
            "OIDC_CLOCK_SKEW_SECONDS", Settings.oidc_clock_skew_seconds, minimum=0
        ),
        oidc_invitation_hours=number("OIDC_INVITATION_HOURS", Settings.oidc_invitation_hours),
        public_url=get("PUBLIC_URL", "").rstrip("/"),
    )
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Refuse unsafe combinations. Every environment needs real secrets; production more."""
    secrets = {
        "SECRET_KEY": settings.secret_key,
        "MFA_KEY": settings.mfa_key,
        "BLIND_INDEX_KEY": settings.blind_index_key,
        "AUDIT_KEY": settings.audit_key,
    }
    if settings.backup_key:  # required by the backup commands only (backup_key_problem)
        secrets["BACKUP_KEY"] = settings.backup_key
    for name, value in secrets.items():
        problem = secret_problem(value)
        if problem:
            raise ConfigError(
                f"{PREFIX}{name} {problem}: the service refuses to start without a real secret "
                f"(generate one with: {GENERATE_SECRET})."
            )
    seen: dict[str, str] = {}
    for name, value in secrets.items():
        if value in seen:
            raise ConfigError(
                f"{PREFIX}{seen[value]} and {PREFIX}{name} are the same: "
                "each purpose needs its own secret."
            )
        seen[value] = name
    if not 0 <= settings.working_hours_start < settings.working_hours_end <= 24:
        raise ConfigError(
            f"{PREFIX}WORKING_HOURS_START must be before {PREFIX}WORKING_HOURS_END, "
            "both hours of the day (0-24)."
        )
    if settings.test_clock_file and settings.environment is not Environment.TEST:
        raise ConfigError(
            f"{PREFIX}TEST_CLOCK_FILE is for the test suite only: the service keeps real time."
        )
    if settings.emergency_access_hours > MAX_EMERGENCY_ACCESS_HOURS:
        raise ConfigError(
            f"{PREFIX}EMERGENCY_ACCESS_HOURS must be at most {MAX_EMERGENCY_ACCESS_HOURS}: "
            "emergency access is for an emergency, not a standing right."
        )
    _check_oidc(settings)
    storage_problem = storage_uri_problem(
        settings.rate_limit_storage_uri, production=settings.is_production
    )
    if storage_problem:
        raise ConfigError(f"{PREFIX}RATE_LIMIT_STORAGE_URI {storage_problem}.")
    if settings.audit_checkpoint_mirror and not settings.audit_checkpoint_mirror.startswith(
        "syslog"
    ):
        primary = os.path.realpath(settings.audit_checkpoint_dir)
        mirror = os.path.realpath(settings.audit_checkpoint_mirror)
        if os.path.commonpath([primary, mirror]) in {primary, mirror}:
            raise ConfigError(
                f"{PREFIX}AUDIT_CHECKPOINT_MIRROR must be a directory apart from "
                f"{PREFIX}AUDIT_CHECKPOINT_DIR, not inside it or around it."
            )
    if not settings.is_production:
        return
    if not settings.audit_checkpoint_mirror:
        raise ConfigError(
            f"{PREFIX}AUDIT_CHECKPOINT_MIRROR is not set: production refuses to start without a "
            "second place for the access log's checkpoints (a directory on another mount, or "
            "syslog)."
        )
    if settings.debug:
        raise ConfigError(f"{PREFIX}DEBUG is on: production refuses to start in debug mode.")
    if settings.demo_mode:
        raise ConfigError(
            f"{PREFIX}DEMO is on: production refuses to start with demo data enabled."
        )
    if settings.uses_sqlite and not settings.allow_sqlite_in_production:
        raise ConfigError(
            "The database is SQLite: production refuses it unless "
            f"{PREFIX}ALLOW_SQLITE_IN_PRODUCTION=1 says so explicitly."
        )
