"""Pre-serialised JSON bodies with holes for the values that move with the clock.

A view over 50,000 jobs serialises to tens of megabytes; doing that per request would cost
seconds. Instead a view is serialised once per input change, with `Live(key)` markers where
a value depends on "now" (queue time of a queuing job, run time of a running one, the tree's
`pkl_timestamp`). Each request re-encodes only those few values and joins the pieces, so
the answer is byte-for-byte what `json.dumps` of the fresh view would give.

The encoding matches Flask's provider as the app configures it (sorted keys, compact,
ASCII, one trailing newline).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import weakref
from json.encoder import encode_basestring_ascii
from typing import Any, Callable, Dict, Hashable, Iterator, List, Optional, Sequence, Tuple

from autosubmit_api import cache_registry
from autosubmit_api.services.spliced_gzip import Plan

try:
    import orjson
except ImportError:  # the json module alone gives the same bytes, only slower
    # The module's name stands for "absent" (tested below); mypy types the name as the module.
    orjson = None  # type: ignore[assignment]

# Values of the holes of a body, by key, at one moment; a view's resolver makes them.
Resolve = Callable[[List[Hashable]], Dict[Hashable, Any]]


class Live:
    """A hole in a rendered body, filled per request by the view's resolver."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable):
        self.key = key


