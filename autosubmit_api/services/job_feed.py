"""The v4 change feed: `GET /v4/experiments/<expid>/jobs?since=<cursor>` (docs/api-usage.md,
"Following changes"; docs/api.md 12).

An answer is `{"cursor": ..., "full": ..., "jobs": [...]}`: with `full` false, the jobs saved
since the cursor (each once, in list order); with `full` true, every job (the first request,
`since=` empty, or a cursor this server cannot answer from). The cursor is an opaque string
derived from data on disk, so any worker process of any host of the site understands it:

* Autosubmit 4.2 (`jobs` table, SQLite or PostgreSQL): the row count, the newest `modified`
  value T and, while T is recent (SETTLED), a digest of the rows saved at T. The next
  request reads only the rows with `modified >= T` (readers/job_db.feed_rows): those saved
  after T, and those of second T again when their digest differs (`modified` has one-second
  resolution: a row saved later in the same second is never missed). A smaller count (rows
  deleted) or no row at or after T (the table was recreated with older times) answers the
  full list; so does a difference holding every row.
* Pickles (a file, or a PostgreSQL `job_pkl` row): a digest of the job list's content. Each
  process keeps the last HISTORY versions it has seen of each experiment (one small snapshot
  each: names and a hash of each job's fields); a cursor naming one of them is answered with
  the difference, any other with the full list.

Every cursor also carries a hash of the site and the experiment: a cursor of another
experiment, site or layout answers the full list. A value that is not a cursor at all is a
400.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import weakref
from array import array
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter, ne
from typing import Any, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, NotFound
from autosubmit_api.models import Job, JobList, job_state, state_of_fields
from autosubmit_api.readers import backend, cache, job_db, storage
from autosubmit_api.services.jobs import list_views as job_lists
from autosubmit_api.services.jobs.loading import cached_view, check_experiment, load_jobs
from autosubmit_api.services.rendered import Live, Rendered, digest, render

PREFIX = "c1."
# Pickle versions remembered per experiment and process (a snapshot of a 50,000-job list is
# about 0.8 MB: the names are shared with the parsed list, plus one 8-byte hash per job).
HISTORY = 4
# Seconds after which no save can still be stamped with a given `modified` second (a save
# stamps its rows when it starts and commits them when it ends; clocks of the Autosubmit
# host and this one may differ a little): a cursor whose T is older needs no digest.
SETTLED = 60
VIEWS = ("base", "quick")


@dataclass(frozen=True)
class Change:
    """What changed since a cursor: `jobs` in list order (every job when `full`)."""

    cursor: str
    full: bool
    jobs: Tuple[Job, ...]
    job_list: Optional[JobList] = None  # the list a full answer comes from


def encode(fields: Sequence[Any]) -> str:
    raw = json.dumps(list(fields), separators=(",", ":")).encode("ascii")
    return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(cursor: str) -> Optional[List[Any]]:
    """The fields of a cursor; None for a cursor of another format version (answered in
    full); BadRequest for a value that is not a cursor."""
    head, dot, body = cursor.partition(".")
    if not dot or len(head) < 2 or head[0] != "c" or not head[1:].isdigit() or len(cursor) > 4096:
        raise BadRequest("since is not a cursor this API issued (send since= for the full list)")
    if head + "." != PREFIX:
        return None
    try:
        fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise BadRequest("since is not a cursor this API issued (send since= for the full list)") from None
    if not isinstance(fields, list) or len(fields) < 2 or not all(isinstance(f, (str, int)) for f in fields):
        raise BadRequest("since is not a cursor this API issued (send since= for the full list)")
    return fields


def scope(settings: Settings, expid: str) -> str:
    """The site and the experiment a cursor belongs to, hashed."""
    site = settings.db_connection_url if backend.is_postgres(settings) else settings.local_root_dir
    return digest(site.encode("utf-8", "surrogateescape"), expid.encode("utf-8"))[:16]


def changes(settings: Settings, expid: str, since: str) -> Change:
    """The jobs changed since `since` ("" for the full list) and the cursor to ask next."""
    check_experiment(settings, expid)
    fields = decode(since) if since else None
    where = storage.locate(settings, expid)
    if where.job_list is None:
        raise NotFound(f"job_list_{expid}.pkl not found")
    mine = scope(settings, expid)
    if fields is not None and fields[1] != mine:
        fields = None  # another experiment's or site's cursor
    if where.job_db:
        return _from_job_db(settings, expid, where, mine, fields)
    return _from_pickle(settings, expid, mine, fields)


# --- Autosubmit 4.2: the `modified` column ---------------------------------------------


def _rows_digest(rows: Sequence[Tuple[str, Job]]) -> str:
    return digest(repr(sorted((job.name, job_state(job)) for _, job in rows)).encode("utf-8", "surrogateescape"))[:16]


def _settled(newest: str, now: float) -> bool:
    return not newest or now - job_db.parse_modified(newest) > SETTLED


def _from_job_db(
    settings: Settings, expid: str, where: storage.Storage, mine: str, fields: Optional[List[Any]]
) -> Change:
    now = time.time()
    if fields is not None and len(fields) == 5 and fields[0] == "db" and isinstance(fields[2], int):
        _, _, old_count, top, old_digest = fields
        top = str(top)
        # A settled cursor has seen every row of its second: only later ones are news.
        count, newest, rows = job_db.feed_rows(settings, where, top, inclusive=bool(old_digest))
        if count >= old_count and newest >= top:
            if old_digest:
                same_second = [row for row in rows if row[0] == top]
                if _rows_digest(same_second) == old_digest:
                    rows = [row for row in rows if row[0] != top]
            if not rows and newest == top and count == old_count:
                return Change(encode(fields), False, ())
            if len(rows) < count:
                at_top = "" if _settled(newest, now) else _rows_digest([r for r in rows if r[0] == newest])
                if at_top and newest == top and not any(r[0] == top for r in rows):
                    at_top = old_digest  # that second's rows, unchanged, were dropped above
                return Change(encode(("db", mine, count, newest, at_top)), False, tuple(job for _, job in rows))
    # The current marker, then the whole list (read after it: anything saved in between
    # comes again with the next cursor, never missing).
    count, newest, _ = job_db.feed_rows(settings, where, None, inclusive=False)
    at_top = ""
    if not _settled(newest, now):
        count, newest, rows = job_db.feed_rows(settings, where, newest, inclusive=True)
        at_top = _rows_digest([row for row in rows if row[0] == newest])
    return _full(settings, expid, encode(("db", mine, count, newest, at_top)))


def _full(settings: Settings, expid: str, cursor: str) -> Change:
    jobs = load_jobs(settings, expid)
    return Change(cursor, True, jobs.jobs, jobs)


# --- pickles: the difference between two job tables ------------------------------------


_NAME = attrgetter("name")


class Snapshot:
    """One version of a job list: its names, a hash of each job's state, and the version's
    name (the same in every process: the reader's version of the stored pickle, else a
    digest of the content)."""

    __slots__ = ("names", "hashes", "digest")

    def __init__(self, jobs: JobList):
        listed = jobs.jobs
        if jobs.names is not None and jobs.states is not None:
            self.names, self.hashes = jobs.names, jobs.states  # noted as the reader built the jobs
        else:
            self.names = tuple(map(_NAME, listed))
            self.hashes = array("q", map(hash, map(state_of_fields, map(vars, listed))))
        if jobs.version:
            self.digest = digest(jobs.version.encode("utf-8", "surrogateescape"))[:16]
        else:
            states = repr([(job.name, job_state(job)) for job in listed])
            self.digest = digest(states.encode("utf-8", "surrogateescape"))[:16]

    def changed_in(self, new: "Snapshot") -> Optional[List[int]]:
        """Indices (into `new`) of the jobs whose state differs from this version's; None
        when the set of names differs (jobs added or removed: the full list is the answer)."""
        if self.names == new.names:
            return list(compress(range(len(new.hashes)), map(ne, new.hashes, self.hashes)))
        if len(self.names) != len(new.names) or set(self.names) != set(new.names):
            return None
        before = dict(zip(self.names, self.hashes))
        return [i for i, (name, value) in enumerate(zip(new.names, new.hashes)) if before[name] != value]


class History:
    """The last HISTORY snapshots of one experiment's pickle, newest last."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshots: List[Snapshot] = []
        self.current: Optional[Tuple["weakref.ref[JobList]", Snapshot]] = None

    def snapshot(self, jobs: JobList) -> Snapshot:
        with self.lock:
            if self.current is not None and self.current[0]() is jobs:
                return self.current[1]
        made = Snapshot(jobs)  # outside the lock: tens of milliseconds on 50,000 jobs
        with self.lock:
            self.current = (weakref.ref(jobs), made)
            self.snapshots = [s for s in self.snapshots if s.digest != made.digest][-(HISTORY - 1) :] + [made]
        return made

    def find(self, digest_text: Any) -> Optional[Snapshot]:
        with self.lock:
            return next((s for s in self.snapshots if s.digest == digest_text), None)


