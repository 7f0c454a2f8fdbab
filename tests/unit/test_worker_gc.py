"""A web worker leaves what its start-up made out of the garbage collector's passes
(referral/wsgi.py: gc.freeze), so that a page that makes many objects does not pay for
walking the whole app every few requests (issue 18)."""

from __future__ import annotations

import json
import subprocess
import sys

from config.settings import Settings
from tests.unit.test_import_footprint import ROOT, _server_environment

PROBE = """
import gc, json
import referral.wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}))
"""


def test_a_worker_starts_with_its_start_up_objects_frozen(base_settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=_server_environment(base_settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    # Tens of thousands of objects are the app; what is still tracked is the probe's own.
    assert counts["frozen"] > 50_000
    assert counts["tracked"] < counts["frozen"] / 100
