"""The WSGI entry point for servers (gunicorn 'referral.wsgi:app').

Unlike the CLI, a server opens the key provider at start-up: it refuses to serve without keys.
"""

from __future__ import annotations

import sys

from crypto import KeyringError
from referral import create_app
from referral.checkpoint_timer import start_checkpoint_timer
from referral.db.wal_checkpoints import defer_checkpoints
from referral.keys import UnknownKeyProvider
from referral.request_scope import get_database

app = create_app()
try:
    cipher = get_database(app).cipher
    assert cipher is not None
    cipher.keys.provider.primary()
except (KeyringError, UnknownKeyProvider) as error:
    sys.exit(f"Refusing to start: {error}")
checkpoint_timer = start_checkpoint_timer(app)
# SQLite: the log is copied back into the file by a thread, not inside a request's commit.
wal_checkpointer = defer_checkpoints(get_database(app).engine)
