"""Backups (`flask backup create` / `flask backup restore`): a backup restores into an empty
database whole, and the restore verifies it (the access log's chain, personal fields opened);
an altered, cut or extended file, or one for another key, is refused and restores nothing; no
personal field is in clear in the file, nor in the dump inside it; a backup taken while the
service writes is consistent; and once a purge is followed by the next key epoch (rotate,
retire the old version), a backup taken before the purge can no longer reveal the person.

On the database of TEST_DATABASE_URL's kind: SQLite files, or PostgreSQL databases of their
own (which need pg_dump and pg_restore)."""

from __future__ import annotations

import io
import itertools
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy.engine import make_url

from audit.actions import Action
from audit.record import record
from config.settings import ConfigError, Settings, check_settings
from crypto import DecryptionError, LocalKeyring
from referral import backup_file, create_app
from referral.actors import Actor
from referral.backup_file import MAGIC, key_id_of, read_backup, read_header
from referral.db import migrate
from referral.db.audit_log import AuditEntry
from referral.db.data_keys import DataKey
from referral.db.encryption import session_cipher
from referral.db.interest import InterestRegistration
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.services import children, interest
from tests.factories import SYSTEM, Factory, invented_personnummer, social_worker_actor
from tests.integration.test_audit_log import with_own_checkpoints
from tests.integration.test_canary_scan import (
    _app_on,
    _write_canaries_through_the_normal_flows,
    canaries,
    found_in,
)
from tests.own_database import empty_postgres_database

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
TOOLS_MISSING = ON_POSTGRES and not (shutil.which("pg_dump") and shutil.which("pg_restore"))
pytestmark = pytest.mark.skipif(
    TOOLS_MISSING, reason="a PostgreSQL backup needs pg_dump and pg_restore, not installed here"
)

PURGED_CHILD = "Gallrad Qwyxelinda"
KEPT_CHILD = "Kvarboende Zorvantes"
_numbers = itertools.count(1)


@dataclass
class Service:
    app: Flask
    settings: Settings

    def cli(self, *args: str) -> Result:
        return self.app.test_cli_runner().invoke(args=list(args))


def _service(settings: Settings) -> Service:
    return Service(create_app(settings), settings)