def dumps(obj: Any) -> str:
    """JSON of one hole value; scalars without going through the encoder object."""
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    kind = type(obj)
    if kind is int:
        return str(obj)
    if kind is str:
        return encode_basestring_ascii(obj)
    if kind is float:
        return json.dumps(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


# A hole holding the moment the body was produced (the tree's `pkl_timestamp`): a value that
# says when, not what. Bodies differing only there are the same answer to a client, so their
# entity tag is weak and leaves it out (docs/api-usage.md, "Conditional requests").
STAMP_KEY = "now"


class Version:
    """One body version as the HTTP layer sees it: the bytes, their entity tag (computed on
    first use) and the encoded variants (gzip, brotli) the HTTP layer computes once and
    keeps here, so every request for these bytes shares them (autosubmit_api/http_cache.py).
    The bytes of a body with holes are joined on first use, so a 304 never joins them.
    Lives as long as its owner keeps it (a Rendered's static body, or its body of the
    current second). Iterating yields the body, so a Response can carry a Version."""

    __slots__ = (
        "_body",
        "_join",
        "size",
        "weak",
        "_tag",
        "_tag_of",
        "variants",
        "lock",
        "gzip_of",
        "previous",
        "__weakref__",
    )

    def __init__(
        self,
        body: Optional[bytes],
        tag_of: Callable[[], str],
        weak: bool = False,
        join: Optional[Callable[[], bytes]] = None,
        size: int = 0,
        gzip_of: Optional[Callable[[int], bytes]] = None,
    ):
        """`body`, or None with `join` (which makes it) and `size` (its length). `gzip_of`,
        for a body of one second, makes its gzip at a level without joining it
        (services/spliced_gzip.py)."""
        self._body = body
        self._join = join
        self.size = len(body) if body is not None else size
        self.weak = weak
        self._tag: Optional[str] = None
        self._tag_of: Optional[Callable[[], str]] = tag_of
        self.variants: Dict[str, bytes] = {}
        self.lock = threading.RLock()
        self.gzip_of = gzip_of
        # The Version of the second before, for the requests of this second that arrive
        # while one request makes this one's bytes (http_cache.py); at most one back.
        self.previous: Optional[Version] = None

    @property
    def body(self) -> bytes:
        body = self._body
        if body is None:
            with self.lock:
                body = self._body
                if body is None:
                    join = self._join
                    assert join is not None, "a Version made without bytes has their join"
                    body = self._body = join()
                    self._join = None
                    _register(self)
        return body

    @property
    def moving(self) -> bool:
        """True for the body of one second of a view with holes (the only Versions made with
        a spliced gzip): its encodings are redone each second a client asks, so the HTTP layer
        picks its fastest levels for it."""
        return self.gzip_of is not None

    @property
    def joined(self) -> Optional[bytes]:
        """The bytes if they are made already, else None (without making them)."""
        return self._body

    @property
    def tag(self) -> str:
        tag = self._tag
        if tag is None:
            tag_of = self._tag_of
            assert tag_of is not None, "the tag is computed once, then kept"
            tag = self._tag = tag_of()
            self._tag_of = None
        return tag

    def __iter__(self) -> Iterator[bytes]:
        yield self.body


# id(body) -> weak reference to its Version; an entry goes when its Version does.
_versions: Dict[int, "weakref.ref[Version]"] = {}
_versions_lock = threading.Lock()


def _clear_versions() -> None:
    with _versions_lock:
        _versions.clear()


# Not bounded by a count: an entry lives as long as its Version, which a cached view holds.
cache_registry.register(
    "services.rendered.versions", bound="one per held body", entries=lambda: len(_versions), clear=_clear_versions
)


def _register(version: Version) -> Version:
    key = id(version._body)

    def forget(ref: "weakref.ref[Version]", key: int = key) -> None:
        with _versions_lock:
            if _versions.get(key) is ref:
                del _versions[key]

    with _versions_lock:
        _versions[key] = weakref.ref(version, forget)
    return version


def version_of(body: bytes) -> Optional[Version]:
    """The Version of bytes a Rendered produced (and still holds), else None."""
    ref = _versions.get(id(body))
    version = ref() if ref is not None else None
    return version if version is not None and version.body is body else None


def digest(*parts: bytes) -> str:
    """A short content hash: 128 bits of BLAKE2b over length-prefixed parts."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


class Rendered:
    """Static byte pieces alternating with Live keys."""

    __slots__ = ("pieces", "keys", "size", "last", "static", "_digest", "_lock", "_plan")

    def __init__(self, pieces: Sequence[bytes], keys: Sequence[Hashable]):
        self.pieces = list(pieces)
        self.keys = list(keys)
        self.size = sum(len(p) for p in self.pieces)
        self.last: Optional[Tuple[int, Version]] = None
        self._digest: Optional[str] = None
        self._lock = threading.Lock()
        self.static = None if self.keys else _register(Version(self.pieces[0], self.pieces_digest))
        # How to gzip a version without compressing the static pieces again: made with the
        # first version (only bodies with holes have versions of their own).
        self._plan: Optional[Plan] = None

    @property
    def is_static(self) -> bool:
        return not self.keys

    def pieces_digest(self) -> str:
        """The hash of the static pieces, once per Rendered (about 60 ms on 57 MB), on the
        first request that needs an entity tag rather than at render time."""
        if self._digest is None:
            self._digest = digest(*self.pieces)
        return self._digest

    def _encoded(self, values: Dict[Hashable, Any]) -> List[bytes]:
        return [dumps(values[key]).encode("ascii") for key in self.keys]

    def _join(self, encoded: List[bytes]) -> bytes:
        out = [self.pieces[0]]
        for text, piece in zip(encoded, self.pieces[1:]):
            out.append(text)
            out.append(piece)
        return b"".join(out)

    def body(self, resolve: Optional[Resolve] = None) -> bytes:
        """The bytes; `resolve` fills the holes of a body that has some."""
        if not self.keys:
            return self.pieces[0]
        assert resolve is not None, "a body with holes needs their values"
        return self._join(self._encoded(resolve(self.keys)))

    def version_at(self, now: int, resolver: Callable[[int], Resolve]) -> Version:
        """The body's Version at `now` (whole seconds): every moving value has a one-second
        resolution, so requests within the same second share one Version (joined bytes,
        entity tag, encoded variants). The first request of a new second makes it; a request
        arriving meanwhile gets the previous second's Version rather than wait, and one
        arriving after a pause (no Version of the second before) waits for the new one."""
        if self.static is not None:
            return self.static
        last = self.last
        if last is not None and last[0] >= now:
            return last[1]
        if not self._lock.acquire(blocking=False):
            if last is not None and last[0] == now - 1:
                return last[1]
            self._lock.acquire()
        try:
            last = self.last
            if last is not None and last[0] >= now:
                return last[1]
            return self._new_version(now, resolver, last[1] if last is not None and last[0] == now - 1 else None)
        finally:
            self._lock.release()

    def _new_version(self, now: int, resolver: Callable[[int], Resolve], previous: Optional[Version]) -> Version:
        encoded = self._encoded(resolver(now)(self.keys))
        plan = self._plan
        if plan is None:
            plan = self._plan = Plan(self.pieces)
        # The tag covers the pieces and every hole but the stamp: bytes that differ only in
        # the stamp share a (weak) tag, any other difference changes it. The values are
        # ASCII JSON, where a NUL byte cannot occur: joined by NULs they stay apart.
        moving = [text for key, text in zip(self.keys, encoded) if key != STAMP_KEY]
        version = Version(
            None,
            lambda: digest(self.pieces_digest().encode("ascii"), b"\x00".join(moving)),
            weak=STAMP_KEY in self.keys,
            join=lambda: self._join(encoded),
            size=self.size + sum(len(text) for text in encoded),
            gzip_of=lambda level: plan.gzip(encoded, level),
        )
        if previous is not None:
            previous.previous = None  # one second back, never a chain
            version.previous = previous
        self.last = (now, version)
        return version


# orjson bytes that may differ from json.dumps: floats under 1e-4, which orjson writes
# without exponent ("0.00001" vs repr's "1e-05") or with a shorter one ("2.5e-7" vs
# "2.5e-07"; every other finite float has the same text, checked on 300,000 random
# doubles), and DEL, which orjson leaves raw and json escapes as \u007f. Plain substring
# tests (about 50 ms each on 57 MB, where a regular expression takes seconds); a string
# holding such text only costs a fallback, never a wrong byte.
_MAY_DIFFER = (b"0.0000", b"e-", b"\x7f")
# Types json.dumps does not know go to `default` (which refuses all but Live), as with json.
_OPTIONS = (
    (
        orjson.OPT_SORT_KEYS
        | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_DATETIME
        | orjson.OPT_PASSTHROUGH_SUBCLASS
    )
    if orjson is not None
    else 0
)


def _fast_dumps(obj: Any, default: Callable[[Any], Any]) -> Optional[bytes]:
    """The body as json.dumps(sort_keys, compact, ensure_ascii) + newline writes it, by
    orjson (5x faster on the 57 MB tree of 50,000 jobs), or None when orjson's bytes might
    differ: non-ASCII text (json escapes it as \\uXXXX), the forms above, integers
    beyond 64 bits, non-string keys, subclasses of str/int/list/dict/tuple (orjson leaves
    them to `default`, which refuses them, and json then writes them as their base type).

    orjson sorts keys by their UTF-8 bytes, which is code point order, as sort_keys; it
    writes NaN and infinities as null where json writes NaN/Infinity, which the views
    never produce (their floats are ratios of finite times and sizes).
    """
    if orjson is None:
        return None
    try:
        data = orjson.dumps(obj, default=default, option=_OPTIONS)
    except TypeError:
        return None
    if not data.isascii() or any(needle in data for needle in _MAY_DIFFER):
        return None
    return data + b"\n"


def render(obj: Any) -> Rendered:
    """Serialise `obj`; every `Live` inside becomes a hole."""
    nonce = secrets.token_hex(6)
    keys: List[Hashable] = []

    def default(value: Any) -> str:
        if isinstance(value, Live):
            keys.append(value.key)
            return f"\x00{nonce}:{len(keys) - 1}\x00"
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    data = _fast_dumps(obj, default)
    if data is None:
        keys.clear()
        data = (
            json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=default) + "\n"
        ).encode("ascii")
    if not keys:
        return Rendered([data], [])
    # bytes.split on the literal marker head, then the hole number before its tail: one
    # pass over the body (a regular expression split of a 57 MB str took 0.9 s).
    head = b'"\\u0000' + nonce.encode("ascii") + b":"
    tail = b'\\u0000"'
    parts = data.split(head)
    pieces = [parts[0]]
    order = []
    for part in parts[1:]:
        end = part.index(tail)
        order.append(keys[int(part[:end])])
        pieces.append(part[end + len(tail) :])
    return Rendered(pieces, order)
