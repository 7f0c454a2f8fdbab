"""The dependency audit (`make assurance`): every pinned dependency of this environment checked
against the Python vulnerability database with pip-audit, and the result said plainly.

pip-audit reports "No known vulnerabilities found" and exits 0 when it could not look a single
dependency up (offline, or a registry mirror without the JSON API): it skips each one with a
reason and still sounds clean. Here a dependency that could not be audited is counted as such,
and when none could be, the audit says it was not done: never "no known vulnerabilities".

Exit status: 1 when a vulnerability is found; 0 otherwise, with the unaudited ones listed
(`--strict` makes "not audited" exit 2, for a machine that can reach the database).

Run: .venv/bin/python tests/assurance/dependency_audit.py [--strict]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vulnerability: str
    fixed_in: tuple[str, ...]


@dataclass(frozen=True)
class AuditResult:
    audited: tuple[str, ...]
    unaudited: tuple[tuple[str, str], ...]  # package, why
    findings: tuple[Finding, ...]

    @property
    def done(self) -> bool:
        """At least one dependency was looked up: otherwise nothing is known either way."""
        return bool(self.audited)


def classify(report: dict[str, Any]) -> AuditResult:
    """pip-audit's JSON report, sorted into audited, unaudited and vulnerable."""
    audited: list[str] = []
    unaudited: list[tuple[str, str]] = []
    findings: list[Finding] = []
    for dependency in report.get("dependencies", []):
        name = str(dependency["name"])
        if "skip_reason" in dependency:
            unaudited.append((name, str(dependency["skip_reason"])))
            continue
        audited.append(name)
        for vulnerability in dependency.get("vulns", []):
            findings.append(
                Finding(
                    name,
                    str(dependency.get("version", "?")),
                    str(vulnerability["id"]),
                    tuple(str(v) for v in vulnerability.get("fix_versions", [])),
                )
            )
    return AuditResult(tuple(audited), tuple(unaudited), tuple(findings))


def summary(result: AuditResult) -> list[str]:
    """What the audit says, in lines: the findings first, then what was not looked at."""
    lines: list[str] = []
    for finding in result.findings:
        fixed = ", ".join(finding.fixed_in) or "no fixed release yet"
        lines.append(
            f"VULNERABLE: {finding.package} {finding.version}: {finding.vulnerability} "
            f"(fixed in {fixed})"
        )
    total = len(result.audited) + len(result.unaudited)
    if not result.done:
        lines.append(
            f"DEPENDENCY AUDIT NOT DONE: the vulnerability database could not be reached; "
            f"none of the {total} dependencies was checked. This is not a clean result."
        )
        return lines
    if result.unaudited:
        lines.append(f"NOT AUDITED ({len(result.unaudited)} of {total}):")
        lines.extend(f"  {name}: {why}" for name, why in result.unaudited)
    if not result.findings:
        checked = len(result.audited)
        noun = "dependency" if checked == 1 else "dependencies"
        lines.append(f"No known vulnerabilities in the {checked} {noun} checked.")
    return lines


def frozen_requirements() -> str:
    """The exact versions installed here, the project itself left out (it is not on PyPI)."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def run_pip_audit(requirements: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "requirements.txt"
        path.write_text(requirements, encoding="utf-8")
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--requirement",
                str(path),
                "--no-deps",  # the file is the whole environment, pinned
                "--disable-pip",
                "--format",
                "json",
                "--progress-spinner",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    # pip-audit exits 1 when it finds a vulnerability; its JSON is on stdout either way.
    if not completed.stdout.strip():
        raise SystemExit(
            f"pip-audit gave no report (exit {completed.returncode}):\n{completed.stderr}"
        )
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--strict", action="store_true", help="exit 2 when the audit could not be done"
    )
    arguments = parser.parse_args()
    result = classify(run_pip_audit(frozen_requirements()))
    for line in summary(result):
        print(line)
    if result.findings:
        return 1
    if arguments.strict and not result.done:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
