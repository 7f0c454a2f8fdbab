"""Configuration: production refuses to start on anything unsafe, with one clear sentence."""

from __future__ import annotations

import secrets

import pytest

from config import ConfigError, load_settings

GOOD = {
    "REFERRAL_SECRET_KEY": secrets.token_urlsafe(48),
    "REFERRAL_MFA_KEY": secrets.token_urlsafe(48),
    "REFERRAL_BLIND_INDEX_KEY": secrets.token_urlsafe(48),
    "REFERRAL_AUDIT_KEY": secrets.token_urlsafe(48),
}
PRODUCTION = {
    **GOOD,
    "REFERRAL_ENV": "production",
    "REFERRAL_DATABASE_URL": "postgresql+psycopg://app@db.invalid/referral",
    "REFERRAL_AUDIT_CHECKPOINT_MIRROR": "syslog",
}


def test_production_starts_with_real_secrets_on_postgresql() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.is_production and not settings.debug


@pytest.mark.parametrize("secret", ["", "dev", "changeme", "short-but-not-a-default"])
def test_production_refuses_a_missing_default_or_short_session_secret(secret: str) -> None:
    with pytest.raises(ConfigError, match="REFERRAL_SECRET_KEY") as refused:
        load_settings({**PRODUCTION, "REFERRAL_SECRET_KEY": secret})
    message = str(refused.value)
    assert message.count(". ") == 0 and message.endswith(").")  # one sentence


def test_a_missing_mfa_key_is_refused_and_never_borrowed_from_the_session_secret() -> None:
    with pytest.raises(ConfigError, match="REFERRAL_MFA_KEY"):
        load_settings({**PRODUCTION, "REFERRAL_MFA_KEY": ""})


def test_one_secret_may_not_serve_two_purposes() -> None:
    same = GOOD["REFERRAL_SECRET_KEY"]
    with pytest.raises(ConfigError, match="each purpose needs its own secret"):
        load_settings({**PRODUCTION, "REFERRAL_MFA_KEY": same})
    with pytest.raises(ConfigError, match="BLIND_INDEX_KEY are the same"):
        load_settings({**PRODUCTION, "REFERRAL_BLIND_INDEX_KEY": same})


def test_production_refuses_sqlite_without_an_explicit_opt_in() -> None:
    sqlite = {**PRODUCTION, "REFERRAL_DATABASE_URL": "sqlite:///instance/x.sqlite3"}
    with pytest.raises(ConfigError, match="SQLite"):
        load_settings(sqlite)
    assert load_settings({**sqlite, "REFERRAL_ALLOW_SQLITE_IN_PRODUCTION": "1"}).uses_sqlite


@pytest.mark.asvs("V6.3.2", "V13.4.2", "V15.2.3")
def test_production_refuses_debug_mode_and_demo_data() -> None:
    with pytest.raises(ConfigError, match="debug"):
        load_settings({**PRODUCTION, "REFERRAL_DEBUG": "1"})
    with pytest.raises(ConfigError, match="demo"):
        load_settings({**PRODUCTION, "REFERRAL_DEMO": "1"})


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings(GOOD)
    assert settings.session_idle_minutes == 15
    assert settings.session_absolute_hours == 8
    assert settings.default_locale == "sv"
    assert settings.database_url.startswith("sqlite:///instance/")
    assert settings.key_provider == "local"


def test_a_malformed_number_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="REFERRAL_SESSION_IDLE_MINUTES"):
        load_settings({**GOOD, "REFERRAL_SESSION_IDLE_MINUTES": "soon"})


def test_secrets_never_appear_in_the_settings_repr() -> None:
    settings = load_settings(GOOD)
    assert GOOD["REFERRAL_SECRET_KEY"] not in repr(settings)
    assert GOOD["REFERRAL_MFA_KEY"] not in repr(settings)
    assert GOOD["REFERRAL_BLIND_INDEX_KEY"] not in repr(settings)


def test_production_refuses_to_start_without_a_second_place_for_checkpoints() -> None:
    without = {k: v for k, v in PRODUCTION.items() if k != "REFERRAL_AUDIT_CHECKPOINT_MIRROR"}
    with pytest.raises(ConfigError, match="REFERRAL_AUDIT_CHECKPOINT_MIRROR"):
        load_settings(without)


