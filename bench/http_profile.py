"""A gunicorn configuration for `bench/http_bench.py --profile WORKLOAD` only: each worker
runs under cProfile from its fork to its exit and leaves worker-<pid>.pstats in
BENCH_PROFILE_DIR (read them with `python -m pstats`). Never used by the measured runs."""

from __future__ import annotations

import cProfile
import os
from pathlib import Path
from typing import Any

_profiles: dict[int, cProfile.Profile] = {}


def post_fork(server: Any, worker: Any) -> None:
    profile = cProfile.Profile()
    _profiles[os.getpid()] = profile
    profile.enable()


def worker_exit(server: Any, worker: Any) -> None:
    profile = _profiles.pop(os.getpid(), None)
    if profile is None:
        return
    profile.disable()
    profile.dump_stats(Path(os.environ["BENCH_PROFILE_DIR"]) / f"worker-{os.getpid()}.pstats")
