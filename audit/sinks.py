"""Where signed checkpoints go besides the service's own checkpoint directory.

Whoever holds the database and the instance folder can delete the newest entries and the
checkpoints that would reveal it. A second sink that they cannot reach keeps the trail: a
directory on another mount (read back by the verifier) or syslog (write-only: forwarded by
the system's logger to where the DPO or a log server keeps it).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import socket
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from audit.checkpoints import Checkpoint, CheckpointDirectory, checkpoint_to_json

__all__ = [
    "PUBLIC_KEY_FILE",
    "CheckpointSink",
    "DirectorySink",
    "SyslogSink",
    "sink_from_setting",
]

PUBLIC_KEY_FILE = "public-key.pem"
SYSLOG_TAG = "referral-audit-checkpoint"
DEFAULT_SYSLOG_SOCKET = "/dev/log"


class CheckpointSink(Protocol):
    """A place a signed checkpoint is written to; `read_all` is None for write-only sinks."""

    description: str

    def write(self, checkpoint: Checkpoint, public_key_pem: bytes) -> None: ...

    def read_all(self) -> list[Checkpoint] | None: ...


class DirectorySink:
    """Checkpoint files in a directory (its own copy of the public key beside them)."""

    def __init__(self, path: str | Path) -> None:
        self.directory = CheckpointDirectory(path)
        self.description = f"directory {path}"

    def write(self, checkpoint: Checkpoint, public_key_pem: bytes) -> None:
        self.directory.write(checkpoint)
        public_key = self.directory.path / PUBLIC_KEY_FILE
        if not public_key.exists():
            public_key.write_bytes(public_key_pem)

    def read_all(self) -> list[Checkpoint] | None:
        return self.directory.read_all()


class SyslogSink:
    """One line per checkpoint to syslog (a local socket, or UDP to host:port)."""

    def __init__(self, address: str | tuple[str, int]) -> None:
        self.address = address
        self.description = f"syslog {address}"

    def write(self, checkpoint: Checkpoint, public_key_pem: bytes) -> None:
        document = json.loads(checkpoint_to_json(checkpoint))
        line = json.dumps(document, separators=(",", ":"), sort_keys=True)
        # A handler per write: checkpoints are rare, and a syslog daemon restarted since the
        # last one must not leave a dead socket behind. Raises OSError when nobody listens.
        handler = _RaisingSysLogHandler(
            address=self.address,
            facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV,
            socktype=socket.SOCK_DGRAM,
        )
        handler.ident = SYSLOG_TAG + ": "
        try:
            record = logging.LogRecord(SYSLOG_TAG, logging.INFO, __file__, 0, line, None, None)
            handler.emit(record)
        finally:
            handler.close()

    def read_all(self) -> list[Checkpoint] | None:
        return None


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    """A lost checkpoint must be noticed: the caller logs the failure, instead of the logging
    module printing it to stderr and carrying on."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        raise  # re-raises the error logging is handling: it calls this from its except block


def sink_from_setting(value: str) -> CheckpointSink | None:
    """`""` -> none; `syslog` -> the local socket; `syslog://host:port` -> UDP; else a directory."""
    if not value:
        return None
    if value == "syslog":
        return SyslogSink(DEFAULT_SYSLOG_SOCKET)
    if value.startswith("syslog://"):
        parts = urlsplit(value)
        if not parts.hostname or not parts.port:
            raise ValueError("a syslog address is syslog://host:port")
        return SyslogSink((parts.hostname, parts.port))
    return DirectorySink(value)
