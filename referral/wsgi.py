"""The WSGI entry point for servers (gunicorn 'referral.wsgi:app').

Unlike the CLI, a server opens the key provider at start-up: it refuses to serve without keys.
"""

from __future__ import annotations

import gc
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

# What the start-up made (modules, routes, mappers, compiled templates: some 200 000 objects)
# lives as long as the worker. Frozen, it is left out of the cyclic garbage collector's full
# passes, which otherwise walk all of it every few requests of a page that makes many
# objects: the partner's inbox of 52 cards spent 9 ms a request collecting, 1.5 ms after.
gc.collect()
gc.freeze()