_histories_lock = threading.Lock()


def _history(settings: Settings, expid: str) -> History:
    key = (scope(settings, expid), expid)
    with _histories_lock:
        found: Optional[History] = cache.get("job_feed_history", key)
        if found is None:
            found = History()
            cache.put("job_feed_history", key, found)
    return found


def _from_pickle(settings: Settings, expid: str, mine: str, fields: Optional[List[Any]]) -> Change:
    jobs = load_jobs(settings, expid)
    history = _history(settings, expid)
    now = history.snapshot(jobs)
    cursor = encode(("pkl", mine, now.digest))
    if fields is not None and len(fields) == 3 and fields[0] == "pkl":
        if fields[2] == now.digest:
            return Change(cursor, False, ())
        before = history.find(fields[2])
        indices = before.changed_in(now) if before is not None else None
        if indices is not None:
            return Change(cursor, False, tuple(jobs.jobs[i] for i in indices))
    return Change(cursor, True, jobs.jobs, jobs)


# --- the answer ---------------------------------------------------------------------------


def shape(view: str) -> str:
    if view not in VIEWS:
        raise BadRequest(f"view must be one of {', '.join(VIEWS)} with since")
    return view


def body(change: Change, view: str) -> bytes:
    """The JSON answer of a Change in `view`'s item shape (keys sorted, as Flask writes them)."""
    if change.full and change.job_list is not None:
        jobs = change.job_list

        def build() -> Rendered:
            order = job_lists.v4_job_order(jobs.jobs)
            return render(
                {"cursor": Live("cursor"), "full": True, "jobs": job_lists.v4_feed_items(jobs.jobs, view, order)}
            )

        rendered = cached_view("view_v4_feed_full", jobs, view, build)
        return rendered.body(lambda keys: {"cursor": change.cursor})
    return render(
        {"cursor": change.cursor, "full": change.full, "jobs": job_lists.v4_feed_items(change.jobs, view)}
    ).body()


def jobs_since(settings: Settings, expid: str, since: str, view: str) -> bytes:
    """The answer to `GET /v4/experiments/<expid>/jobs?since=<since>&view=<view>`."""
    view = shape(view)
    return body(changes(settings, expid, since), view)