@pytest.mark.parametrize(
    "mirror", ["instance/audit-checkpoints", "instance/audit-checkpoints/copy", "instance"]
)
def test_a_checkpoint_mirror_inside_or_around_the_checkpoint_directory_is_refused(
    mirror: str,
) -> None:
    with pytest.raises(ConfigError, match="apart from REFERRAL_AUDIT_CHECKPOINT_DIR"):
        load_settings({**GOOD, "REFERRAL_AUDIT_CHECKPOINT_MIRROR": mirror})


def test_checkpoints_are_signed_every_five_minutes_by_default() -> None:
    assert load_settings(GOOD).audit_checkpoint_seconds == 300


def test_production_refuses_rate_limits_counted_per_worker_in_memory() -> None:
    with pytest.raises(ConfigError, match="RATE_LIMIT_STORAGE_URI is memory://"):
        load_settings({**PRODUCTION, "REFERRAL_RATE_LIMIT_STORAGE_URI": "memory://"})
    assert load_settings(PRODUCTION).rate_limit_storage_uri == ""  # the database, shared


@pytest.mark.parametrize(
    "uri",
    [
        "redis://cache.invalid:6379/0",
        "redis://:a-password@cache.invalid",
        "rediss://limits:a-password@cache.invalid:6380/2?key_prefix=referral-prod",
    ],
)
def test_production_takes_rate_limits_counted_in_redis(uri: str) -> None:
    settings = load_settings({**PRODUCTION, "REFERRAL_RATE_LIMIT_STORAGE_URI": uri})
    assert settings.rate_limit_storage_uri == uri


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("memcached://cache.invalid:11211", "names memcached://"),
        ("cache.invalid:6379", "has no scheme"),
        ("redis+unix:///run/redis.sock", "names redis+unix://"),
        ("redis://", "must name Redis's host"),
        ("redis://cache.invalid:port/0", "must name Redis's host"),
        ("redis://cache.invalid:6379/zero", "numbered Redis database"),
        ("redis://cache.invalid/0?socket_timeout=nope", "options the service does not take"),
        ("redis://cache.invalid/0?key_prefix=", "key_prefix"),
        ("redis://cache.invalid/0?key_prefix=a*b", "key_prefix"),
    ],
)
def test_a_rate_limit_storage_that_would_fail_at_the_first_login_stops_the_start(
    uri: str, reason: str
) -> None:
    with pytest.raises(ConfigError, match="REFERRAL_RATE_LIMIT_STORAGE_URI") as refused:
        load_settings({**GOOD, "REFERRAL_RATE_LIMIT_STORAGE_URI": uri})
    assert reason in str(refused.value)


def test_the_refusal_of_a_redis_uri_never_repeats_its_password() -> None:
    uri = "redis://:hunter2-not-real@cache.invalid:6379/x"
    with pytest.raises(ConfigError) as refused:
        load_settings({**GOOD, "REFERRAL_RATE_LIMIT_STORAGE_URI": uri})
    assert "hunter2" not in str(refused.value)


@pytest.mark.asvs("V15.2.3")
def test_only_the_test_suite_may_stop_the_clock() -> None:
    with pytest.raises(ConfigError, match="TEST_CLOCK_FILE"):
        load_settings({**PRODUCTION, "REFERRAL_TEST_CLOCK_FILE": "instance/clock"})
    with pytest.raises(ConfigError, match="TEST_CLOCK_FILE"):
        load_settings({**GOOD, "REFERRAL_TEST_CLOCK_FILE": "instance/clock"})
    stopped = load_settings({**GOOD, "REFERRAL_ENV": "test", "REFERRAL_TEST_CLOCK_FILE": "c"})
    assert stopped.test_clock_file == "c"


def test_night_places_are_registered_on_weekday_mornings_by_default() -> None:
    settings = load_settings(GOOD)
    assert (settings.nights_window, settings.nights_no_show_at) == ("09:00-11:00", "21:00")
    assert (settings.nights_per_allocation, settings.nights_retention_days) == (0, 90)


@pytest.mark.parametrize(
    ("name", "value"),
    [("NIGHTS_WINDOW", "11:00-09:00"), ("NIGHTS_WINDOW", "9-11"), ("NIGHTS_NO_SHOW_AT", "25:00")],
)
def test_a_malformed_night_time_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"REFERRAL_{name}"):
        load_settings({**GOOD, f"REFERRAL_{name}": value})
