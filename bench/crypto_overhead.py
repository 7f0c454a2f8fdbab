"""Issue 3's figure: encrypting and decrypting a typical six-field record, as a share of a
plain single-row read over HTTP (the floor app under gunicorn, in the same run).

Run: make bench-crypto (writes bench/results/crypto-overhead.json).
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from crypto import DekCache, FieldContext, LocalKeyring, decrypt_field, encrypt_field, new_dek
from crypto.hazmat import unwrap_dek, wrap_dek

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from floor_app import FIELDS, Base, Row

RECORD = {
    "name": "Astrid Exempelsdotter",
    "personnummer": "201307149876",
    "address": "Exempelgatan 12, 123 45 Farsta",
    "phone": "070-123 45 67",
    "email": "familjehem@example.invalid",
    "notes": "Barnet trivs i familjehemmet och vill gärna delta i en stödgrupp. " * 3,
}
HTTP_REQUESTS = 2000
CRYPTO_ROUNDS = 20000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure_floor(workdir: Path) -> list[float]:
    url = f"sqlite:///{workdir / 'floor.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Row(id=1, **RECORD))
        session.commit()
    engine.dispose()
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--chdir",
            str(HERE),
            "floor_app:create_app()",
        ],
        env={**os.environ, "BENCH_FLOOR_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        timings = []
        for number in range(HTTP_REQUESTS + 100):
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port)
            connection.request("GET", "/rows/1")
            body = connection.getresponse().read()
            connection.close()
            elapsed = time.perf_counter() - started
            assert b"Exempelsdotter" in body
            if number >= 100:  # warm-up excluded
                timings.append(elapsed)
        return timings
    finally:
        server.terminate()
        server.wait(timeout=10)


def measure_crypto(workdir: Path) -> dict[str, list[float]]:
    keyring = LocalKeyring.create(workdir / "keyring.json")
    dek_id = uuid.uuid4()
    dek = new_dek()
    wrapped = wrap_dek(keyring, dek, dek_id)
    cache = DekCache(max_entries=10_000, ttl_seconds=300)
    person = str(uuid.uuid4())
    contexts = {f: FieldContext("children", f, str(uuid.uuid4()), person) for f in FIELDS}
    warm: list[float] = []
    cold: list[float] = []
    for number in range(CRYPTO_ROUNDS):
        cold_start = number % 10 == 0  # every tenth record: the DEK is not in the cache
        if cold_start:
            cache.evict(dek_id)
        started = time.perf_counter()
        key = cache.get_or_load(dek_id, lambda: unwrap_dek(keyring, wrapped, dek_id))
        sealed = {f: encrypt_field(RECORD[f], key, dek_id, contexts[f]) for f in FIELDS}
        opened = {f: decrypt_field(sealed[f], key, contexts[f]) for f in FIELDS}
        elapsed = time.perf_counter() - started
        assert opened == RECORD
        (cold if cold_start else warm).append(elapsed)
    return {"cached_dek": warm, "dek_unwrapped_from_keyring": cold}


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": round(statistics.median(ordered) * 1e6, 2),
        "p95_us": round(ordered[int(len(ordered) * 0.95)] * 1e6, 2),
        "samples": len(ordered),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        floor = summary(measure_floor(workdir))
        crypto = {name: summary(samples) for name, samples in measure_crypto(workdir).items()}
    share = {
        name: round(100 * figures["median_us"] / floor["median_us"], 2)
        for name, figures in crypto.items()
    }
    result = {
        "benchmark": "crypto-overhead",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "floor_http_single_row_read": floor,
        "encrypt_and_decrypt_six_fields": crypto,
        "share_of_floor_percent": share,
        "target_percent": 10,
        "meets_target": all(value < 10 for value in share.values()),
    }
    out = HERE / "results" / "crypto-overhead.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
