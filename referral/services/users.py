"""Staff accounts: create, disable, reset the second factor, end every session. Each ends open
sessions at once where it takes rights away."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.auth.passwords import hash_password, password_problem
from referral.auth.sessions import close_all_sessions
from referral.db.base import ByIds, in_ids
from referral.db.models import Organisation, User, UserRole
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission, organisation_scope, partner_scope, require
from referral.roles import ROLE_HOMES, OrganisationKind, Role

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_DISPLAY_NAME = 120
# A work phone as people write it: digits in groups, a leading + for the country code, a
# hyphen after the area code ("08-508 000 00", "+46 8 508 000 00"). 5 to 15 digits: a short
# internal number at least, E.164's longest at most.
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 -]*[0-9]$")
MIN_PHONE_DIGITS = 5
MAX_PHONE_DIGITS = 15
MAX_PHONE = 25


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    organisation_id: str
    roles: Iterable[str]
    password: str
    # Someone other than the holder knows this password: it is replaced at the first sign-in.
    must_change_password: bool = False


def _parse_roles(raw: Iterable[str]) -> frozenset[Role]:
    roles: set[Role] = set()
    for name in raw:
        try:
            roles.add(Role(name))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise InvalidInput(
                _("Unknown role %(name)s; roles are %(allowed)s.", name=name, allowed=allowed),
                field="roles",
            ) from None
    if not roles:
        raise InvalidInput(_("A user needs at least one role."), field="roles")
    return frozenset(roles)


@dataclass(frozen=True)
class AccountView:
    """A staff account as the administrator sees it: no hash, no seed, no login counters.
    Read inside the unit of work, so that no caller reads a row after it closed."""

    id: str
    username: str
    display_name: str
    organisation_id: str
    organisation_name: str
    role_names: frozenset[Role]
    active: bool
    totp_confirmed: bool
    work_phone: str | None = None


def _view(user: User, organisation_name: str) -> AccountView:
    return AccountView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        organisation_name=organisation_name,
        role_names=user.role_names,
        active=user.active,
        totp_confirmed=user.totp_confirmed,
        work_phone=user.work_phone,
    )


def add_user(uow: UnitOfWork, actor: Actor, new: NewUser) -> AccountView:
    require(actor, Permission.USER_CREATE)
    username = new.username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            _("The username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'."),
            field="username",
        )
    display_name = new.display_name.strip()
    if not display_name or len(display_name) > MAX_DISPLAY_NAME:
        raise InvalidInput(
            _("The display name must be 1-%(n)s characters.", n=MAX_DISPLAY_NAME),
            field="display_name",
        )
    problem = password_problem(new.password, username)
    if problem is not None:
        raise InvalidInput(problem, field="password")
    roles = _parse_roles(new.roles)
    db = uow.session
    organisation = db.get(Organisation, new.organisation_id)
    if organisation is None:
        raise NotFound(_("No such organisation."), field="organisation")
    for role in roles:
        if OrganisationKind(organisation.kind) not in ROLE_HOMES[role]:
            homes = " or ".join(k.value for k in sorted(ROLE_HOMES[role]))
            raise InvalidInput(
                _(
                    "The role %(role)s belongs to an organisation of kind %(homes)s.",
                    role=role.value,
                    homes=homes,
                ),
                field="roles",
            )
    if db.scalar(select(User.id).where(User.username == username)):
        raise Conflict(_("This username is taken."), field="username")
    user = User(
        username=username,
        display_name=display_name,
        organisation_id=organisation.id,
        password_hash=hash_password(new.password),
        must_change_password=new.must_change_password,
        roles=[UserRole(role=r.value) for r in sorted(roles)],
    )
    db.add(user)
    db.flush()
    record(db, actor, Action.USER_CREATE, object_type="user", object_id=user.id)
    uow.commit()
    return _view(user, organisation.name)


def find_user(uow: UnitOfWork, actor: Actor, ref: str, permission: Permission) -> AccountView:
    """By id (web) or username (CLI)."""
    user = _find_user(uow, actor, ref, permission)
    return _view(user, user.organisation.name)


def _find_user(uow: UnitOfWork, actor: Actor, ref: str, permission: Permission) -> User:
    """The row, for the verbs that change it."""
    require(actor, permission)
    ref = ref.strip()
    user = uow.session.get(User, ref) or uow.session.scalar(
        select(User).where(User.username == ref.lower())
    )
    if user is None:
        raise NotFound(_("No such user."), field="username")
    require(actor, permission, user)
    return user


def disable_user(uow: UnitOfWork, actor: Actor, ref: str) -> AccountView:
    user = _find_user(uow, actor, ref, Permission.USER_DISABLE)
    user.active = False
    close_all_sessions(uow.session, user.id)
    record(uow.session, actor, Action.USER_DISABLE, object_type="user", object_id=user.id)
    disabled = _view(user, user.organisation.name)
    uow.commit()
    return disabled


def reset_mfa(uow: UnitOfWork, actor: Actor, ref: str) -> AccountView:
    """The user enrols a new authenticator at their next login; open sessions end now."""
    user = _find_user(uow, actor, ref, Permission.USER_RESET_MFA)
    user.totp_seed_encrypted = None
    user.totp_confirmed = False
    user.totp_last_step = 0
    close_all_sessions(uow.session, user.id)
    record(uow.session, actor, Action.USER_RESET_MFA, object_type="user", object_id=user.id)
    reset = _view(user, user.organisation.name)
    uow.commit()
    return reset


def end_sessions(uow: UnitOfWork, actor: Actor, ref: str) -> AccountView:
    """Every session of the account ends now (its clients are signed out at their next
    request); the account itself stays as it was, and its holder may sign in again."""
    user = _find_user(uow, actor, ref, Permission.USER_END_SESSIONS)
    close_all_sessions(uow.session, user.id)
    record(uow.session, actor, Action.USER_END_SESSIONS, object_type="user", object_id=user.id)
    ended = _view(user, user.organisation.name)
    uow.commit()
    return ended


def valid_work_phone(raw: str | None) -> str | None:
    """The phone as typed, its spaces tidied, or None for none; 422 on `work_phone` when it is
    not a phone number (the message says what one looks like)."""
    phone = " ".join((raw or "").split())
    if not phone:
        return None
    digits = sum(c.isdigit() for c in phone)
    if (
        len(phone) > MAX_PHONE
        or not PHONE_PATTERN.match(phone)
        or not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS
    ):
        raise InvalidInput(
            _(
                "A phone number has %(least)s to %(most)s digits with only spaces or hyphens "
                "between them, and may begin with +: e.g. 08-508 000 00.",
                least=MIN_PHONE_DIGITS,
                most=MAX_PHONE_DIGITS,
            ),
            field="work_phone",
        )
    return phone


def set_work_phone(uow: UnitOfWork, actor: Actor, ref: str, raw: str | None) -> AccountView:
    """The work phone printed on the consent forms this staff member is named on; empty
    removes it."""
    user = _find_user(uow, actor, ref, Permission.USER_UPDATE)
    user.work_phone = valid_work_phone(raw)
    record(
        uow.session,
        actor,
        Action.USER_UPDATE,
        object_type="user",
        object_id=user.id,
    )
    changed = _view(user, user.organisation.name)
    uow.commit()
    return changed


def list_users(uow: UnitOfWork, actor: Actor) -> list[AccountView]:
    require(actor, Permission.USER_LIST)
    query = (
        select(User, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .order_by(User.username)
    )
    scope = organisation_scope(actor)
    if scope is not None:
        query = query.where(User.organisation_id == scope)
    accounts = [
        _view(user, organisation_name) for user, organisation_name in uow.session.execute(query)
    ]
    # Staff names are personal data too: the list is recorded (and committed) before it shows.
    record(uow.session, actor, Action.USER_LIST, object_type="user")
    uow.commit()
    return accounts


@dataclass(frozen=True)
class StaffMember:
    id: str
    display_name: str


def group_leaders(uow: UnitOfWork, actor: Actor) -> list[StaffMember]:
    """The active group leaders of the actor's own partner organisation, to lead a group."""
    require(actor, Permission.GROUP_MANAGE)
    rows = uow.session.execute(
        select(User.id, User.display_name)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.organisation_id == partner_scope(actor),
            User.active.is_(True),
            UserRole.role == Role.GROUP_LEADER.value,
        )
        .order_by(User.display_name)
    )
    return [StaffMember(user_id, name) for user_id, name in rows]


# Built once: every record and history a social worker opens names its staff.
_DISPLAY_NAMES = ByIds(
    lambda arrays: select(User.id, User.display_name).where(in_ids(User.id, arrays))
)


def staff_names(uow: UnitOfWork, user_ids: Iterable[str]) -> dict[str, str]:
    """Display names of staff for a history (work identities, not protected persons)."""
    return {user_id: name for user_id, name in _DISPLAY_NAMES.rows(uow.session, user_ids)}
