"""Bounded, process-wide LRUs of parsed files, keyed by (path, mtime_ns, size).

A changed file has a new key, so a stale parse is never served; old entries fall off the
end. Several gunicorn worker processes would each keep their own cache, which stays correct
because the key is the file's identity on disk; the default server is one process with threads, so a
host parses each file version once (docs/deployment.md, "Process model").

Single flight: threads that miss the same key together compute it once. The first one
computes under the key's flight lock (`single_flight`), the others wait on that lock and
then find the value stored; so two simultaneous cold requests for a 50,000-job experiment
parse its pickle once, not twice in parallel (twice the CPU and, for a moment, the memory).

Two bounds, because the kinds differ by four orders of magnitude: a parsed 50,000-job
pickle or history weighs hundreds of megabytes, a configuration or a layout a few
kilobytes. With one entry count shared by both, a v3 search over 40 experiments (two
configuration entries each) evicted every parsed job list. Kinds listed in SMALL_KINDS go
to the small LRU (`API_CACHE_SMALL_ENTRIES`, default 1024); every other kind, including
any new one, counts against the large bound (`API_CACHE_ENTRIES`, default 64), so an
unclassified kind can never pile up big values.

Both register with autosubmit_api/cache_registry.py (`readers.cache.large`, `readers.cache.small`)
and count their hits and misses under the module lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, Hashable, Iterator, Optional, Tuple, TypeVar

from autosubmit_api import cache_registry

# What one kind of entry holds: each kind is computed by one reader, so one type per kind.
T = TypeVar("T")

# Kinds whose values stay small whatever the experiment's size: a configuration and its
# metadata, user metrics, the names and last lines of the TOTAL_STATS files of the few
# live jobs, the change time and edge marker of a 4.2 job list database. Saved layouts,
# packages and log listings hold one item per job: large.
SMALL_KINDS = frozenset(
    {
        "exp_config",
        "exp_config_metadata",
        "user_metrics",
        "stats_names",
        "total_stats",
        "yaml_refused",
        "job_db_mtime",
        "edges_marker",
    }
)


class _Lru:
    """One entry-counted LRU; both share the module lock (and count their hits under it)."""

    __slots__ = ("entries", "bound", "counter")

    def __init__(self, name: str, bound: int):
        self.entries: "OrderedDict[Hashable, Any]" = OrderedDict()
        self.bound = bound
        self.counter = cache_registry.register(
            name, bound=lambda: self.bound, entries=lambda: len(self.entries), clear=self.clear
        )

    def clear(self) -> None:
        with _lock:
            self.entries.clear()

    def trim(self) -> None:
        while len(self.entries) > self.bound:
            self.entries.popitem(last=False)


_lock = threading.Lock()
_large = _Lru("readers.cache.large", 64)
_small = _Lru("readers.cache.small", 1024)


def configure(max_entries: int, max_small_entries: Optional[int] = None) -> None:
    """Entry bounds of the large kinds and (when given) of the small ones."""
    with _lock:
        _large.bound = max(1, int(max_entries))
        if max_small_entries is not None:
            _small.bound = max(1, int(max_small_entries))
        _large.trim()
        _small.trim()


def large_bound() -> int:
    """The large kinds' entry bound (other stores of big values scale with it)."""
    return _large.bound


def clear() -> None:
    with _lock:
        _large.entries.clear()
        _small.entries.clear()


def file_key(path: str) -> Optional[Tuple[str, int, int]]:
    """(path, mtime_ns, size) of an existing file, None when it does not exist."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (os.path.abspath(path), st.st_mtime_ns, st.st_size)


def sqlite_key(path: str) -> Optional[Tuple[str, int, int, int, int]]:
    """The identity of an SQLite file's content: (path, mtime_ns, size) of the file and
    (mtime_ns, size) of its `-wal` file if any (a commit changes one of them); None when the
    file does not exist."""
    key = file_key(path)
    if key is None:
        return None
    try:
        wal = os.stat(path + "-wal")
    except OSError:
        return key + (0, 0)
    return key + (wal.st_mtime_ns, wal.st_size)


class _Flight:
    """The computation of one key: its lock and how many threads hold or wait for it."""

    __slots__ = ("lock", "threads")

    def __init__(self) -> None:
        # Re-entrant: a compute that asks for its own key again (it should not) computes it
        # once more instead of deadlocking its thread.
        self.lock = threading.RLock()
        self.threads = 0


_flights_lock = threading.Lock()
_flights: Dict[Hashable, _Flight] = {}


@contextlib.contextmanager
def single_flight(key: Hashable) -> Iterator[None]:
    """Hold `key`'s flight lock: one thread at a time computes a key (any hashable, shared by
    every cache of the process, so callers prefix it with their own name). A caller checks
    its store again once inside, where a thread that waited finds what the first one stored.
    Keys are computed from keys of their inputs, never the other way round, so nested
    flights cannot wait on each other in a cycle."""
    with _flights_lock:
        flight = _flights.get(key)
        if flight is None:
            flight = _flights[key] = _Flight()
        flight.threads += 1
    try:
        with flight.lock:
            yield
    finally:
        with _flights_lock:
            flight.threads -= 1
            if flight.threads == 0:
                del _flights[key]


def in_flight(key: Hashable) -> int:
    """How many threads compute or wait for `key` now (0 when none)."""
    with _flights_lock:
        flight = _flights.get(key)
        return flight.threads if flight is not None else 0


def cached(kind: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per (kind, key), also when several threads miss it together; the
    result is shared, so treat it as read-only."""
    full = (kind, key)
    lru = _small if kind in SMALL_KINDS else _large
    entries = lru.entries
    with _lock:
        if full in entries:
            entries.move_to_end(full)
            lru.counter.hits += 1
            found: T = entries[full]  # stored by compute() of the same kind
            return found
    with single_flight(full):
        with _lock:
            if full in entries:
                entries.move_to_end(full)
                lru.counter.hits += 1
                waited: T = entries[full]  # stored by the thread that computed it
                return waited
            lru.counter.misses += 1
        value = compute()
        with _lock:
            entries[full] = value
            entries.move_to_end(full)
            lru.trim()
    return value


def get(kind: str, key: Hashable) -> Any:
    """The value stored under (kind, key), None when there is none."""
    full = (kind, key)
    lru = _small if kind in SMALL_KINDS else _large
    with _lock:
        if full in lru.entries:
            lru.entries.move_to_end(full)
            lru.counter.hits += 1
            return lru.entries[full]
        lru.counter.misses += 1
    return None


def put(kind: str, key: Hashable, value: Any) -> None:
    """Store `value` under (kind, key), replacing what was there (for readers that patch
    their previous result instead of recomputing it, readers/job_db.py)."""
    full = (kind, key)
    lru = _small if kind in SMALL_KINDS else _large
    with _lock:
        lru.entries[full] = value
        lru.entries.move_to_end(full)
        lru.trim()


def cached_file(kind: str, path: str, parse: Callable[[str], T], *extra: Hashable) -> T:
    """parse(path), cached by the file's identity; FileNotFoundError when it is missing."""
    key = file_key(path)
    if key is None:
        raise FileNotFoundError(path)
    return cached(kind, key + tuple(extra), lambda: parse(path))


def size() -> int:
    with _lock:
        return len(_large.entries) + len(_small.entries)


def sizes() -> Tuple[int, int]:
    """(large entries, small entries) held now."""
    with _lock:
        return len(_large.entries), len(_small.entries)
