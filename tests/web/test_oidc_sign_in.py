"""Signing in through the city's identity provider (OpenID Connect), against a real provider
(oidc-provider-mock on loopback) and, for the tokens no honest provider issues, a stub that
answers with a token the test signed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from config.settings import Settings
from referral.auth import oidc_accounts
from referral.db.audit_log import AuditEntry
from referral.db.base import utcnow
from referral.db.identity import IdentityLink, SignInInvitation
from referral.db.models import User
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import users
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import SYSTEM, Account, Factory, csrf_token, log_in, submit_code
from tests.oidc_provider import (
    SECOND_FACTOR_ACR,
    MockProvider,
    StubProvider,
    authorize_at_mock,
    mock_provider,  # noqa: F401 - a fixture
    new_subject,
    path_of,
    query_of,
    sign_in_through_mock,
    start_sign_in,
    stub_provider,  # noqa: F401 - a fixture
)

DISTRICT = "Stadsdelsförvaltningen med e-legitimation"


@pytest.fixture
def settings(  # type: ignore[no-untyped-def]
    settings_with,
    mock_provider: MockProvider,  # noqa: F811
    stub_provider: StubProvider,  # noqa: F811
) -> Settings:
    return settings_with(  # type: ignore[no-any-return]
        oidc_providers=(mock_provider.config(DISTRICT), stub_provider.config(DISTRICT))
    )


@pytest.fixture
def district(factory: Factory):  # type: ignore[no-untyped-def]
    return factory.organisation("district", name=DISTRICT)


@pytest.fixture
def account(factory: Factory, district) -> Account:  # type: ignore[no-untyped-def]
    return factory.account("social_worker", organisation=district)


@pytest.fixture
def new_account(factory: Factory, district) -> Account:  # type: ignore[no-untyped-def]
    """Provisioned, never signed in to: no second factor of its own yet."""
    return factory.account("social_worker", organisation=district, enrolled=False)


def link(app: Flask, account: Account, subject: str, provider: str = "city") -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        uow.session.add(IdentityLink(user_id=account.user.id, provider=provider, subject=subject))
        uow.commit()


def invite(app: Flask, settings: Settings, account: Account, provider: str = "city") -> str:
    """An administrator's invitation: the token the link carries."""
    config = settings.oidc_provider(provider)
    assert config is not None
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return oidc_accounts.invite(uow, SYSTEM, account.user.id, config, timedelta(hours=72)).token


def entries(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            request_session().scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.sequence)
            )
        )


def refusals(app: Flask) -> list[str]:
    """The refusals' objects: "provider:reason"."""
    return [str(e.object_id) for e in entries(app, "auth:provider_refused")]


