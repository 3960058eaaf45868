"""Conditional GET and compression for every read answer (docs/api-usage.md, "Conditional
requests and compression"; figures in docs/performance.md).

One `after_request` hook, for GET and HEAD answers of status 200 that are not errors:

- `ETag`: the body's version. The big job views come from a cached `Rendered` body
  (services/rendered.py) that carries its `Version`: the tag is hashed once per version
  and a repeat costs a dictionary look-up. Any other body (small, built per request) is
  hashed per request (BLAKE2b, about 1 ms per MB) and its version kept in a small LRU
  bounded in bytes, so its encoded variants are shared too.
- `Cache-Control: no-cache`: browsers and scripts may keep the answer but revalidate.
- `If-None-Match` (RFC 9110 13.1.2: a list or `*`, weak comparison) matching the tag of the
  representation this request would get answers 304 with no body, keeping the other headers
  (CORS ones are added after this hook by flask-cors).
- `Accept-Encoding` (q-values, `*`): brotli where offered, else gzip, else the plain bytes;
  gzip first for a body of one second (a Version with `gzip_of`), whose gzip is spliced from
  pieces compressed once (services/spliced_gzip.py). Each encoding is computed once per body
  version and kept with it; a request that finds another one making this second's bytes
  sends the previous second's version instead of waiting (`_sendable`). Bodies under
  MIN_COMPRESS_BYTES stay plain. The tag of an encoded variant is the plain tag with a
  `-br` / `-gz` suffix (each representation has its own strong tag), and `Vary:
  Accept-Encoding` goes on every compressible answer.

v3 error answers are 200s with `"error": true`: they get no tag (nor does any other status).
An answer that says `Cache-Control: no-store` (a live report: `/metrics` and `/v4/health`, whose counters
move with every request) is left as it is: no tag, no encoding, nothing kept.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from typing import List, Optional, Tuple, Union

from flask import Flask, Response, request

from autosubmit_api import cache_registry
from autosubmit_api.services.rendered import Version, digest, version_of

try:
    import brotli
except ImportError:  # gzip alone still serves every client
    brotli = None

# Under about a kilobyte the framing and the CPU are not worth it (and an error body is small).
MIN_COMPRESS_BYTES = 1024
# Levels chosen on the 57 MB tree of a 50,000-job experiment (docs/performance.md): gzip 6
# and brotli 5 cost 0.8-0.9 s per version where these take 0.14 s and 0.37 s, for gzip 14.6x
# and brotli 28x smaller (level 6: 20x, quality 5: 33x).
GZIP_LEVEL = 1
BROTLI_QUALITY = 4
# A body whose job times move with the clock (running or queuing jobs) is a new version every
# second, so a poll usually compresses again. Clients that offer gzip get it spliced (a few
# milliseconds a second); one that asks for brotli only gets quality 1 (1/18.6 of the tree,
# 0.14 s).
BROTLI_QUALITY_MOVING = 1
# Versions of bodies that no Rendered holds, by content hash: bounded in bytes and count.
LRU_BYTES = 64 * 1024 * 1024
LRU_ENTRIES = 512
# Only small bodies are checked for the v3 `"error": true` habit (error bodies are small).
ERROR_SCAN_BYTES = 64 * 1024
ERROR_MARK = b'"error":true'

SUFFIX = {"br": "-br", "gzip": "-gz"}


def _encode(coding: str, body: bytes, moving: bool = False) -> bytes:
    if coding == "br":
        compressed: bytes = brotli.compress(body, quality=BROTLI_QUALITY_MOVING if moving else BROTLI_QUALITY)
        return compressed
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


class _Recent:
    """Versions of per-request bodies by content hash (LRU, bounded)."""

    def __init__(self, name: str, max_bytes: int, max_entries: int):
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self.items: "OrderedDict[str, Version]" = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self.counter = cache_registry.register(
            name,
            bound=f"{max_bytes // (1024 * 1024)} MiB or {max_entries} entries",
            entries=lambda: len(self.items),
            clear=self.clear,
            bytes=lambda: self.size,
        )

    def version(self, body: bytes) -> Version:
        tag = digest(body)
        with self.lock:
            found = self.items.get(tag)
            if found is not None:
                self.items.move_to_end(tag)
                self.counter.hits += 1
                return found
            self.counter.misses += 1
        version = Version(body, lambda: tag)
        if len(body) * 4 > self.max_bytes:
            return version  # too big to keep: tagged, encoded for this request only
        with self.lock:
            if tag not in self.items:
                self.items[tag] = version
                self.size += len(body)
                while self.size > self.max_bytes or len(self.items) > self.max_entries:
                    _, old = self.items.popitem(last=False)
                    self.size -= len(old.body)
            return self.items[tag]

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


_recent = _Recent("http_cache.recent", LRU_BYTES, LRU_ENTRIES)


def install(app: Flask) -> None:
    """Register the hook. Call before CORS(app): hooks run in reverse order, so flask-cors
    then adds its headers to the 304s too."""
    app.after_request(conditional)


def offered_codings() -> Tuple[str, ...]:
    return ("br", "gzip") if brotli is not None else ("gzip",)


def choose_coding(header_value: Optional[str], spliced: bool = False) -> Optional[str]:
    """The coding for this Accept-Encoding: the highest q among ours (brotli before gzip on a
    tie, gzip first for a `spliced` body), None for the plain bytes (absent header, or
    nothing of ours with q > 0)."""
    if not header_value:
        return None
    accept = request.accept_encodings
    best, best_q = None, 0.0
    for coding in ("gzip", "br") if spliced and brotli is not None else offered_codings():
        q = accept.quality(coding)
        if q > best_q:
            best, best_q = coding, q
    return best


def _tags(header_value: str) -> List[str]:
    """The entity tags of an If-None-Match value, `*` included, without W/ (weak comparison)."""
    tags, rest = [], header_value.strip()
    while rest:
        rest = rest.lstrip(" \t,")
        if not rest:
            break
        if rest.startswith("*"):
            tags.append("*")
            rest = rest[1:]
            continue
        if rest[:2] == "W/":
            rest = rest[2:]
        if not rest.startswith('"'):
            break  # malformed: ignore the rest of the header
        end = rest.find('"', 1)
        if end < 0:
            break
        tags.append(rest[1:end])
        rest = rest[end + 1 :]
    return tags


def _single_body(response: Response) -> Union[bytes, Version, None]:
    """The answer's one body (or the Version it carries), None for a stream."""
    parts = response.response
    if isinstance(parts, Version):
        return parts
    if response.direct_passthrough or response.is_streamed:
        return None
    if isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], bytes):
        return parts[0]
    if isinstance(parts, list) and not parts:
        return b""
    return None


