"""A bounded, process-wide LRU of parsed files, keyed by (path, mtime_ns, size).

A changed file has a new key, so a stale parse is never served; old entries fall off the
end. Several gunicorn workers each keep their own cache, which stays correct because the
key is the file's identity on disk.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, Optional, Tuple

_lock = threading.Lock()
_entries: "OrderedDict[Hashable, Any]" = OrderedDict()
_max_entries = 64


def configure(max_entries: int) -> None:
    global _max_entries
    with _lock:
        _max_entries = max(1, int(max_entries))
        while len(_entries) > _max_entries:
            _entries.popitem(last=False)


def clear() -> None:
    with _lock:
        _entries.clear()


def file_key(path: str) -> Optional[Tuple[str, int, int]]:
    """(path, mtime_ns, size) of an existing file, None when it does not exist."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (os.path.abspath(path), st.st_mtime_ns, st.st_size)


def cached(kind: str, key: Hashable, compute: Callable[[], Any]) -> Any:
    """`compute()` once per (kind, key); the result is shared, so treat it as read-only."""
    full = (kind, key)
    with _lock:
        if full in _entries:
            _entries.move_to_end(full)
            return _entries[full]
    value = compute()
    with _lock:
        _entries[full] = value
        _entries.move_to_end(full)
        while len(_entries) > _max_entries:
            _entries.popitem(last=False)
    return value


def cached_file(kind: str, path: str, parse: Callable[[str], Any], *extra: Hashable) -> Any:
    """parse(path), cached by the file's identity; FileNotFoundError when it is missing."""
    key = file_key(path)
    if key is None:
        raise FileNotFoundError(path)
    return cached(kind, key + tuple(extra), lambda: parse(path))


def size() -> int:
    with _lock:
        return len(_entries)
