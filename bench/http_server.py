"""The servers of the whole-request benchmark: the service started as `make run` starts it, and
the floor app under the same gunicorn settings, each on a free loopback port.

A data set lives in a work directory of its own under instance/bench/http/ (git-ignored, 0700):
its development secrets (as `make run` makes instance/dev.env), keyring, signing keys, the
access log's checkpoints, the SQLite files, and the manifest of what was seeded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.dev_secrets import ensure as ensure_dev_secrets
from referral.db.migrate import alembic_config

REPOSITORY = Path(__file__).resolve().parents[1]
BENCH = REPOSITORY / "bench"
WORK_ROOT = REPOSITORY / "instance" / "bench" / "http"
BIN = Path(sys.executable).parent
WORKERS = 2  # as `make run`
START_TIMEOUT_SECONDS = 90.0
POSTGRES_DATABASE = "bench_http"


def migration_head() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return "+".join(sorted(heads))


def migrates_forward(seeded_head: str) -> bool:
    """Whether a data set seeded at `seeded_head` reaches today's schema by `flask db upgrade`
    (run before every serve): its head is today's or one of today's heads' ancestors. A
    head this code does not know (a newer checkout's) is never run against."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    ancestors = {
        revision.revision
        for head in script.get_heads()
        for revision in script.iterate_revisions(head, "base")
    }
    return seeded_head in ancestors


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Workspace:
    """One data set's directory and database."""

    kind: str  # sqlite | postgresql
    directory: Path
    database_url: str
    floor_url: str

    @classmethod
    def for_sizes(cls, kind: str, slug: str, default_sizes: bool, server_url: str) -> Workspace:
        directory = WORK_ROOT / f"{kind}-{slug}"
        if kind == "sqlite":
            return cls(
                kind,
                directory,
                f"sqlite:///{directory / 'referral.sqlite3'}",
                f"sqlite:///{directory / 'floor.sqlite3'}",
            )
        name = POSTGRES_DATABASE if default_sizes else f"{POSTGRES_DATABASE}_{slug}"
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        return cls(kind, directory, url, url)

    @property
    def manifest_path(self) -> Path:
        return self.directory / "manifest.json"

    def environment(self) -> dict[str, str]:
        """What `make run` exports (the dev secrets, development mode, demo mode), with every
        path pointed into this work directory."""
        secrets_file = self.directory / "dev.env"
        ensure_dev_secrets(secrets_file)
        env = dict(os.environ)
        for line in secrets_file.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            if name.strip():
                env[name.strip()] = value.strip()
        env.update(
            {
                "FLASK_APP": "referral",
                "REFERRAL_ENV": "development",
                "REFERRAL_DEMO": "1",
                "REFERRAL_DATABASE_URL": self.database_url,
                "REFERRAL_KEYRING_PATH": str(self.directory / "keyring.json"),
                "REFERRAL_AUDIT_CHECKPOINT_DIR": str(self.directory / "audit-checkpoints"),
                "REFERRAL_AUDIT_SIGNING_KEY_PATH": str(self.directory / "audit-signing-key.pem"),
                "REFERRAL_RETURN_SIGNING_KEY_PATH": str(self.directory / "return-signing-key.pem"),
            }
        )
        return env

    def forget(self, server_url: str) -> None:
        """Start over: this work directory and (on PostgreSQL) this data set's own database."""
        if self.directory.exists():
            shutil.rmtree(self.directory)
        if self.kind == "postgresql":
            name = make_url(self.database_url).database
            assert name and name.startswith(POSTGRES_DATABASE)  # never anyone else's database
            admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
            finally:
                admin.dispose()

    def ensure_database(self, server_url: str) -> None:
        if self.kind != "postgresql":
            return
        name = make_url(self.database_url).database
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                exists = connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
                if not exists:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()

    def prepare(self) -> dict[str, str]:
        """`make run`'s steps before serving: keys, the log's signing key, the return-signing
        key, the schema. Each is a no-op when done already."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        env = self.environment()
        for command in (
            ("crypto", "init"),
            ("audit", "init"),
            ("gallring", "init"),
            ("db", "upgrade"),
        ):
            flask(env, *command)
        return env


def flask(env: dict[str, str], *arguments: str, timeout: float = 3600) -> str:
    """An operator's `flask …` command; its output, or the run stops with it."""
    done = subprocess.run(
        [str(BIN / "flask"), *arguments],
        env=env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def peak_rss_mb(self) -> list[float]:
        """VmHWM of each worker (the highest resident set it has had), in MB."""
        peaks = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(round(int(line.split()[1]) / 1024, 1))
        return peaks


@contextmanager
def serve(
    name: str,
    app: str,
    env: dict[str, str],
    log_dir: Path,
    *,
    chdir: Path | None = None,
    config: Path | None = None,
    health: str = "/healthz",
) -> Iterator[Server]:
    """gunicorn with `make run`'s settings (2 sync workers, the access log on standard
    output, here into a file) until the block ends."""
    port = free_port()
    log = log_dir / f"{name}.log"
    command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)]
    command += ["--access-logfile", "-"]
    if chdir is not None:
        command += ["--chdir", str(chdir)]
    if config is not None:
        command += ["--config", str(config)]
    command.append(app)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=REPOSITORY, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_serving(server, health)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(server: Server, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(
                f"{server.name}: gunicorn exited with {server.process.returncode}:\n"
                + server.log.read_text(errors="replace")[-4000:]
            )
        try:
            if requests.get(server.url + path, timeout=5).status_code == 200:
                # Both workers up, not only the first to answer.
                while len(server.worker_pids()) < WORKERS and time.monotonic() < deadline:
                    time.sleep(0.1)
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server.name}: no answer within {START_TIMEOUT_SECONDS} s")
