"""A web worker imports only what serving needs (issue 18: peak memory per worker).

gunicorn imports referral.wsgi in each worker. Libraries that only a rare page or the command
line needs are imported where they are used, so they cost memory only in a worker that uses
them. The server is started here in a fresh interpreter, as a worker starts it, and must not
have imported any of them: an eager import of one fails with the chain that brought it in.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from config.settings import Settings
from tests.factories import command_environment
from tests.fresh_interpreter import json_printed_by

# Imported where they are used, with the reason beside the import.
LAZY = {
    "fpdf": "referral/web/reports.py: a report as PDF (fpdf2 with fontTools and Pillow)",
    "fontTools": "referral/web/reports.py: a report as PDF",
    "PIL": "referral/web/reports.py: a report as PDF",
    "alembic": "referral/cli_loader.py: migrations are a command-line matter",
    "mako": "referral/cli_loader.py: Alembic's templates",
    "pygments": "referral/cli_loader.py: Alembic's error pages",
    "referral.cli": "referral/cli_loader.py: the operator commands",
    "referral.demo": "referral/cli_loader.py: the demo's data",
    "authlib": "referral/auth/oidc_client.py: an OpenID Connect sign-in",
    "joserfc": "referral/auth/oidc_client.py: an OpenID Connect sign-in",
    "requests": "referral/auth/oidc_client.py: an OpenID Connect sign-in",
    "holidays": "referral/working_time.py: a deadline counted in working hours",
    "segno": "referral/auth/totp.py, referral/card_numbers.py: a QR code",
    "redis": "referral/web/limit_storage_redis.py: rate limits counted in Redis, if configured",
}

# Runs in the child: start the server's module and say which of LAZY came in, and through which
# modules (the first importer of each, from an import hook installed before anything else).
PROBE = """
import importlib.abc, json, sys

first_importer = {}

class Witness(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in first_importer:
            frame = sys._getframe(1)
            while frame and frame.f_code.co_filename.startswith("<frozen"):
                frame = frame.f_back
            first_importer[name] = frame.f_globals.get("__name__") if frame else None
        return None

sys.meta_path.insert(0, Witness())
import referral.wsgi

def chain(name):
    links = [name]
    while first_importer.get(links[-1]) not in (None, "__main__", *links):
        links.append(first_importer[links[-1]])
    return " <- ".join(links)

lazy = json.loads(sys.argv[1])
print(json.dumps({name: chain(name) for name in lazy if name in sys.modules}))
"""


def _server_environment(settings: Settings) -> dict[str, str]:
    """The environment a worker of these settings starts with (no checkpoint timer)."""
    return {
        **command_environment(settings),
        "REFERRAL_RETURN_SIGNING_KEY_PATH": settings.return_signing_key_path,
        "REFERRAL_RATE_LIMIT_STORAGE_URI": settings.rate_limit_storage_uri,
        "REFERRAL_AUDIT_CHECKPOINT_SECONDS": "0",
    }


# Libraries every worker imports: the probe must name these, or its silence means nothing.
SERVED_BY_EVERY_WORKER = ("sqlalchemy", "flask_limiter")


def run_as_a_worker(settings: Settings, probe: str, *arguments: str) -> Any:
    """Run `probe` in a fresh interpreter started as a worker is (it imports referral.wsgi
    itself); what it printed last, read as JSON."""
    return json_printed_by(probe, *arguments, env=_server_environment(settings))


@pytest.fixture(scope="module")
def imported_by_a_worker(base_settings: Settings) -> dict[str, str]:
    probed = sorted({*LAZY, *SERVED_BY_EVERY_WORKER})
    found: dict[str, str] = run_as_a_worker(base_settings, PROBE, json.dumps(probed))
    return found


def test_a_web_worker_starts_without_the_libraries_only_rare_pages_need(
    imported_by_a_worker: dict[str, str],
) -> None:
    eager = [
        f"{chain}\n    (meant to be imported in {LAZY[name]})"
        for name, chain in sorted(imported_by_a_worker.items())
        if name in LAZY
    ]
    assert not eager, "imported when a web worker starts:\n" + "\n".join(eager)


def test_the_probe_names_what_every_worker_imports(imported_by_a_worker: dict[str, str]) -> None:
    assert set(SERVED_BY_EVERY_WORKER) <= set(imported_by_a_worker)
