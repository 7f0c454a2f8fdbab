"""Refuse to start `make run` on a port that is taken, before anything says "Serving on".

Run as `python -m config.port_check HOST PORT`; exits 1 with one sentence naming the way out.
"""

from __future__ import annotations

import socket
import sys


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        # The same option gunicorn sets, so a port in TIME_WAIT counts as free as it would there.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def main(host: str, raw_port: str) -> int:
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        print(f"PORT must be a number from 1 to 65535, not {raw_port!r}.", file=sys.stderr)
        return 1
    if not port_is_free(host, int(raw_port)):
        print(
            f"Port {raw_port} on {host} is already in use: stop what serves there, "
            f"or choose another port, e.g. `make run PORT={int(raw_port) + 1}`.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