def _is_error(body: bytes) -> bool:
    return len(body) <= ERROR_SCAN_BYTES and body[:1] == b"{" and ERROR_MARK in body


def _ready(version: Version, coding: Optional[str]) -> Optional[bytes]:
    """The bytes of `version` in `coding` (None: plain) if they are made, without making them."""
    return version.joined if coding is None else version.variants.get(coding)


def _make(version: Version, coding: Optional[str]) -> bytes:
    """The bytes of `version` in `coding`, made once per version whatever the concurrency."""
    with version.lock:
        if coding is None:
            return version.body
        found = version.variants.get(coding)
        if found is None:
            if coding == "gzip" and version.gzip_of is not None:
                found = version.gzip_of(GZIP_LEVEL)
            else:
                found = _encode(coding, version.body, version.moving)
            version.variants[coding] = found
        return found


def _sendable(version: Version, coding: Optional[str]) -> Tuple[Version, bytes]:
    """The version to send and its bytes in `coding`: `version`, or the version of the second
    before when another request is making this one's bytes and that one's are ready (a body
    whose times move is made by one request per second; the others do not wait for it)."""
    found = _ready(version, coding)
    if found is not None:
        return version, found
    previous = version.previous
    if previous is None:
        return version, _make(version, coding)
    if not version.lock.acquire(blocking=False):
        found = _ready(previous, coding)
        if found is not None:
            return previous, found
        return version, _make(version, coding)
    try:
        return version, _make(version, coding)
    finally:
        version.lock.release()


def conditional(response: Response) -> Response:
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if "ETag" in response.headers or "Content-Encoding" in response.headers:
        return response
    if response.headers.get("Cache-Control") == "no-store":
        return response
    body = _single_body(response)
    if isinstance(body, Version):
        version = body
    elif body is None or _is_error(body):
        return response
    else:
        version = version_of(body) or _recent.version(body)
    accept = request.headers.get("Accept-Encoding")
    compressible = version.size >= MIN_COMPRESS_BYTES
    coding = choose_coding(accept, version.moving) if compressible else None
    suffix = SUFFIX[coding] if coding else ""
    if compressible:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = "no-cache"
    wanted = request.headers.get("If-None-Match")
    tags = _tags(wanted) if wanted is not None else []
    if _not_modified(response, version, suffix, tags):
        return response
    sent, encoded = _sendable(version, coding)
    if sent is not version and _not_modified(response, sent, suffix, tags):
        return response
    response.headers["ETag"] = _etag(sent, suffix)
    if coding:
        response.headers["Content-Encoding"] = coding
    response.response = [encoded]
    response.headers["Content-Length"] = str(len(encoded))
    return response


def _etag(version: Version, suffix: str) -> str:
    return ('W/"%s"' if version.weak else '"%s"') % (version.tag + suffix)


def _not_modified(response: Response, version: Version, suffix: str, tags: List[str]) -> bool:
    """Turn the answer into a 304 (no body) if If-None-Match names this version's tag."""
    if not tags or ("*" not in tags and version.tag + suffix not in tags):
        return False
    response.headers["ETag"] = _etag(version, suffix)
    response.status_code = 304
    response.response = []
    for name in ("Content-Length", "Content-Type"):
        response.headers.pop(name, None)
    return True
