"""The whole request, measured from outside against the floor in the same run (issue 18).

The service is started as `make run` starts it (gunicorn, 2 workers, referral.wsgi:app, after
crypto/audit/gallring init and db upgrade) on SQLite and on the local PostgreSQL server, over a
data set seeded through the service's own code (bench/http_seed.py; reused between runs, keyed
by its sizes and the migration head). The floor app (bench/floor_app.py: one plaintext row of
six columns by id, no encryption, no audit, no access control) runs under the same gunicorn
settings on the same kind of database, before and after the service's workloads. Clients log
in through the forms (password, TOTP code, CSRF) and wrk drives each workload with fixed
connections and duration on loopback; every non-2xx answer is counted and shown.

Run: make bench-http, or .venv/bin/python bench/http_bench.py [--databases sqlite]
[--children N] [--audit-entries N] [--duration S] [--connections C] [--reseed] [--growth]
(writes bench/results/http-<sqlite|postgresql>.json, and -growth.json with --growth).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import floor_app
from http_load import LoadFigures, Session, Workload, log_in, run_wrk, wrk_available
from http_report import growth_table, markdown_table, text_table
from http_seed import DESCRIPTION_VERSION, Manifest, Seeder, Sizes
from http_server import (
    BENCH,
    REPOSITORY,
    Server,
    Workspace,
    flask,
    migrates_forward,
    migration_head,
    serve,
)

from config.settings import load_settings
from referral import clock, create_app
from referral.request_scope import get_database

RESULTS = HERE / "results"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_CHILDREN = 10_000
DEFAULT_ENTRIES = 1_000_000
GROWTH = "1000:100000,10000:1000000,100000:1000000"
FLOOR_ROWS = 10_000
SEARCHED_PEOPLE = 1_000
PROFILE_CONFIG = HERE / "http_profile.py"


@dataclass(frozen=True)
class Options:
    connections: int
    duration: int
    threads: int
    reseed: bool
    server_url: str
    profile: str | None


# ---------------------------------------------------------------------------------------------
# The data set


def data_set(
    kind: str, sizes: Sizes, options: Options
) -> tuple[Workspace, Manifest, dict[str, str]]:
    """The seeded data set for `sizes`, reused when its key (sizes, migration head) matches."""
    sizes.check()
    key = sizes.key(migration_head())
    slug = f"c{sizes.children}-a{sizes.audit_entries}"
    defaults = Sizes.for_children(DEFAULT_CHILDREN, DEFAULT_ENTRIES)
    workspace = Workspace.for_sizes(kind, slug, sizes == defaults, options.server_url)
    manifest = None
    if workspace.manifest_path.exists() and not options.reseed:
        manifest = Manifest.from_json(json.loads(workspace.manifest_path.read_text()))
        if manifest.key != key and not migrated_forward(kind, manifest, sizes):
            print(f"{kind}: the data set is {manifest.key}, not {key}: seeding anew", flush=True)
            manifest = None
    if manifest is None:
        workspace.forget(options.server_url)
    workspace.ensure_database(options.server_url)
    env = workspace.prepare()
    if manifest is None:
        print(f"{kind}: seeding {sizes} through the services", flush=True)
        app = create_app(load_settings(seeding_environment(env, kind)))
        try:
            manifest = Seeder(app, sizes, random.Random(20261124)).run(key)  # noqa: S311
        finally:
            get_database(app).engine.dispose()
        save(workspace, manifest)
        print(f"{kind}: seeded in {manifest.seconds['total']:.0f} s", flush=True)
    else:
        save(workspace, manifest)  # with its new schema, if `prepare` just upgraded it
        print(f"{kind}: reusing the data set {key} seeded {manifest.seeded_at}", flush=True)
    floor_app.seed(workspace.floor_url, FLOOR_ROWS)
    return workspace, manifest, env


def migrated_forward(kind: str, manifest: Manifest, sizes: Sizes) -> bool:
    """A data set of the same sizes seeded at an earlier schema is kept and upgraded (as
    production's data would be: `prepare` runs `flask db upgrade` before every serve), rather
    than seeded anew for hours when a migration only adds an index. Its manifest says so."""
    seeded_head = manifest.key.rpartition("-")[2]
    # The same sizes: the key Sizes.key would have made for them at the seeding's head.
    if manifest.key != sizes.key(seeded_head) or not migrates_forward(seeded_head):
        return False
    head = migration_head()
    moved = f"{seeded_head} → {head} on {datetime.now(UTC).date().isoformat()}"
    print(f"{kind}: the data set was seeded at migration {seeded_head}: upgraded to {head}")
    manifest.migrated.append(moved)
    manifest.key = sizes.key(head)
    return True


def seeding_environment(env: dict[str, str], kind: str) -> dict[str, str]:
    """The seeding's own connection does not wait for each commit to reach the disk on
    PostgreSQL (synchronous_commit=off: a crash could lose the last commits, never corrupt
    them); it is tens of thousands of small transactions. The server keeps its default."""
    if kind != "postgresql":
        return env
    url = make_url(env["REFERRAL_DATABASE_URL"])
    url = url.update_query_dict({"options": "-c synchronous_commit=off"})
    return {**env, "REFERRAL_DATABASE_URL": url.render_as_string(hide_password=False)}


def save(workspace: Workspace, manifest: Manifest) -> None:
    path = workspace.manifest_path
    path.write_text(json.dumps(manifest.to_json(), indent=1), encoding="utf-8")
    path.chmod(0o600)


def audit_entries(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT count(*) FROM audit_entries")) or 0)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# The workloads


def floor_workload() -> Workload:
    return Workload(
        "floor",
        "floor: one plain row by id (GET /rows/<id>)",
        None,
        [(f"/rows/{number}", None) for number in range(1, FLOOR_ROWS + 1)],
        expect="Exempelsdotter",
    )


def service_workloads(
    manifest: Manifest, sessions: dict[str, Session], rng: random.Random
) -> list[Workload]:
    today = clock.today()
    lists = manifest.districts[0]
    writes = manifest.districts[1 + manifest.runs % (len(manifest.districts) - 1)]
    people = [child for district in manifest.districts for child, _ in district.children]
    searched = rng.sample(people, min(SEARCHED_PEOPLE, len(people)))

    def consent_body(guardian_id: str) -> str:
        return json.dumps(
            {
                "party": guardian_id,
                "decision": "given",
                "categories": ["name", "age", "contact_details", "participation"],
                "decided_on": today.isoformat(),
                "valid_until": (today + timedelta(days=365)).isoformat(),
                "method": "written",
                "description_version": DESCRIPTION_VERSION,
            }
        )

    return [
        # Two rungs below the service's reads, to show what the stack itself costs: a
        # request that signs no one in and reads one constant, and a signed-in request
        # that reads no personal data and writes no access-log entry.
        Workload(
            "health",
            "the stack: health check, no session, SELECT 1 (GET /healthz)",
            None,
            [("/healthz", None)],
            expect='"ok"',
        ),
        Workload(
            "me",
            "the stack: signed-in group leader asks who they are (GET /api/v1/me)",
            sessions["single_leader"],
            [("/api/v1/me", None)],
            expect="username",
        ),
        Workload(
            "referral-read",
            "group leader reads one lawful referral (GET /api/v1/partner/referrals, inbox of 1)",
            sessions["single_leader"],
            [("/api/v1/partner/referrals", None)],
            expect="referral_id",
        ),
        Workload(
            "partner-inbox",
            f"partner's inbox page, {manifest.inbox_size} referrals (GET /partner/referrals)",
            sessions["leader"],
            [("/partner/referrals", None)],
        ),
        Workload(
            "child-read",
            "social worker reads one child (GET /api/v1/children/<id>)",
            sessions["worker"],
            [(f"/api/v1/children/{child}", None) for child, _ in lists.children],
            expect="guardians",
        ),
        Workload(
            "referral-list",
            f"social worker's list of {len(lists.children)} referrals (GET /api/v1/referrals)",
            sessions["worker"],
            [("/api/v1/referrals", None)],
        ),
        Workload(
            "consent-write",
            "social worker records a consent (POST /api/v1/children/<id>/consents)",
            sessions["writer"],
            [
                (f"/api/v1/children/{child}/consents", consent_body(guardian))
                for child, guardian in writes.children
            ],
            method="POST",
            json_body=True,
        ),
        Workload(
            "audit-search",
            "DPO searches the log by person (GET /api/v1/audit/entries?subject=<id>)",
            sessions["dpo"],
            [(f"/api/v1/audit/entries?subject={person}", None) for person in searched],
            expect="entries",
        ),
    ]


def check_sizes(base: str, manifest: Manifest, sessions: dict[str, Session]) -> None:
    """The reads show what the data set promises: one referral, the inbox, the list of 50."""
    expected = {
        "single_leader": ("/api/v1/partner/referrals", 1),
        "leader": ("/api/v1/partner/referrals", manifest.inbox_size),
        "worker": ("/api/v1/referrals", len(manifest.districts[0].children)),
    }
    for who, (path, count) in expected.items():
        answer = sessions[who].http.get(base + path, timeout=60)
        if answer.status_code != 200 or len(answer.json()) != count:
            raise SystemExit(
                f"{who} sees {len(answer.json()) if answer.ok else answer.status_code} at "
                f"{path}, not {count}: the data set is not what it should be (--reseed)"
            )


def measure(
    base: str, workload: Workload, work: Path, options: Options, *, check: bool = True
) -> LoadFigures:
    if check:
        workload.check(base)
    figures = run_wrk(base, workload, work, options.connections, options.duration, options.threads)
    errors = f", {figures.non_2xx} non-2xx" if figures.non_2xx else ""
    print(
        f"  {workload.name}: {figures.requests_per_second} req/s, p50 {figures.p50_ms} ms, "
        f"p99 {figures.p99_ms} ms{errors}",
        flush=True,
    )
    return figures


def time_export(base: str, manifest: Manifest, dpo: Session) -> dict[str, Any]:
    """One request for the DPO's export of the export actor's entries, timed whole."""
    started = time.perf_counter()
    answer = dpo.http.get(
        f"{base}/dpo/audit/export",
        params={"actor": manifest.export_actor, "format": "csv"},
        timeout=600,
    )
    seconds = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"the export FAILED: {answer.status_code}\n{answer.text[:2000]}")
    rows = answer.content.count(b"\n") - 1
    if rows < manifest.export_entries:
        # Said, not fatal: a data set seeded before the seeder always added the export's
        # entries lacks them when its seeding alone filled the log (100 000 children).
        print(f"  WARNING: the export has {rows} rows, not {manifest.export_entries}")
    return {
        "expected_entries": manifest.export_entries,
        "entries": rows,
        "seconds": round(seconds, 3),
        "megabytes": round(len(answer.content) / 1e6, 1),
        "entries_per_second": round(rows / seconds),
    }


def time_verify(env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    output = flask(env, "audit", "verify")
    seconds = time.perf_counter() - started
    found = re.search(r"Intact: (\d+) entries", output)
    if not found:
        raise SystemExit(f"flask audit verify did not say intact:\n{output}")
    entries = int(found.group(1))
    return {
        "entries": entries,
        "seconds": round(seconds, 2),
        "entries_per_second": round(entries / seconds),
        "output": output.strip(),
    }


# ---------------------------------------------------------------------------------------------


def run_database(kind: str, sizes: Sizes, options: Options) -> dict[str, Any]:
    workspace, manifest, env = data_set(kind, sizes, options)
    logs = workspace.directory / "logs"
    logs.mkdir(exist_ok=True)
    entries_at_start = audit_entries(workspace.database_url)
    load_start = os.getloadavg()
    floor_env = {**env, "BENCH_FLOOR_DATABASE_URL": workspace.floor_url}
    profile_dir = logs / "profiles"
    config = None
    if options.profile:
        profile_dir.mkdir(exist_ok=True)
        env = {**env, "BENCH_PROFILE_DIR": str(profile_dir)}
        config = PROFILE_CONFIG
    rng = random.Random(manifest.runs)  # noqa: S311 - which people are searched, not secrets
    with (
        serve(
            "floor", "floor_app:create_app()", floor_env, logs, chdir=BENCH, health="/rows/1"
        ) as floor,
        serve("service", "referral.wsgi:app", env, logs, config=config) as service,
    ):
        sessions = log_in_all(service, workspace, manifest)
        check_sizes(service.url, manifest, sessions)
        workloads = service_workloads(manifest, sessions, rng)
        if options.profile:
            chosen = [w for w in workloads if w.name == options.profile]
            if not chosen:
                raise SystemExit(f"no workload {options.profile!r}")
            measure(service.url, chosen[0], logs, options)
            return {"profiled": options.profile, "profiles": str(profile_dir)}
        print(f"{kind}: load, {options.connections} connections, {options.duration} s each")
        floor_before = measure(floor.url, floor_workload(), logs, options)
        measured = [
            {
                "name": w.name,
                "label": w.description,
                "figures": asdict(measure(service.url, w, logs, options)),
            }
            for w in workloads
        ]
        floor_after = measure(floor.url, floor_workload(), logs, options, check=False)
        rss_after_load = service.peak_rss_mb()
        export = time_export(service.url, manifest, sessions["dpo"])
        print(f"  export: {export}", flush=True)
        rss_after_export = service.peak_rss_mb()
        floor_rss = floor.peak_rss_mb()
    verify = time_verify(workspace.environment())
    print(f"  verify: {verify['entries']} entries in {verify['seconds']} s", flush=True)
    manifest.runs += 1
    save(workspace, manifest)
    floor_mean = (floor_before.requests_per_second + floor_after.requests_per_second) / 2
    return {
        "benchmark": "http",
        "database": kind,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(kind, workspace.database_url),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "sizes": asdict(sizes),
        "audit_entries_at_start": entries_at_start,
        "data_set": {
            "key": manifest.key,
            "seeded_at": manifest.seeded_at,
            "seeding_seconds": manifest.seconds,
            "migrated_since": manifest.migrated,
            "runs_before_this": manifest.runs - 1,
            "inbox_size": manifest.inbox_size,
        },
        "connections": options.connections,
        "threads": options.threads,
        "duration_seconds": options.duration,
        "gunicorn_workers": 2,
        "floor": {
            "requests_per_second": round(floor_mean, 1),
            "before": asdict(floor_before),
            "after": asdict(floor_after),
            "peak_rss_mb": floor_rss,
        },
        "workloads": measured,
        "export": export,
        "verify": {k: v for k, v in verify.items() if k != "output"},
        "peak_rss_mb": {"after_load": rss_after_load, "after_export": rss_after_export},
    }


def log_in_all(service: Server, workspace: Workspace, manifest: Manifest) -> dict[str, Session]:
    writes = manifest.districts[1 + manifest.runs % (len(manifest.districts) - 1)]
    accounts = {
        "single_leader": manifest.single_leader,
        "leader": manifest.leader,
        "worker": manifest.districts[0].worker,
        "writer": writes.worker,
        "dpo": manifest.dpo,
    }
    return {
        who: log_in(
            service.url,
            workspace.database_url,
            account.username,
            manifest.password,
            account.totp_seed,
        )
        for who, account in accounts.items()
    }


def uncommitted_changes() -> bool:
    code = ["referral", "audit", "crypto", "config", "migrations"]
    command = ["git", "-C", str(REPOSITORY), "status", "--porcelain", "--", *code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return bool(done.stdout.strip())


def machine(kind: str, database_url: str) -> dict[str, Any]:
    def version(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except OSError:
            return "?"
        return (done.stdout or done.stderr).strip().splitlines()[0]

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gunicorn": version([str(Path(sys.executable).with_name("gunicorn")), "--version"]),
        "wrk": version(["wrk", "--version"]),
        "commit": version(["git", "-C", str(REPOSITORY), "rev-parse", "--short", "HEAD"]),
        # Others work in the same checkout: say whether the code measured had changes on top.
        "uncommitted_changes_to_code": uncommitted_changes(),
    }
    if kind == "sqlite":
        info["sqlite"] = sqlite3.sqlite_version
    else:
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                info["postgresql"] = connection.scalar(text("SHOW server_version"))
        finally:
            engine.dispose()
    return info


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--children", type=int, default=DEFAULT_CHILDREN)
    parser.add_argument("--groups", type=int, default=None, help="default: children / 20")
    parser.add_argument("--partners", type=int, default=None, help="default: children / 1000")
    parser.add_argument("--audit-entries", type=int, default=DEFAULT_ENTRIES)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds per workload")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--reseed", action="store_true", help="seed anew even if a data set fits")
    parser.add_argument(
        "--growth",
        nargs="?",
        const=GROWTH,
        default=None,
        metavar="CHILDREN:ENTRIES,…",
        help=f"run every size in turn (default {GROWTH})",
    )
    parser.add_argument(
        "--profile",
        default=None,
        metavar="WORKLOAD",
        help="only this workload, each worker under cProfile (bench/http_profile.py)",
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER)
    )
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    if not wrk_available():
        raise SystemExit("wrk is not installed: `make wrk` (Debian's package) first")
    options = Options(
        arguments.connections,
        arguments.duration,
        arguments.threads,
        arguments.reseed,
        arguments.postgres_url,
        arguments.profile,
    )
    kinds = [k.strip() for k in arguments.databases.split(",") if k.strip()]
    if arguments.growth:
        sizes = [
            Sizes.for_children(int(c), int(e))
            for c, e in (pair.split(":") for pair in arguments.growth.split(","))
        ]
    else:
        sizes = [
            Sizes.for_children(
                arguments.children, arguments.audit_entries, arguments.groups, arguments.partners
            )
        ]
    RESULTS.mkdir(exist_ok=True)
    tables = []
    for kind in kinds:
        results = [run_database(kind, size, options) for size in sizes]
        if options.profile:
            print(json.dumps(results, indent=2))
            continue
        suffix = "-growth" if arguments.growth else ""
        document: Any = results if arguments.growth else results[0]
        out = RESULTS / f"http-{kind}{suffix}.json"
        out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
        for result in results:
            tables.append(text_table(result))
            print("\n" + tables[-1] + "\n", flush=True)
        if arguments.growth:
            tables.append(f"{kind}, growth:\n" + growth_table(results))
        print(f"wrote {out.relative_to(REPOSITORY)}")
    if tables:
        print("\n\n".join(tables))
        print("\nMarkdown (README):\n")
        for kind in kinds:
            suffix = "-growth" if arguments.growth else ""
            document = json.loads((RESULTS / f"http-{kind}{suffix}.json").read_text())
            for result in document if isinstance(document, list) else [document]:
                print(markdown_table(result) + "\n")


if __name__ == "__main__":
    main()
