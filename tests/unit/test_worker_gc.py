"""A web worker leaves what its start-up made out of the garbage collector's passes
(referral/wsgi.py: gc.freeze), so that a page that makes many objects does not pay for
walking the whole app every few requests (issue 18)."""

from __future__ import annotations

from config.settings import Settings
from tests.unit.test_import_footprint import run_as_a_worker

PROBE = """
import gc, json
import referral.wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}))
"""


def test_a_worker_starts_with_its_start_up_objects_frozen(base_settings: Settings) -> None:
    counts = run_as_a_worker(base_settings, PROBE)
    # Tens of thousands of objects are the app; what is still tracked is the probe's own.
    assert counts["frozen"] > 50_000
    assert counts["tracked"] < counts["frozen"] / 100
