"""Live push of the change feed: `GET /v4/experiments/<expid>/events` as Server-Sent Events
(docs/api-usage.md, "Following changes"; the worker settings in docs/deployment.md).

Per process, one `Watch` per watched experiment: a thread started by the first subscriber
and stopped after the last one leaves, that asks the change feed (services/job_feed.py)
what changed since its last cursor every `API_EVENTS_INTERVAL` seconds, however many
subscribers there are, and publishes each change as an `Event`. A subscriber's generator
sleeps on the watch's Condition (no CPU while idle) until an event or its heartbeat time,
then writes the event (`id:` the new cursor, `event: jobs`, `data:` the feed answer) or a
heartbeat comment. An event is rendered once per item shape, for every subscriber.

A subscriber whose cursor is not the event's starting point (it connected with an older
`Last-Event-ID`, or missed events) asks the feed for its own difference instead, so it
never misses a change nor sees one twice.

Streams per process are bounded (`API_EVENTS_MAX_SUBSCRIBERS`, and never more than the
server's threads less a reserve for ordinary requests): one more is answered 503.
`subscriber_count()` tells how many streams this process holds (for metrics).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Deque, Dict, Generator, List, Optional, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError, Unavailable
from autosubmit_api.readers import cache
from autosubmit_api.services import job_feed

log = logging.getLogger(__name__)

# Events a watch keeps for subscribers that are between two waits.
EVENTS_KEPT = 16
# The browser's reconnection delay, sent once at the start of a stream (milliseconds).
RETRY_MS = 5000


def reserve(threads: int) -> int:
    """Threads of a worker process kept for ordinary requests, whatever the streams."""
    return max(1, threads // 8)


def capacity(settings: Settings) -> int:
    """Streams this process may hold: the setting, within the server's threads less a reserve."""
    cap = settings.events_max_subscribers
    if settings.server_threads:
        cap = min(cap, settings.server_threads - reserve(settings.server_threads))
    return max(cap, 0)


class Event:
    """One published change: from cursor `before` to `cursor`. A full change (every job)
    holds the whole job list: it is let go as soon as a newer event follows, and a
    subscriber that reaches it later asks the feed for its own difference instead."""

    __slots__ = ("seq", "before", "cursor", "change", "payloads", "lock")

    def __init__(self, seq: int, before: str, change: job_feed.Change):
        self.seq = seq
        self.before = before
        self.cursor = change.cursor
        self.change: Optional[job_feed.Change] = change
        self.payloads: Dict[str, bytes] = {}
        self.lock = threading.Lock()

    def payload(self, view: str) -> Optional[bytes]:
        """The frame in `view`'s shape; None once let go."""
        with self.lock:
            found = self.payloads.get(view)
            if found is None and self.change is not None:
                found = self.payloads[view] = frame(self.change, view)
        return found

    def let_go(self) -> None:
        with self.lock:
            self.change = None
            self.payloads = {}


def first_frame(expid: str, change: job_feed.Change, view: str) -> bytes:
    """The opening frame of a stream. A full one (the whole job list, 17 MB at 50,000 jobs) is
    the same for every stream opened on that version: made once and shared (the streams hold
    one bytes object, not a copy each), kept with the parsed job lists (readers/cache.py)."""
    if not change.full:
        return frame(change, view)
    return cache.cached("event_full_frame", (expid, change.cursor, view), lambda: frame(change, view))


def frame(change: job_feed.Change, view: str) -> bytes:
    """The SSE frame of a change: its cursor as the event id, the feed answer as data."""
    data = job_feed.body(change, view).rstrip(b"\n")  # compact ASCII JSON: one line
    return b"id: " + change.cursor.encode("ascii") + b"\nevent: jobs\ndata: " + data + b"\n\n"


