"""What a newcomer and an operator type: `make run` on a busy port, and the documented
`flask …` commands from a fresh shell through ./manage."""

from __future__ import annotations

import socket
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from config.settings import Settings
from tests.factories import command_environment

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "manage"
# A fresh login shell has a PATH and a HOME, nothing of ours.
FRESH_SHELL = {"PATH": "/usr/local/bin:/usr/bin:/bin"}


def test_make_run_on_a_busy_port_says_so_and_never_claims_to_serve() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["make", "--no-print-directory", "run", f"PORT={port}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    assert "Serving on" not in result.stdout


def test_make_run_serves_on_the_port_it_is_given() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=5123"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "--bind 127.0.0.1:5123" in dry_run.stdout
    assert "Serving on http://127.0.0.1:5123" in dry_run.stdout
    demo_code = subprocess.run(
        ["make", "-n", "demo-code", "WHO=gruppledare"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**FRESH_SHELL, "USER": "someone-else"},
    )
    assert "demo code gruppledare" in demo_code.stdout


@pytest.fixture
def env_file(base_settings: Settings, tmp_path: Path) -> Path:
    """An operator's settings file for a database of its own."""
    settings = replace(base_settings, database_url=f"sqlite:///{tmp_path / 'ops.sqlite3'}")
    lines = [
        f"{name}={value}"
        for name, value in command_environment(settings).items()
        if name.startswith("REFERRAL_")
    ]
    path = tmp_path / "referral.env"
    path.write_text("# the service's settings\n" + "\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def _manage(*arguments: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MANAGE), *arguments], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_documented_commands_work_from_a_fresh_shell_through_manage(
    env_file: Path, tmp_path: Path
) -> None:
    shell = {**FRESH_SHELL, "REFERRAL_ENV_FILE": str(env_file)}
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()

    upgraded = _manage("db", "upgrade", env=shell, cwd=elsewhere)
    added = _manage(
        "org", "add", "--name", "Testpartner Ideell", "--kind", "partner", env=shell, cwd=elsewhere
    )
    listed = _manage("org", "list", env=shell, cwd=elsewhere)

    assert upgraded.returncode == 0, upgraded.stderr
    assert added.returncode == 0, added.stderr
    assert listed.returncode == 0, listed.stderr
    assert "Testpartner Ideell" in listed.stdout


def test_manage_without_settings_names_what_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.env"
    result = _manage(
        "org", "list", env={**FRESH_SHELL, "REFERRAL_ENV_FILE": str(missing)}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert f"REFERRAL_ENV_FILE names {missing}, which does not exist" in result.stderr
