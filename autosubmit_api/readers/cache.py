"""Bounded, process-wide LRUs of parsed files, keyed by (path, mtime_ns, size).

A changed file has a new key, so a stale parse is never served; old entries fall off the
end. Several gunicorn workers each keep their own cache, which stays correct because the
key is the file's identity on disk.

Two bounds, because the kinds differ by four orders of magnitude: a parsed 50,000-job
pickle or history weighs hundreds of megabytes, a configuration or a layout a few
kilobytes. With one entry count shared by both, a v3 search over 40 experiments (two
configuration entries each) evicted every parsed job list. Kinds listed in SMALL_KINDS go
to the small LRU (`API_CACHE_SMALL_ENTRIES`, default 1024); every other kind, including
any new one, counts against the large bound (`API_CACHE_ENTRIES`, default 64), so an
unclassified kind can never pile up big values.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, Optional, Tuple, TypeVar

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
    """One entry-counted LRU; both share the module lock."""

    __slots__ = ("entries", "bound")

    def __init__(self, bound: int):
        self.entries: "OrderedDict[Hashable, Any]" = OrderedDict()
        self.bound = bound

    def trim(self) -> None:
        while len(self.entries) > self.bound:
            self.entries.popitem(last=False)


_lock = threading.Lock()
_large = _Lru(64)
_small = _Lru(1024)


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


def cached(kind: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per (kind, key); the result is shared, so treat it as read-only."""
    full = (kind, key)
    lru = _small if kind in SMALL_KINDS else _large
    entries = lru.entries
    with _lock:
        if full in entries:
            entries.move_to_end(full)
            hit: T = entries[full]  # stored by compute() of the same kind
            return hit
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
            return lru.entries[full]
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
