"""Signs the access log's checkpoints on time, in each server process.

Count-based checkpoints follow the writes; this one makes sure the newest entries are signed
(and copied to the mirror) within REFERRAL_AUDIT_CHECKPOINT_SECONDS even when few are written.
Several workers may each find a checkpoint due at once: the checkpoint directory keeps the
first and refuses the others, which is harmless.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from flask import Flask

from audit.checkpoints import Checkpoint
from referral import clock
from referral.request_scope import request_session
from referral.services.audit_integrity import checkpoint_if_due

log = logging.getLogger(__name__)

# How often to ask whether a checkpoint is due: often enough to keep to the interval.
LONGEST_WAIT_SECONDS = 60


class CheckpointTimer:
    def __init__(self, app: Flask, interval_seconds: int) -> None:
        self.app = app
        self.wait_seconds = max(1, min(LONGEST_WAIT_SECONDS, interval_seconds // 5 or 1))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)

    def start(self) -> CheckpointTimer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def tick(self, now: datetime | None = None) -> Checkpoint | None:
        """Sign a checkpoint if one is due; never raises (a missed one is due next time)."""
        with self.app.app_context():
            session = request_session()
            try:
                return checkpoint_if_due(session, now or clock.now())
            except Exception as error:  # the timer must outlive any one failure
                log.error("audit checkpoint on time failed: %s", type(error).__name__)
                return None
            finally:
                session.rollback()

    def _run(self) -> None:
        while not self._stop.wait(self.wait_seconds):
            self.tick()


def start_checkpoint_timer(app: Flask) -> CheckpointTimer | None:
    interval = app.config["REFERRAL_SETTINGS"].audit_checkpoint_seconds
    return CheckpointTimer(app, interval).start() if interval else None
