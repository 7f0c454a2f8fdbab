"""Behind a reverse proxy (REFERRAL_TRUSTED_PROXIES): the client's address the access log
records and the per-address limits count is the one the trusted proxy saw, never one a client
wrote into a header itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from config import ConfigError, load_settings
from config.settings import Settings
from referral.db.audit_log import AuditEntry
from referral.request_scope import request_session
from tests.conftest import app_in_rolled_back_transaction
from tests.unit.test_settings import GOOD

PROXY = "10.0.0.2"  # the address that connects: the reverse proxy
CLIENT = "203.0.113.7"  # the address the proxy saw (a documentation range, RFC 5737)


def _address_logged_for_a_refused_token(settings: Settings, forwarded_for: str) -> str | None:
    """Call the API with a token the service does not know: the refusal is logged, with the
    client's address."""
    with app_in_rolled_back_transaction(settings) as app:
        answer = app.test_client().get(
            "/api/v1/me",
            headers={"Authorization": "Bearer not-a-token", "X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": PROXY},
        )
        assert answer.status_code == 401
        with app.app_context():
            entry = (
                request_session()
                .scalars(
                    select(AuditEntry)
                    .where(AuditEntry.action == "access:denied")
                    .order_by(AuditEntry.sequence.desc())
                )
                .first()
            )
            assert entry is not None
            return entry.client_address


@pytest.mark.asvs("V15.3.4", "V4.1.3")
def test_behind_one_trusted_proxy_the_log_names_the_client_the_proxy_saw(
    settings_with: Callable[..., Settings],
) -> None:
    assert _address_logged_for_a_refused_token(settings_with(trusted_proxies=1), CLIENT) == CLIENT


@pytest.mark.asvs("V15.3.4", "V4.1.3")
def test_an_address_a_client_wrote_in_front_of_the_proxys_is_not_believed(
    settings_with: Callable[..., Settings],
) -> None:
    forged = f"198.51.100.9, {CLIENT}"  # the client's own header, then what the proxy appended
    assert _address_logged_for_a_refused_token(settings_with(trusted_proxies=1), forged) == CLIENT


@pytest.mark.asvs("V15.3.4", "V4.1.3")
def test_without_a_trusted_proxy_the_header_is_only_a_claim(
    settings_with: Callable[..., Settings],
) -> None:
    assert _address_logged_for_a_refused_token(settings_with(), CLIENT) == PROXY


def test_the_number_of_trusted_proxies_is_read_and_bounded() -> None:
    assert load_settings(GOOD).trusted_proxies == 0
    assert load_settings({**GOOD, "REFERRAL_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    for wrong in ("-1", "6", "one"):
        with pytest.raises(ConfigError, match="REFERRAL_TRUSTED_PROXIES"):
            load_settings({**GOOD, "REFERRAL_TRUSTED_PROXIES": wrong})