class Watch:
    """The poller of one experiment in this process and its recent events."""

    def __init__(self, settings: Settings, expid: str, cursor: str):
        self.settings = settings
        self.expid = expid
        self.cursor = cursor
        self.cond = threading.Condition()
        self.events: Deque[Event] = deque(maxlen=EVENTS_KEPT)
        self.seq = 0
        self.subscribers = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"events-{expid}", daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.settings.events_interval_seconds):
            self.check()

    def check(self) -> None:
        """One look at the job list; publishes an event when it changed."""
        try:
            change = job_feed.changes(self.settings, self.expid, self.cursor)
        except APIError as exc:  # the job list is being rewritten, locked, or gone: try again later
            log.info("events %s: %s", self.expid, exc.message)
            return
        except Exception:  # noqa: BLE001 - the poller must outlive one bad look; said in the log
            log.exception("events %s: checking the job list failed", self.expid)
            return
        if change.cursor == self.cursor and not change.jobs:
            return
        with self.cond:
            self.seq += 1
            for older in self.events:
                if older.change is not None and older.change.full:
                    older.let_go()
            self.events.append(Event(self.seq, self.cursor, change))
            self.cursor = change.cursor
            self.cond.notify_all()

    def since(self, seq: int) -> List[Event]:
        """Events after `seq` (call with the condition held)."""
        return [event for event in self.events if event.seq > seq]


class Hub:
    """The watches of this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watches: Dict[Tuple[str, str], Watch] = {}
        self.count = 0

    def join(self, settings: Settings, expid: str, cursor: str) -> Tuple[Watch, int]:
        key = (job_feed.scope(settings, expid), expid)
        with self.lock:
            cap = capacity(settings)
            if self.count >= cap:
                raise Unavailable(
                    f"this server process holds its most event streams ({cap}); try again later, or poll "
                    f"GET /v4/experiments/{expid}/jobs?since=<cursor> (a server with more threads holds more: "
                    "docs/deployment.md)"
                )
            watch = self.watches.get(key)
            if watch is None:
                watch = self.watches[key] = Watch(settings, expid, cursor)
                watch.thread.start()
            watch.subscribers += 1
            self.count += 1
        with watch.cond:
            return watch, watch.seq

    def leave(self, watch: Watch) -> None:
        with self.lock:
            watch.subscribers -= 1
            self.count -= 1
            if watch.subscribers == 0:
                watch.stopped.set()
                key = (job_feed.scope(watch.settings, watch.expid), watch.expid)
                if self.watches.get(key) is watch:
                    del self.watches[key]

    def counts(self) -> Dict[str, int]:
        with self.lock:
            return {watch.expid: watch.subscribers for watch in self.watches.values()}


_hub = Hub()


def subscriber_count() -> int:
    """Event streams open in this process now."""
    return _hub.count


def subscribers_by_experiment() -> Dict[str, int]:
    """Open event streams of this process per experiment."""
    return _hub.counts()


def subscribe(settings: Settings, expid: str, view: str, since: Optional[str]) -> "Stream":
    """The stream of one subscriber. Errors (bad view or cursor, unknown experiment, no slot
    free) are raised here, before the first byte; the stream then lasts until the client
    goes away."""
    view = job_feed.shape(view)
    first = job_feed.changes(settings, expid, since or "")
    watch, seq = _hub.join(settings, expid, first.cursor)
    return Stream(watch, _frames(settings, watch, seq, first, view))


class Stream:
    """A subscriber's frames; `close()` (which every WSGI server calls, PEP 3333) gives its
    slot back exactly once, whether the stream was read or not."""

    def __init__(self, watch: Watch, frames: Generator[bytes, None, None]):
        self.watch = watch
        self.frames = frames
        self.closed = False
        self.lock = threading.Lock()

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> bytes:
        return next(self.frames)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        try:
            self.frames.close()
        finally:
            _hub.leave(self.watch)


def _frames(
    settings: Settings, watch: Watch, seq: int, first: job_feed.Change, view: str
) -> Generator[bytes, None, None]:
    heartbeat = settings.events_heartbeat_seconds
    yield b"retry: %d\n\n" % RETRY_MS
    cursor = first.cursor
    if first.full or first.jobs:
        yield first_frame(watch.expid, first, view)
    while True:
        deadline = time.monotonic() + heartbeat
        with watch.cond:
            while watch.seq == seq:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                watch.cond.wait(left)
            events = watch.since(seq)
            seq = watch.seq
        if not events:
            yield b": heartbeat\n\n"
            continue
        for event in events:
            payload = event.payload(view) if event.before == cursor else None
            if payload is not None:
                cursor = event.cursor
            else:  # elsewhere in the history, or the event was let go: its own difference
                try:
                    change = job_feed.changes(settings, watch.expid, cursor)
                except APIError:
                    break  # the watch retries; so will this subscriber on the next event
                cursor = change.cursor
                if not (change.full or change.jobs):
                    break
                payload = frame(change, view)
            yield payload
            if cursor == watch.cursor:
                break
