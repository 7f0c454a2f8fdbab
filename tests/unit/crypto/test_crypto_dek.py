"""Data-encryption keys: generation, wrapping bound to the DEK id, and the DekCache."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from crypto import DecryptionError, DekCache, LocalKeyring, new_dek
from crypto.hazmat import dek_wrap_aad, unwrap_dek, wrap_dek


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _ids(count: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(count)]


@pytest.mark.asvs("V11.2.3")
def test_a_new_dek_is_32_random_bytes() -> None:
    deks = {new_dek() for _ in range(100)}
    assert len(deks) == 100
    assert all(len(dek) == 32 for dek in deks)


def test_the_wrap_aad_names_the_dek_id_in_either_spelling() -> None:
    dek_id = uuid.uuid4()
    assert dek_wrap_aad(dek_id) == dek_wrap_aad(str(dek_id)) == dek_wrap_aad(str(dek_id).upper())
    assert dek_id.bytes in dek_wrap_aad(dek_id)
    assert dek_wrap_aad(dek_id) != dek_wrap_aad(uuid.uuid4())


def test_a_malformed_dek_id_is_refused() -> None:
    with pytest.raises(ValueError):
        dek_wrap_aad("not-a-uuid")


def test_a_wrapped_dek_unwraps_for_its_own_id(tmp_path: Path) -> None:
    keyring = LocalKeyring.create(tmp_path / "k.json")
    dek, dek_id = new_dek(), uuid.uuid4()
    assert unwrap_dek(keyring, wrap_dek(keyring, dek, dek_id), dek_id) == dek


@pytest.mark.asvs("V11.3.3")
def test_a_wrapped_dek_copied_to_another_dek_id_fails_to_unwrap(tmp_path: Path) -> None:
    keyring = LocalKeyring.create(tmp_path / "k.json")
    wrapped = wrap_dek(keyring, new_dek(), uuid.uuid4())
    with pytest.raises(DecryptionError):
        unwrap_dek(keyring, wrapped, uuid.uuid4())


def test_the_cache_returns_what_was_put() -> None:
    cache = DekCache(max_entries=4, ttl_seconds=60)
    dek_id, dek = uuid.uuid4(), new_dek()
    cache.put(dek_id, dek)
    assert cache.get(dek_id) == dek
    assert cache.get(str(dek_id)) == dek
    assert cache.get(uuid.uuid4()) is None


def test_the_cache_never_holds_more_than_max_entries_and_drops_the_least_recently_used() -> None:
    cache = DekCache(max_entries=3, ttl_seconds=60)
    a, b, c, d = _ids(4)
    for dek_id in (a, b, c):
        cache.put(dek_id, new_dek())
    assert cache.get(a) is not None  # a is now more recently used than b
    cache.put(d, new_dek())
    assert len(cache) == 3
    assert cache.get(b) is None
    assert all(cache.get(k) is not None for k in (a, c, d))


def test_cached_deks_expire_after_the_ttl_even_when_read_often() -> None:
    clock = FakeClock()
    cache = DekCache(max_entries=10, ttl_seconds=30, clock=clock)
    dek_id = uuid.uuid4()
    cache.put(dek_id, new_dek())
    clock.now += 29.9
    assert cache.get(dek_id) is not None
    clock.now += 0.1
    assert cache.get(dek_id) is None
    assert len(cache) == 0


def test_expired_entries_are_dropped_when_a_new_one_is_put() -> None:
    clock = FakeClock()
    cache = DekCache(max_entries=10, ttl_seconds=30, clock=clock)
    for dek_id in _ids(5):
        cache.put(dek_id, new_dek())
    clock.now += 31
    cache.put(uuid.uuid4(), new_dek())
    assert len(cache._entries) == 1


def test_expiry_follows_the_put_order_whatever_was_read_since() -> None:
    # Reads move an entry to the end of the LRU order, not of the expiry order: the oldest
    # put still goes first, and one put again lives a full ttl from then.
    clock = FakeClock()
    cache = DekCache(max_entries=10, ttl_seconds=30, clock=clock)
    first, second, third = _ids(3)
    cache.put(first, new_dek())
    clock.now += 10
    cache.put(second, new_dek())
    cache.put(third, new_dek())
    assert cache.get(first) is not None  # most recently used now
    clock.now += 5
    cache.put(second, new_dek())  # put again: expires 30 s from now
    clock.now += 16  # first put 31 s ago, third 21 s ago: only first is past its ttl
    cache.put(uuid.uuid4(), new_dek())
    assert first not in cache._entries and first not in cache._expiring
    assert cache.get(third) is not None
    clock.now += 10  # third 31 s, second 26 s since its last put
    assert len(cache) == 2
    assert cache.get(third) is None and cache.get(second) is not None


def test_evict_forgets_a_shredded_dek_at_once() -> None:
    cache = DekCache(max_entries=10, ttl_seconds=60)
    kept, shredded = _ids(2)
    cache.put(kept, new_dek())
    cache.put(shredded, new_dek())
    cache.evict(shredded)
    assert cache.get(shredded) is None
    assert cache.get(kept) is not None
    cache.evict(uuid.uuid4())  # evicting something absent is fine


def test_clear_forgets_everything() -> None:
    cache = DekCache(max_entries=10, ttl_seconds=60)
    for dek_id in _ids(3):
        cache.put(dek_id, new_dek())
    cache.clear()
    assert len(cache) == 0


def test_get_or_load_loads_once_and_then_serves_from_the_cache() -> None:
    cache = DekCache(max_entries=10, ttl_seconds=60)
    dek_id, dek = uuid.uuid4(), new_dek()
    calls: list[int] = []

    def load() -> bytes:
        calls.append(1)
        return dek

    assert cache.get_or_load(dek_id, load) == dek
    assert cache.get_or_load(dek_id, load) == dek
    assert len(calls) == 1


def test_a_dek_shredded_while_it_was_loading_is_not_cached() -> None:
    cache = DekCache(max_entries=10, ttl_seconds=60)
    dek_id = uuid.uuid4()

    def load_while_someone_shreds() -> bytes:
        cache.evict(dek_id)
        return new_dek()

    cache.get_or_load(dek_id, load_while_someone_shreds)
    assert cache.get(dek_id) is None


def test_the_cache_refuses_nonsense_settings_and_keys() -> None:
    with pytest.raises(ValueError):
        DekCache(max_entries=0, ttl_seconds=60)
    for ttl in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            DekCache(max_entries=1, ttl_seconds=ttl)
    with pytest.raises(ValueError):
        DekCache(max_entries=1, ttl_seconds=1).put(uuid.uuid4(), b"short")


def test_the_cache_stays_within_bounds_under_concurrent_use() -> None:
    cache = DekCache(max_entries=50, ttl_seconds=60)
    ids = _ids(200)
    dek = new_dek()
    errors: list[BaseException] = []

    def hammer(offset: int) -> None:
        try:
            for i in range(2000):
                dek_id = ids[(i * 7 + offset) % len(ids)]
                if i % 3 == 0:
                    cache.put(dek_id, dek)
                elif i % 3 == 1:
                    assert cache.get(dek_id) in (None, dek)
                else:
                    cache.evict(dek_id)
        except BaseException as exc:  # collected so the main thread can fail the test
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(cache) <= 50