def is_fully_signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def test_the_login_page_offers_the_provider_beside_the_password(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Stockholms stad" in page and 'href="/login/oidc/city' in page
    assert 'name="password"' in page


def test_without_a_provider_the_login_page_is_as_before(base_settings: Settings) -> None:
    with app_in_rolled_back_transaction(base_settings) as app:
        page = app.test_client().get("/login").get_data(as_text=True)
        assert "/login/oidc/" not in page and 'name="password"' in page
        assert app.test_client().get("/login/oidc/city").status_code == 404


@pytest.mark.asvs("V10.1.2", "V10.2.1")
def test_the_request_to_the_provider_carries_pkce_state_and_nonce(client: FlaskClient) -> None:
    query = query_of(start_sign_in(client))
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["scope"] == "openid email profile"
    assert query["acr_values"] == SECOND_FACTOR_ACR
    assert query["redirect_uri"].endswith("/login/oidc/city/callback")


@pytest.mark.asvs("V6.8.4")
def test_a_linked_person_whose_provider_proved_a_second_factor_is_signed_in(
    app: Flask,
    client: FlaskClient,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, email="anna@stockholm.se", acr=SECOND_FACTOR_ACR)
    link(app, account, subject)
    response = sign_in_through_mock(client, subject)
    assert response.status_code == 302 and response.location == "/"
    assert is_fully_signed_in(client)
    login = entries(app, "auth:provider_login")[-1]
    assert (login.actor_id, login.object_type, login.object_id) == (
        account.user.id,
        "identity_provider",
        "city",
    )
    assert entries(app, "auth:mfa_verified")[-1].object_id == "city"


@pytest.mark.asvs("V6.3.4", "V6.8.4")
def test_without_the_providers_second_factor_the_person_takes_our_totp_step(
    app: Flask,
    client: FlaskClient,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, email="anna@stockholm.se")  # no acr
    link(app, account, subject)
    response = sign_in_through_mock(client, subject)
    assert response.status_code == 302 and response.location.endswith("/mfa")
    assert not is_fully_signed_in(client), "the session is not verified before the code"
    assert submit_code(client, account.next_code()).status_code == 302
    assert is_fully_signed_in(client)


@pytest.mark.asvs("V16.3.1")
def test_a_subject_linked_to_no_account_is_refused_and_the_refusal_recorded(
    app: Flask,
    client: FlaskClient,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    response = sign_in_through_mock(client, subject)
    assert response.status_code == 401
    assert "Be din administratör om en inbjudan" in response.get_data(as_text=True)
    assert not is_fully_signed_in(client)
    assert refusals(app)[-1] == "city:unlinked_subject"
    with app.app_context():
        assert request_session().scalar(select(IdentityLink.id)) is None


def test_an_invitation_links_a_never_used_account_at_once_and_signs_the_person_in(
    app: Flask,
    client: FlaskClient,
    settings: Settings,
    new_account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    token = invite(app, settings, new_account)
    to_provider = client.get(f"/login/invitation/{token}")
    assert to_provider.status_code == 302
    response = client.get(path_of(authorize_at_mock(to_provider.location, subject)))
    assert response.status_code == 302 and is_fully_signed_in(client)
    with app.app_context():
        linked = request_session().scalars(select(IdentityLink)).all()
        assert [(x.user_id, x.provider, x.subject) for x in linked] == [
            (new_account.user.id, "city", subject)
        ]
        invitation = request_session().scalars(select(SignInInvitation)).one()
        assert invitation.used_at is not None
        assert token not in invitation.token_hash
    assert entries(app, "auth:provider_linked")[-1].object_id == "city"
    # The next time, the link alone signs the person in.
    other = app.test_client()
    assert sign_in_through_mock(other, subject).status_code == 302 and is_fully_signed_in(other)


def test_an_invitation_used_once_is_refused_the_second_time(
    app: Flask,
    client: FlaskClient,
    settings: Settings,
    new_account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    token = invite(app, settings, new_account)
    first, second = new_subject(), new_subject()
    for subject in (first, second):
        mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    to_provider = client.get(f"/login/invitation/{token}").location
    client.get(path_of(authorize_at_mock(to_provider, first)))
    other = app.test_client()
    response = other.get(f"/login/invitation/{token}")
    assert response.status_code == 410
    assert refusals(app)[-1] == "city:invitation_used"
    assert not is_fully_signed_in(other)


def test_an_invitation_used_in_two_browsers_at_once_links_only_the_first(
    app: Flask,
    settings: Settings,
    new_account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    """Both browsers pass the link's check before either returns from the provider: the
    second is refused at the callback."""
    token = invite(app, settings, new_account)
    first, second = app.test_client(), app.test_client()
    to_first = first.get(f"/login/invitation/{token}").location
    to_second = second.get(f"/login/invitation/{token}").location
    subjects = new_subject(), new_subject()
    for subject in subjects:
        mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    assert first.get(path_of(authorize_at_mock(to_first, subjects[0]))).status_code == 302
    refused = second.get(path_of(authorize_at_mock(to_second, subjects[1])))
    assert refused.status_code == 401
    assert refusals(app)[-1] == "city:invitation_used"


def links(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        found = request_session().scalars(select(IdentityLink).order_by(IdentityLink.linked_at))
        return [(x.user_id, x.provider, x.subject) for x in found]


def invitation_used_at(app: Flask) -> object:
    with app.app_context():
        return request_session().scalars(select(SignInInvitation)).one().used_at


def open_invitation_as(
    client: FlaskClient, token: str, subject: str
) -> object:  # the callback's response
    to_provider = client.get(f"/login/invitation/{token}")
    assert to_provider.status_code == 302
    return client.get(path_of(authorize_at_mock(to_provider.location, subject)))


def test_an_invitation_to_an_account_in_use_links_only_with_the_accounts_own_code(
    app: Flask,
    settings: Settings,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    """An administrator invites a social worker's account (with its own authenticator) and
    opens the link with the administrator's own identity at the provider, which reports a
    second factor: that is not the account's, so no link and no verified session follow."""
    admins_subject = new_subject()
    mock_provider.set_user(admins_subject, acr=SECOND_FACTOR_ACR)
    token = invite(app, settings, account)
    browser = app.test_client()
    response = open_invitation_as(browser, token, admins_subject)
    assert response.status_code == 302 and response.location.endswith("/mfa")  # type: ignore[attr-defined]
    assert not is_fully_signed_in(browser)
    assert links(app) == [] and invitation_used_at(app) is None
    assert entries(app, "auth:provider_login")[-1].object_id == "city:link_awaits_code"
    assert entries(app, "auth:mfa_verified") == []

    assert submit_code(browser, "000000").status_code == 401
    assert links(app) == [] and not is_fully_signed_in(browser)

    assert submit_code(browser, account.next_code()).status_code == 302
    assert is_fully_signed_in(browser)
    assert links(app) == [(account.user.id, "city", admins_subject)]
    assert invitation_used_at(app) is not None
    linked = entries(app, "auth:provider_linked")[-1]
    assert (linked.actor_id, linked.object_id) == (account.user.id, "city")


def test_the_link_waiting_for_the_code_is_made_once(
    app: Flask,
    settings: Settings,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    """After the code, the pending link is gone: the next TOTP step of the same browser
    links nothing more."""
    subject = new_subject()
    mock_provider.set_user(subject)
    browser = app.test_client()
    open_invitation_as(browser, invite(app, settings, account), subject)
    submit_code(browser, account.next_code())
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/")})
    assert sign_in_through_mock(browser, subject).location.endswith("/mfa")
    assert submit_code(browser, account.next_code()).status_code == 302
    assert len(entries(app, "auth:provider_linked")) == 1
    assert links(app) == [(account.user.id, "city", subject)]


def test_a_link_whose_invitation_ended_while_waiting_for_the_code_is_refused(
    app: Flask,
    settings: Settings,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    """The administrator made a new invitation (ending this one) before the code came: the
    right code ends the session instead, and the login page says why."""
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    browser = app.test_client()
    open_invitation_as(browser, invite(app, settings, account), subject)
    invite(app, settings, account)
    response = submit_code(browser, account.next_code())
    assert response.status_code == 302 and response.location.endswith("/login")
    page = browser.get("/login").get_data(as_text=True)
    assert "Inbjudan kan inte användas" in page
    assert not is_fully_signed_in(browser) and links(app) == []
    refusal = entries(app, "auth:provider_refused")[-1]
    assert (refusal.object_id, refusal.actor_id) == ("city:invitation_expired", account.user.id)
    assert entries(app, "auth:mfa_verified") == []


def test_an_invitation_spent_by_another_callback_after_the_check_is_refused(
    app: Flask,
    settings: Settings,
    new_account: Account,
    mock_provider: MockProvider,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two callbacks read the invitation unused before either spends it: the second's spend
    finds it used (its check saw the row as it was before the first committed)."""
    token = invite(app, settings, new_account)
    first, second = new_subject(), new_subject()
    for subject in (first, second):
        mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    to_second = app.test_client()
    on_the_way = to_second.get(f"/login/invitation/{token}").location
    assert open_invitation_as(app.test_client(), token, first).status_code == 302  # type: ignore[attr-defined]

    def as_read_before_the_first_committed(uow, provider, invitation_hash, now):  # type: ignore[no-untyped-def]
        return uow.session.scalar(
            select(SignInInvitation).where(SignInInvitation.token_hash == invitation_hash)
        )

    monkeypatch.setattr(oidc_accounts, "_usable_invitation", as_read_before_the_first_committed)
    refused = to_second.get(path_of(authorize_at_mock(on_the_way, second)))
    assert refused.status_code == 401 and not is_fully_signed_in(to_second)
    assert refusals(app)[-1] == "city:invitation_used"
    assert links(app) == [(new_account.user.id, "city", first)]


def test_spending_an_invitation_twice_refuses_the_second(
    app: Flask, settings: Settings, new_account: Account
) -> None:
    invite(app, settings, new_account)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        invitation = uow.session.scalars(select(SignInInvitation)).one()
        oidc_accounts._spend(uow, invitation, utcnow())
        with pytest.raises(oidc_accounts.Refused) as refusal:
            oidc_accounts._spend(uow, invitation, utcnow())
        assert refusal.value.reason == "invitation_used"


@pytest.mark.asvs("V6.8.1", "V10.5.2")
def test_the_database_holds_one_subject_per_account_and_provider(
    app: Flask, account: Account
) -> None:
    link(app, account, new_subject())
    with pytest.raises(IntegrityError):
        link(app, account, new_subject())
    link(app, account, new_subject(), provider="stub")  # another provider is another link


def test_a_link_made_for_the_account_after_the_check_refuses_the_second(
    app: Flask,
    settings: Settings,
    new_account: Account,
    mock_provider: MockProvider,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another subject was linked to the account between our check and our insert: the
    database's constraint refuses ours, as account_already_linked, and spends nothing."""
    token = invite(app, settings, new_account)
    earlier = new_subject()
    link(app, new_account, earlier)
    monkeypatch.setattr(oidc_accounts, "_link_of_account", lambda *_args: None)
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    browser = app.test_client()
    refused = open_invitation_as(browser, token, subject)
    assert refused.status_code == 401  # type: ignore[attr-defined]
    assert refusals(app)[-1] == "city:account_already_linked"
    assert links(app) == [(new_account.user.id, "city", earlier)]
    assert invitation_used_at(app) is None and not is_fully_signed_in(browser)


def test_an_expired_invitation_is_refused(
    app: Flask, client: FlaskClient, settings: Settings, account: Account
) -> None:
    token = invite(app, settings, account)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        for invitation in uow.session.scalars(select(SignInInvitation)):
            invitation.expires_at = utcnow() - timedelta(seconds=1)
        uow.commit()
    assert client.get(f"/login/invitation/{token}").status_code == 410
    assert refusals(app)[-1] == "city:invitation_expired"


def test_a_disabled_account_is_refused_even_with_a_valid_token(
    app: Flask,
    client: FlaskClient,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    link(app, account, subject)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        users.disable_user(uow, SYSTEM, account.user.id)
    response = sign_in_through_mock(client, subject)
    assert response.status_code == 401 and not is_fully_signed_in(client)
    refusal = entries(app, "auth:provider_refused")[-1]
    assert (refusal.object_id, refusal.actor_id) == ("city:disabled", account.user.id)


@pytest.mark.asvs("V10.1.2")
def test_a_code_is_used_once(
    app: Flask,
    client: FlaskClient,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    link(app, account, subject)
    back = authorize_at_mock(start_sign_in(client), subject)
    assert client.get(path_of(back)).status_code == 302
    # The same answer again, in the same browser: the attempt is spent.
    assert client.get(path_of(back)).status_code == 401
    assert refusals(app)[-1] == "city:state"
    # The old code with a new attempt's state: the provider honours a code once.
    thief = app.test_client()
    state = query_of(start_sign_in(thief))["state"]
    code = query_of(back)["code"]
    replay = thief.get("/login/oidc/city/callback?" + urlencode({"code": code, "state": state}))
    assert replay.status_code == 401 and not is_fully_signed_in(thief)
    assert refusals(app)[-1] == "city:code_refused"
    assert all(code not in object_id for object_id in refusals(app)), "no code in the log"


@pytest.mark.asvs("V10.1.2", "V10.2.1")
def test_an_answer_with_another_attempts_state_is_refused(
    app: Flask,
    client: FlaskClient,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    link(app, account, subject)
    back = query_of(authorize_at_mock(start_sign_in(client), subject))
    forged = urlencode({"code": back["code"], "state": back["state"][::-1]})
    assert client.get(f"/login/oidc/city/callback?{forged}").status_code == 401
    assert refusals(app)[-1] == "city:state"


@pytest.mark.asvs("V10.1.2", "V10.5.1")
def test_a_token_for_another_nonce_is_refused(
    app: Flask,
    client: FlaskClient,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    """The provider is asked with another nonce than the one this browser's attempt holds
    (an ID token injected from another sign-in)."""
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    link(app, account, subject)
    authorize = start_sign_in(client)
    nonce = query_of(authorize)["nonce"]
    back = authorize_at_mock(authorize.replace(nonce, "another-attempts-nonce"), subject)
    assert client.get(path_of(back)).status_code == 401
    assert refusals(app)[-1] == "city:nonce"
    assert not is_fully_signed_in(client)


def test_the_provider_reporting_a_cancelled_sign_in_is_a_refusal(
    app: Flask, client: FlaskClient
) -> None:
    state = query_of(start_sign_in(client))["state"]
    answer = urlencode({"error": "access_denied", "state": state})
    assert client.get(f"/login/oidc/city/callback?{answer}").status_code == 401
    assert refusals(app)[-1] == "city:provider_error"


def test_an_e_mail_outside_the_allowed_domains_is_refused(
    settings_with,  # type: ignore[no-untyped-def]
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    config = mock_provider.config(DISTRICT, email_domains=("stockholm.se",))
    settings = settings_with(oidc_providers=(config,))
    with app_in_rolled_back_transaction(settings) as app:
        factory = Factory(app, settings)
        account = factory.account(
            "social_worker", organisation=factory.organisation("district", name=DISTRICT)
        )
        allowed, foreign = new_subject(), new_subject()
        mock_provider.set_user(allowed, email="anna@stockholm.se", acr=SECOND_FACTOR_ACR)
        mock_provider.set_user(foreign, email="anna@example.com", acr=SECOND_FACTOR_ACR)
        link(app, account, allowed)
        client = app.test_client()
        assert sign_in_through_mock(client, foreign).status_code == 401
        assert refusals(app)[-1] == "city:domain"
        assert sign_in_through_mock(client, allowed).status_code == 302


def test_logging_out_offers_the_providers_logout_with_the_id_token_as_hint(
    app: Flask,
    client: FlaskClient,
    account: Account,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    link(app, account, subject)
    sign_in_through_mock(client, subject)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not is_fully_signed_in(client)
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/logout/provider"' in page
    onward = client.get("/logout/provider")
    assert onward.location.startswith(mock_provider.issuer + "/oauth2/end_session?")
    hint = query_of(onward.location)
    assert hint["id_token_hint"].count(".") == 2
    assert hint["post_logout_redirect_uri"].endswith("/login")
    # Offered once: the hint is gone from the session.
    assert 'href="/logout/provider"' not in client.get("/login").get_data(as_text=True)


def test_a_password_login_after_a_provider_logout_offers_no_provider_logout(
    app: Flask, client: FlaskClient, account: Account
) -> None:
    log_in(client, account)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert 'href="/logout/provider"' not in client.get("/login").get_data(as_text=True)


# Tokens no honest provider issues: signed by the test, served by the stub ---------------


@pytest.fixture
def stub(stub_provider: StubProvider) -> Iterator[StubProvider]:  # noqa: F811
    yield stub_provider
    stub_provider.next_id_token = ""


def _answer_with(client: FlaskClient, stub: StubProvider, **changes: object):  # type: ignore[no-untyped-def]
    """Start an attempt, have the stub answer with a token of these claims, return ours."""
    query = query_of(start_sign_in(client, "stub"))
    stub.next_id_token = stub.sign(stub.claims(query["nonce"], **changes))
    answer = urlencode({"code": "any-code", "state": query["state"]})
    return client.get(f"/login/oidc/stub/callback?{answer}")


@pytest.fixture
def stub_account(app: Flask, account: Account) -> Account:
    link(app, account, "stub-subject", provider="stub")
    return account


def test_a_good_token_from_the_stub_signs_in(
    client: FlaskClient, stub_account: Account, stub: StubProvider
) -> None:
    assert _answer_with(client, stub).status_code == 302 and is_fully_signed_in(client)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-client"}, "audience"),
        ({"aud": ["another-client", "a-third"]}, "audience"),
        ({"iss": "https://idp.example.com"}, "issuer"),
        # exp and iat in seconds from the moment the token is made (see the test)
        ({"exp": -3600}, "expired"),
        ({"exp": -90}, "expired"),  # beyond the 60 s of skew allowed
        ({"iat": 3600}, "invalid_iat"),
        ({"iat": -3 * 3600}, "token_too_old"),
        ({"nonce": None}, "nonce"),
        ({"sub": None}, "missing_sub"),
    ],
)
@pytest.mark.asvs("V9.2.1", "V9.2.3", "V10.5.1", "V10.5.4", "V16.3.1")
def test_a_token_that_fails_a_check_is_refused_and_the_refusal_recorded(
    app: Flask,
    client: FlaskClient,
    stub_account: Account,
    stub: StubProvider,
    changes: dict[str, object],
    reason: str,
) -> None:
    now = int(time.time())
    timed = {k: now + v for k, v in changes.items() if k in ("exp", "iat")}  # type: ignore[operator]
    response = _answer_with(client, stub, **{**changes, **timed})
    assert response.status_code == 401 and not is_fully_signed_in(client)
    assert refusals(app)[-1] == f"stub:{reason}"


@pytest.mark.asvs("V6.8.2", "V9.1.1")
def test_a_token_signed_with_another_key_is_refused(
    app: Flask, client: FlaskClient, stub_account: Account, stub: StubProvider
) -> None:
    query = query_of(start_sign_in(client, "stub"))
    stub.next_id_token = stub.sign(stub.claims(query["nonce"]), key=stub.foreign_key)
    answer = urlencode({"code": "any-code", "state": query["state"]})
    assert client.get(f"/login/oidc/stub/callback?{answer}").status_code == 401
    assert refusals(app)[-1] == "stub:signature"


def test_a_clock_a_little_behind_the_providers_is_allowed_within_the_skew(
    client: FlaskClient, stub_account: Account, stub: StubProvider
) -> None:
    response = _answer_with(client, stub, exp=int(time.time()) - 30, iat=int(time.time()) + 30)
    assert response.status_code == 302 and is_fully_signed_in(client)


@pytest.mark.asvs("V6.8.4")
def test_a_token_without_acr_leaves_the_session_unverified_until_our_code(
    app: Flask, client: FlaskClient, stub_account: Account, stub: StubProvider
) -> None:
    response = _answer_with(client, stub, acr=None)
    assert response.status_code == 302 and response.location.endswith("/mfa")
    assert not is_fully_signed_in(client)
    with app.app_context():
        user = request_session().get(User, stub_account.user.id)
        assert user is not None
    assert entries(app, "auth:provider_login")[-1].object_id == "stub"
    assert submit_code(client, stub_account.next_code()).status_code == 302
    assert is_fully_signed_in(client)


@pytest.mark.asvs("V6.8.4")
def test_a_token_with_another_acr_is_not_a_second_factor(
    client: FlaskClient, stub_account: Account, stub: StubProvider
) -> None:
    response = _answer_with(client, stub, acr="urn:stockholm:loa:password-only")
    assert response.location.endswith("/mfa") and not is_fully_signed_in(client)
