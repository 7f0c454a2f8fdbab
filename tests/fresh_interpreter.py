"""A script run in a fresh interpreter of this environment, for what must be seen before
anything is imported (the suite's own process has imported it all already)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def json_printed_by(
    script: str, *arguments: str, env: dict[str, str] | None = None, timeout: int = 120
) -> Any:
    """Run `script` from the project's root; what it printed last, read as JSON. A script
    that fails fails the test with the end of its error output."""
    done = subprocess.run(  # this interpreter, a script of the suite's own
        [sys.executable, "-c", script, *arguments],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
