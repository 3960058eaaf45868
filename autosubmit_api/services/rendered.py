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

import json
import secrets
from json.encoder import encode_basestring_ascii
from typing import Any, Callable, Dict, Hashable, List, Optional, Sequence, Tuple

try:
    import orjson
except ImportError:  # the json module alone gives the same bytes, only slower
    orjson = None


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


class Rendered:
    """Static byte pieces alternating with Live keys."""

    __slots__ = ("pieces", "keys", "size", "last")

    def __init__(self, pieces: Sequence[bytes], keys: Sequence[Hashable]):
        self.pieces = list(pieces)
        self.keys = list(keys)
        self.size = sum(len(p) for p in self.pieces)
        self.last: Optional[Tuple[int, bytes]] = None

    @property
    def is_static(self) -> bool:
        return not self.keys

    def body(self, resolve: Callable[[List[Hashable]], Dict[Hashable, Any]] = None) -> bytes:
        if not self.keys:
            return self.pieces[0]
        values = resolve(self.keys)
        out = [self.pieces[0]]
        for key, piece in zip(self.keys, self.pieces[1:]):
            out.append(dumps(values[key]).encode("ascii"))
            out.append(piece)
        return b"".join(out)

    def body_at(self, now: int, resolver: Callable[[int], Callable]) -> bytes:
        """The body at `now` (whole seconds): every moving value has a one-second
        resolution, so requests within the same second share one joined body."""
        if not self.keys:
            return self.pieces[0]
        last = self.last
        if last is not None and last[0] == now:
            return last[1]
        body = self.body(resolver(now))
        self.last = (now, body)
        return body


# orjson bytes that may differ from json.dumps: floats under 1e-4, which orjson writes
# without exponent ("0.00001" vs repr's "1e-05") or with a shorter one ("2.5e-7" vs
# "2.5e-07"; every other finite float has the same text, checked on 300,000 random
# doubles), and DEL, which orjson leaves raw and json escapes as \u007f. Plain substring
# tests (about 50 ms each on 57 MB, where a regular expression takes seconds); a string
# holding such text only costs a fallback, never a wrong byte.
_MAY_DIFFER = (b"0.0000", b"e-", b"\x7f")
# Types json.dumps does not know go to `default` (which refuses all but Live), as with json.
_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_SUBCLASS) if orjson is not None else 0


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
        data = (json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                           default=default) + "\n").encode("ascii")
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
        pieces.append(part[end + len(tail):])
    return Rendered(pieces, order)
