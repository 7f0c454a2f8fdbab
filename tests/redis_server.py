"""A Redis for the tests of the rate limits counted in Redis.

Its own redis-server on a free loopback port, keeping nothing on disk, when the binary is
installed; else the Redis that answers on 127.0.0.1:6379, under a key prefix of this run's
own (never flushed: other processes may share it; only this prefix's keys are deleted); else
the test is skipped, and docs/deployment.md says how a deployment uses Redis.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import redis

SHARED_REDIS = "redis://127.0.0.1:6379/0"
START_TIMEOUT_SECONDS = 10.0
NO_REDIS = (
    "no redis-server installed and nothing answers PING on 127.0.0.1:6379: the rate limits "
    "in Redis are untested here (docs/deployment.md, 'Rate limits across instances')"
)


@dataclass(frozen=True)
class RedisForTests:
    url: str  # redis://127.0.0.1:<port>/0
    key_prefix: str  # this run's own
    client: redis.Redis
    server: subprocess.Popen[bytes] | None  # None: the shared Redis, not ours to stop

    @contextmanager
    def hung(self) -> Iterator[None]:
        """Our redis-server stopped (SIGSTOP) for the block: connections are still accepted,
        nothing answers, as with a Redis that hangs. Skips on the shared Redis."""
        if self.server is None:
            pytest.skip("the shared Redis on 127.0.0.1:6379 is not this test's to stop")
        self.server.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.server.send_signal(signal.SIGCONT)

    @property
    def storage_uri(self) -> str:
        """REFERRAL_RATE_LIMIT_STORAGE_URI for counters under this run's prefix."""
        return f"{self.url}?key_prefix={self.key_prefix}"

    def counters(self) -> dict[str, int]:
        """Every key under this run's prefix, with its count."""
        keys = sorted(self.client.scan_iter(match=f"{self.key_prefix}:*"))
        return {key.decode(): int(cast(bytes, self.client.get(key))) for key in keys}

    def forget(self) -> None:
        """Delete every key under this run's prefix (and only those)."""
        for key in self.client.scan_iter(match=f"{self.key_prefix}:*"):
            self.client.delete(key)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@contextmanager
def _own_server(binary: str, folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    log = folder / "redis.log"
    command = [binary, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]
    command += ["--port", str(port), "--dir", str(folder), "--logfile", str(log)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers(client):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"redis-server did not start on port {port}: {tail}")
            time.sleep(0.05)
        yield url, server
    finally:
        client.close()
        server.send_signal(signal.SIGCONT)  # a stopped server cannot take its end
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def redis_for_tests(folder: Path) -> Iterator[RedisForTests]:
    """A Redis to count in, and a prefix of this run's own; skips when there is none."""
    prefix = f"referral-test-{uuid.uuid4().hex[:12]}"
    binary = shutil.which("redis-server")
    if binary is not None:
        with _own_server(binary, folder) as (url, server):
            client = redis.Redis.from_url(url)
            try:
                yield RedisForTests(url, prefix, client, server)
            finally:
                client.close()
        return
    client = redis.Redis.from_url(SHARED_REDIS, socket_connect_timeout=1)
    if not _answers(client):
        client.close()
        pytest.skip(NO_REDIS)
    shared = RedisForTests(SHARED_REDIS, prefix, client, server=None)
    try:
        yield shared
    finally:
        shared.forget()
        client.close()