_made_on_the_server: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _drop_our_databases(base_settings: Settings) -> Iterator[None]:
    """The PostgreSQL databases this module made are dropped when it ends."""
    yield
    if not _made_on_the_server:
        return
    admin = create_engine(
        make_url(base_settings.database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        for name in _made_on_the_server:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    _made_on_the_server.clear()


@pytest.fixture(scope="module")
def migrated_template(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated once, copied for each test that wants a migrated one (migrating
    is most of a test's time otherwise)."""
    url = make_url(base_settings.database_url)
    if url.get_backend_name() == "sqlite":
        template = f"sqlite:///{tmp_path_factory.mktemp('backups') / 'template.sqlite3'}"
    else:
        template = empty_postgres_database(
            base_settings.database_url, f"{url.database}_backups_template"
        )
        _made_on_the_server.append(f"{url.database}_backups_template")
    migrate.upgrade(template)
    yield template


def _settings_of_its_own(base: Settings, folder: Path, database_url: str) -> Settings:
    """A database, keyring, checkpoint folder and backup key of its own (rotation changes the
    keyring; a restore is checked against the checkpoints)."""
    LocalKeyring.create(folder / "keyring.json")
    return replace(
        with_own_checkpoints(base, folder),
        database_url=database_url,
        keyring_path=str(folder / "keyring.json"),
        backup_key=secrets.token_urlsafe(48),
    )


@pytest.fixture
def service(
    base_settings: Settings,
    migrated_template: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    url = _own_database(base_settings.database_url, tmp_path_factory, migrated_template)
    running = _service(_settings_of_its_own(base_settings, tmp_path, url))
    yield running
    get_database(running.app).engine.dispose()


def _own_database(like: str, tmp: pytest.TempPathFactory, template: str | None = None) -> str:
    """A new database beside `like` (a SQLite file, or a PostgreSQL database): empty, or a
    copy of the migrated `template`."""
    number = next(_numbers)
    url = make_url(like)
    if url.get_backend_name() == "sqlite":
        own = tmp.mktemp("backups") / f"db{number}.sqlite3"
        if template is not None:
            shutil.copyfile(str(make_url(template).database), own)
        return f"sqlite:///{own}"
    suite = re.sub(r"_backups(\d+|_template)$", "", str(url.database))
    name = f"{suite}_backups{number}"
    _made_on_the_server.append(name)
    if template is None:
        return empty_postgres_database(like, name)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(
            text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
        )
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def empty_database(  # type: ignore[no-untyped-def]
    service: Service, migrated_template: str, tmp_path_factory: pytest.TempPathFactory
):
    """A new, empty database on the service's kind of server, with the service's keys."""
    made: list[Service] = []

    def make(*, migrated: bool = False) -> Service:
        template = migrated_template if migrated else None
        url = _own_database(service.settings.database_url, tmp_path_factory, template)
        made.append(_service(replace(service.settings, database_url=url)))
        return made[-1]

    yield make
    for other in made:
        get_database(other.app).engine.dispose()


def _children(service: Service, names: list[str]) -> list[str]:
    factory = Factory(service.app, service.settings)
    worker = social_worker_actor(factory)
    with service.app.app_context(), UnitOfWork(request_session()) as uow:
        return [
            children.register_child(
                uow, worker, children.NewChild(invented_personnummer(2014, 2, 1 + i), name)
            ).id
            for i, name in enumerate(names)
        ]


def _declined_interest(service: Service, child_name: str) -> str:
    """A family home's interest registration the district declined: purged by the next run."""
    factory = Factory(service.app, service.settings)
    district = factory.organisation("district")
    leader = factory.account("group_leader")
    partner_leader = Actor(
        leader.user.id, leader.username, leader.user.organisation_id, frozenset({Role.GROUP_LEADER})
    )
    with service.app.app_context(), UnitOfWork(request_session()) as uow:
        from referral import clock

        registered = interest.register_interest(
            uow,
            partner_leader,
            interest.NewInterest(
                child_name, invented_personnummer(2016, 6, 6), district.id, "070-1", clock.today()
            ),
            clock.today(),
        )
        # The reason is sealed in the access log's entry: the log has personal fields too.
        interest.decline(
            uow, social_worker_actor(factory, district), registered.id, "Placerad annorstädes"
        )
    return registered.id


def _every_row(service: Service) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, in a fixed order: what "restores everything" compares."""
    engine = create_engine(service.settings.database_url)
    metadata = MetaData()
    metadata.reflect(engine)
    try:
        with engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def _restored_rows(service: Service) -> dict[str, list[tuple[object, ...]]]:
    """Every row but what the restore itself added: its entry in the log, and so the head
    (which `audit verify` checks)."""
    rows = _every_row(service)
    rows["audit_entries"] = [r for r in rows["audit_entries"] if Action.BACKUP_RESTORE not in r]
    del rows["audit_head"]
    return rows


def _backed_up_rows(service: Service) -> dict[str, list[tuple[object, ...]]]:
    rows = _every_row(service)
    del rows["audit_head"]
    return rows


def _name_of(service: Service, model: type[Child] | type[InterestRegistration], row: str) -> str:
    with service.app.app_context():
        found = request_session().get(model, row)
        assert found is not None
        return str(found.child_name if isinstance(found, InterestRegistration) else found.name)


def test_a_backup_restores_everything_into_an_empty_database_and_the_restore_verifies(
    service: Service, empty_database, tmp_path: Path
) -> None:
    kept = _children(service, [KEPT_CHILD, "Andra Barnet Påhittat"])
    _declined_interest(service, PURGED_CHILD)
    assert service.cli("audit", "checkpoint").exit_code == 0  # a signed checkpoint to match
    (tmp_path / "backups").mkdir()
    path = tmp_path / "backups" / "service.backup"

    made = service.cli("backup", "create", str(path))

    assert made.exit_code == 0, made.output
    assert path.stat().st_mode & 0o777 == 0o600
    target = empty_database()
    restored = target.cli("backup", "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert "1 checkpoints verified" in restored.output
    assert "0 did not open" in restored.output
    assert _restored_rows(target) == _backed_up_rows(service)
    assert _name_of(target, Child, kept[0]) == KEPT_CHILD
    assert target.cli("audit", "verify").exit_code == 0  # the service's own check agrees
    # No copy in the clear is left behind, beside the backup or either database.
    places = {path.parent, *(_folder_of(s) for s in (service, target) if _folder_of(s))}
    assert [p for place in places for p in place.glob(".referral-backup-*")] == []
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def _folder_of(service: Service) -> Path | None:
    url = make_url(service.settings.database_url)
    return Path(str(url.database)).parent if url.get_backend_name() == "sqlite" else None


def test_a_backup_never_overwrites_a_file_and_a_restore_refuses_a_database_with_tables(
    service: Service, empty_database, tmp_path: Path
) -> None:
    _children(service, [KEPT_CHILD])
    path = tmp_path / "service.backup"
    assert service.cli("backup", "create", str(path)).exit_code == 0
    again = service.cli("backup", "create", str(path))
    assert again.exit_code != 0 and "never overwrites" in again.output

    migrated = empty_database(migrated=True)
    refused = migrated.cli("backup", "restore", str(path))
    assert refused.exit_code != 0 and "not empty" in refused.output

    forced = migrated.cli("backup", "restore", "--force", str(path))
    assert forced.exit_code == 0, forced.output
    assert _restored_rows(migrated) == _backed_up_rows(service)


def _chunks(data: bytes) -> list[tuple[int, int]]:
    """Where each sealed chunk of a backup file begins and ends (its length field included)."""
    _header, prefix = read_header(io.BytesIO(data), "file")
    found, at = [], len(prefix)
    while at < len(data):
        end = at + 4 + int.from_bytes(data[at : at + 4], "big")
        found.append((at, end))
        at = end
    return found


def _flip_a_byte_in_the_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def _last_chunk_dropped(data: bytes) -> bytes:
    return data[: _chunks(data)[-1][0]]


def _two_chunks_swapped(data: bytes) -> bytes:
    (a, b), (c, d) = _chunks(data)[1:3]
    return data[:a] + data[c:d] + data[a:b] + data[d:]


def _new_key_id_in_the_header(data: bytes) -> bytes:
    header, _prefix = read_header(io.BytesIO(data), "file")
    return data.replace(header.key_id.encode(), key_id_of(b"k" * 32).encode())


def _database_kind_edited(data: bytes) -> bytes:
    header, _prefix = read_header(io.BytesIO(data), "file")
    kind = f'"{header.database}"'.encode()
    return data.replace(kind, kind[:-2] + b'X"', 1)


TAMPERINGS = {
    "one byte changed": (_flip_a_byte_in_the_middle, "altered or damaged at chunk"),
    "two chunks swapped": (_two_chunks_swapped, "altered or damaged at chunk 2"),
    "cut short": (lambda data: data[: len(data) - 100], "cut short"),
    "last chunk dropped": (_last_chunk_dropped, "cut short"),
    "bytes appended": (lambda data: data + b"\0" * 20, "after its last chunk"),
    "header edited": (_database_kind_edited, "altered or damaged at chunk 1"),
    "another key named": (_new_key_id_in_the_header, "was encrypted with backup key"),
    "not a backup": (lambda data: b"SQLite format 3\0" + data[16:], "not a backup"),
}


@pytest.fixture(scope="module")
def a_backup(
    base_settings: Settings, migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, bytes]:
    """One backup in many small chunks, whose copies the tamperings alter."""
    folder = tmp_path_factory.mktemp("to-alter")
    url = _own_database(base_settings.database_url, tmp_path_factory, migrated_template)
    source = _service(_settings_of_its_own(base_settings, folder, url))
    _children(source, [KEPT_CHILD])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backup_file, "CHUNK_BYTES", 4096)  # the smallest
        made = source.cli("backup", "create", str(folder / "service.backup"))
    get_database(source.app).engine.dispose()
    assert made.exit_code == 0, made.output
    data = (folder / "service.backup").read_bytes()
    assert len(_chunks(data)) > 3
    return source.settings, data


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
@pytest.mark.asvs("V11.3.3")
def test_an_altered_backup_is_refused_with_a_clear_error_and_nothing_is_restored(
    a_backup: tuple[Settings, bytes],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    tampering: str,
) -> None:
    settings, data = a_backup
    change, message = TAMPERINGS[tampering]
    path = tmp_path / "altered.backup"
    path.write_bytes(change(data))
    url = _own_database(settings.database_url, tmp_path_factory)
    target = _service(replace(settings, database_url=url))

    result = target.cli("backup", "restore", str(path))

    get_database(target.app).engine.dispose()
    assert result.exit_code != 0
    assert message in result.output
    assert "Nothing was restored" in result.output
    assert _every_row(target) == {}


def test_a_restore_with_another_backup_key_names_both_keys_and_restores_nothing(
    service: Service, empty_database, tmp_path: Path
) -> None:
    path = tmp_path / "service.backup"
    assert service.cli("backup", "create", str(path)).exit_code == 0
    target = empty_database()
    other = _service(replace(target.settings, backup_key=secrets.token_urlsafe(48)))

    result = other.cli("backup", "restore", str(path))

    assert result.exit_code != 0
    assert key_id_of(service.settings.backup_key.encode()) in result.output
    assert key_id_of(other.settings.backup_key.encode()) in result.output
    assert _every_row(target) == {}
    get_database(other.app).engine.dispose()


def test_the_commands_refuse_a_missing_or_well_known_backup_key(
    service: Service, tmp_path: Path
) -> None:
    for key, problem in (("", "is missing"), ("changeme", "is a well-known default")):
        keyless = _service(replace(service.settings, backup_key=key))
        result = keyless.cli("backup", "create", str(tmp_path / "none.backup"))
        get_database(keyless.app).engine.dispose()
        assert result.exit_code != 0
        assert f"REFERRAL_BACKUP_KEY {problem}" in result.output
    assert not (tmp_path / "none.backup").exists()


def _dump_inside(path: Path, settings: Settings, tmp_path: Path) -> bytes:
    """The dump the backup file seals, decrypted; on PostgreSQL as pg_restore's SQL, since
    pg_dump's own format compresses (a name would not be found in it even in clear)."""
    plain = io.BytesIO()
    with path.open("rb") as sealed:
        read_backup(sealed, settings.backup_key.encode(), plain, str(path))
    if not ON_POSTGRES:
        return plain.getvalue()
    dump = tmp_path / "dump"
    dump.write_bytes(plain.getvalue())
    pg_restore = shutil.which("pg_restore")
    assert pg_restore is not None
    return subprocess.run(
        [pg_restore, "--file=-", str(dump)], check=True, capture_output=True
    ).stdout


@pytest.mark.parametrize("plaintext", [False, True], ids=["encrypted", "negative-control"])
@pytest.mark.asvs("V14.2.4")
def test_no_personal_field_is_in_clear_in_the_backup_file_nor_in_the_dump_it_seals(
    service: Service,
    migrated_template: str,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    plaintext: bool,
) -> None:
    """The negative control stores the canaries in clear: the dump inside then shows them,
    so the scan finds what is there, and the file sealing that dump still does not."""
    url = _own_database(service.settings.database_url, tmp_path_factory, migrated_template)
    app = _app_on(replace(service.settings, database_url=url), url, plaintext)
    _write_canaries_through_the_normal_flows(app, service.settings)
    path = tmp_path / "canary.backup"
    made = app.test_cli_runner().invoke(args=["backup", "create", str(path)])
    get_database(app).engine.dispose()
    assert made.exit_code == 0, made.output

    assert path.read_bytes().startswith(MAGIC)
    assert found_in(path.read_bytes()) == []
    inside = _dump_inside(path, service.settings, tmp_path)
    if plaintext:
        assert _canaries_in(inside) != []
    else:
        assert _canaries_in(inside) == []


def _canaries_in(dump: bytes) -> list[bytes]:
    """The canaries' forms found in a dump, also as the hex in which pg_restore's SQL writes
    a bytea column (where the negative control's clear text sits)."""
    return found_in(dump) + [form for form in canaries() if form.hex().encode() in dump]


def test_a_backup_taken_during_a_write_waits_for_it_and_holds_it_whole(
    service: Service, empty_database, tmp_path: Path
) -> None:
    """A write under way has appended to the access log and moved its head, uncommitted: a
    copy mixing it in, or half of it, would break the chain or the head's link. The backup
    records itself in the log first, so it waits for that write to commit, and then copies
    one committed moment: the write whole, and the backup's own entry after it."""
    _children(service, [KEPT_CHILD])
    path = tmp_path / "during.backup"
    with service.app.app_context():
        writing = get_database(service.app).new_session()
        try:
            entries_before = writing.scalar(select(func.count()).select_from(AuditEntry))
            record(writing, SYSTEM, Action.CHILD_LIST, object_type="child")
            writing.flush()  # the entry and the new head are written, not committed
            with ThreadPoolExecutor(max_workers=1) as pool:
                backup = pool.submit(service.cli, "backup", "create", str(path))
                time.sleep(1.0)
                assert not backup.done()  # waiting for the write under way
                writing.commit()
                made = backup.result(timeout=60)
        finally:
            writing.close()
    assert made.exit_code == 0, made.output
    target = empty_database()
    restored = target.cli("backup", "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert f"Access log: {entries_before + 2} entries" in restored.output


def _unwrap_key_of(service: Service, registration_id: str) -> None:
    """Unwrap the purged registration's data key with the service's keyring (raises when the
    keyring cannot)."""
    with service.app.app_context():
        session = request_session()
        row = session.scalars(
            select(DataKey).where(DataKey.holder == f"interest:{registration_id}")
        ).one()
        session_cipher(session).keys.unwrap(row)


@pytest.mark.asvs("V14.2.7")
def test_after_a_purge_and_the_next_key_epoch_a_backup_from_before_no_longer_reveals_the_person(
    service: Service, empty_database, tmp_path: Path
) -> None:
    kept = _children(service, [KEPT_CHILD])
    purged = _declined_interest(service, PURGED_CHILD)
    before = tmp_path / "before-the-purge.backup"
    assert service.cli("backup", "create", str(before)).exit_code == 0

    run = service.cli("gallring", "run")
    assert "Purged 1 of 1 due" in run.output, run.output
    with service.app.app_context():
        row = request_session().get(InterestRegistration, purged)
        assert row is not None and row._child_name is None  # type: ignore[attr-defined]

    # The purge alone does not reach the backup: restored now, it still names the child.
    still = empty_database()
    assert still.cli("backup", "restore", str(before)).exit_code == 0
    assert _name_of(still, InterestRegistration, purged) == PURGED_CHILD

    # The next key epoch: every live data key is rewrapped, and the old version destroyed.
    old = LocalKeyring(service.settings.keyring_path).primary()
    assert service.cli("crypto", "rotate").exit_code == 0
    retired = service.cli("crypto", "retire", "--kek-id", old.kek_id, "--version", str(old.version))
    assert retired.exit_code == 0, retired.output

    after = empty_database()
    restored = after.cli("backup", "restore", str(before))

    assert restored.exit_code == 1
    assert "this keyring does not hold" in restored.output
    assert "VERIFICATION FAILED" in restored.output
    with pytest.raises(DecryptionError):
        _unwrap_key_of(after, purged)
    with pytest.raises(DecryptionError):
        _name_of(after, InterestRegistration, purged)
    # The service itself reads on, and a backup of this epoch restores and verifies.
    assert _name_of(service, Child, kept[0]) == KEPT_CHILD
    now = tmp_path / "this-epoch.backup"
    assert service.cli("backup", "create", str(now)).exit_code == 0
    fresh = empty_database()
    assert fresh.cli("backup", "restore", str(now)).exit_code == 0
    assert _name_of(fresh, Child, kept[0]) == KEPT_CHILD


def test_the_backup_file_names_its_format_and_key_and_holds_no_keyring(
    service: Service, tmp_path: Path
) -> None:
    _children(service, [KEPT_CHILD])
    path = tmp_path / "service.backup"
    assert service.cli("backup", "create", str(path)).exit_code == 0
    header, _prefix = read_header(io.BytesIO(path.read_bytes()), str(path))
    assert header.format == 1
    assert header.key_id == key_id_of(service.settings.backup_key.encode())
    inside = _dump_inside(path, service.settings, tmp_path)
    keyring = Path(service.settings.keyring_path).read_bytes()
    assert b'"material"' in keyring
    material = [line.split(b'"')[3] for line in keyring.splitlines() if b'"material"' in line]
    assert material and not any(value in inside for value in material)
    with service.app.app_context():
        entries = request_session().execute(text("SELECT count(*) FROM audit_entries")).scalar()
    assert entries


def test_a_backup_key_shared_with_another_purpose_is_refused_at_start(
    base_settings: Settings,
) -> None:
    with pytest.raises(ConfigError, match="AUDIT_KEY and REFERRAL_BACKUP_KEY are the same"):
        check_settings(replace(base_settings, backup_key=base_settings.audit_key))
    with pytest.raises(ConfigError, match="BACKUP_KEY is shorter than"):
        check_settings(replace(base_settings, backup_key="kort-nyckel"))


def _backup_entries(service: Service) -> list[tuple[str, str | None, str | None]]:
    with service.app.app_context():
        rows = request_session().execute(
            select(AuditEntry.action, AuditEntry.object_id, AuditEntry.actor_id)
            .where(AuditEntry.action.in_([Action.BACKUP_CREATE, Action.BACKUP_RESTORE]))
            .order_by(AuditEntry.sequence)
        )
        return [(str(action), object_id, actor_id) for action, object_id, actor_id in rows]


def test_the_dpo_finds_every_backup_taken_and_every_restore_in_the_access_log(
    service: Service, empty_database, tmp_path: Path
) -> None:
    _children(service, [KEPT_CHILD])
    path = tmp_path / "service.backup"
    assert service.cli("backup", "create", str(path)).exit_code == 0
    header, _prefix = read_header(io.BytesIO(path.read_bytes()), str(path))

    # Recorded before the database was read: the backup holds its own entry.
    taken = (Action.BACKUP_CREATE.value, header.backup_id, "system:backup-create")
    assert _backup_entries(service) == [taken]
    target = empty_database()
    restored = target.cli("backup", "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert _backup_entries(target) == [
        taken,
        (Action.BACKUP_RESTORE.value, header.backup_id, "system:backup-restore"),
    ]
    assert target.cli("audit", "verify").exit_code == 0
