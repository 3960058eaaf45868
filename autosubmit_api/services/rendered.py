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
import re
import secrets
from json.encoder import encode_basestring_ascii
from typing import Any, Callable, Dict, Hashable, List, Optional, Sequence, Tuple


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


def render(obj: Any) -> Rendered:
    """Serialise `obj`; every `Live` inside becomes a hole."""
    nonce = secrets.token_hex(6)
    keys: List[Hashable] = []

    def default(value: Any) -> str:
        if isinstance(value, Live):
            keys.append(value.key)
            return f"\x00{nonce}:{len(keys) - 1}\x00"
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    # The C encoder is a third faster without ASCII escaping; for an all-ASCII result (job
    # names, badges: the usual case) the two outputs are the same bytes.
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=default) + "\n"
    if not text.isascii():
        keys.clear()
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          default=default) + "\n"
    if not keys:
        return Rendered([text.encode("ascii")], [])
    marker = re.compile(r'"\\u0000' + nonce + r':(\d+)\\u0000"')
    parts = marker.split(text)
    pieces = [p.encode("ascii") for p in parts[0::2]]
    order = [keys[int(n)] for n in parts[1::2]]
    return Rendered(pieces, order)
