"""The one registry of the process's caches (docs/performance.md, "Caches").

Every module-level cache registers itself once, at import, with its name, its bound and how
to count and clear its entries. The registry then gives:

- `stats()`: per cache its entries, bound, hits and misses (and bytes when the cache knows
  them), shown by `/v4/health` under `caches`;
- `clear_all()`: empties every cache and zeroes its counters (the tests call it around each
  test, so no test sees what another one cached).

`register` hands back the cache's `Counter`: the cache calls `hit()` or `miss()` on a look-up,
under the lock it already holds for the look-up, so a counter costs one integer increment.
A cache that counts by itself (functools.lru_cache's cache_info) passes `counts` instead.

This module is the bottom layer: it imports nothing of the package, so readers, services,
workers and the HTTP layer may all register here.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional, Tuple, Union

Bound = Union[int, str]


class Counter:
    """The hit and miss counts of one registered cache, and how to read and clear it."""

    __slots__ = ("name", "hits", "misses", "_bound", "_entries", "_clear", "_bytes", "_counts")

    def __init__(
        self,
        name: str,
        bound: Union[Bound, Callable[[], Bound]],
        entries: Callable[[], int],
        clear: Callable[[], None],
        bytes: Optional[Callable[[], int]],
        counts: Optional[Callable[[], Tuple[int, int]]],
    ):
        self.name = name
        self.hits = 0
        self.misses = 0
        self._bound = bound
        self._entries = entries
        self._clear = clear
        self._bytes = bytes
        self._counts = counts

    def hit(self) -> None:
        self.hits += 1

    def miss(self) -> None:
        self.misses += 1

    @property
    def bound(self) -> Bound:
        return self._bound() if callable(self._bound) else self._bound

    def stats(self) -> Dict[str, Any]:
        hits, misses = self._counts() if self._counts is not None else (self.hits, self.misses)
        out: Dict[str, Any] = {"entries": int(self._entries()), "bound": self.bound, "hits": hits, "misses": misses}
        if self._bytes is not None:
            out["bytes"] = int(self._bytes())
        return out

    def clear(self) -> None:
        self._clear()
        self.hits = self.misses = 0


_lock = threading.Lock()
_caches: Dict[str, Counter] = {}


def register(
    name: str,
    *,
    bound: Union[Bound, Callable[[], Bound]],
    entries: Callable[[], int],
    clear: Callable[[], None],
    bytes: Optional[Callable[[], int]] = None,
    counts: Optional[Callable[[], Tuple[int, int]]] = None,
) -> Counter:
    """Register the cache `name` (dotted, after its module: `readers.cache.large`).

    `bound` is its limit: an entry count, a text for a limit of another kind ("64 MiB or 512
    entries", "one per site"), or a function giving either when the limit is configurable.
    `entries()` counts what it holds now, `clear()` empties it, `bytes()` (optional) weighs
    it, `counts()` (optional) gives (hits, misses) for a cache that keeps its own counts.
    Registering a name again replaces the earlier registration (a reloaded module).
    """
    if not name or not isinstance(name, str):
        raise ValueError("a cache needs a name")
    counter = Counter(name, bound, entries, clear, bytes, counts)
    with _lock:
        _caches[name] = counter
    return counter


def lru_cache_counts(function: Any) -> Callable[[], Tuple[int, int]]:
    """`counts` for a functools.lru_cache function: its own hits and misses."""

    def counts() -> Tuple[int, int]:
        info = function.cache_info()
        return info.hits, info.misses

    return counts


def register_lru_cache(name: str, function: Any) -> Counter:
    """Register a functools.lru_cache function: bound, entries and counts from cache_info()."""
    return register(
        name,
        bound=function.cache_info().maxsize,
        entries=lambda: function.cache_info().currsize,
        clear=function.cache_clear,
        counts=lru_cache_counts(function),
    )


def names() -> Tuple[str, ...]:
    with _lock:
        return tuple(sorted(_caches))


def stats() -> Dict[str, Dict[str, Any]]:
    """{name: {"entries", "bound", "hits", "misses"[, "bytes"]}} of every registered cache, by name."""
    with _lock:
        caches = sorted(_caches.items())
    return {name: counter.stats() for name, counter in caches}


def clear_all() -> None:
    """Empty every registered cache and zero its counters."""
    with _lock:
        caches = list(_caches.values())
    for counter in caches:
        counter.clear()
