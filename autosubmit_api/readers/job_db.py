"""The Autosubmit 4.2 job list: table `jobs` of `<exp>/db/job_list.db` or of the expid's
PostgreSQL schema (docs/data.md A.13, docs/storage.md), read into the same `models.JobList` the
pickle gives, plus the `experiment_structure` edges and the `sections` rows.

Plain columns, no unpickling: a 50,000-job table loads in a fraction of a second. What
differs from the pickle: `status` is a name (A.9; an unknown name is UNKNOWN), `date` ISO
text or NULL, `member` NULL when absent, `split`/`splits` -1 when the job is not split
(kept: upstream 4.2.0 sends -1 for these jobs, where a pickle's unsplit jobs are None; every
computation treats splits <= 1 as unsplit; `JobList.source` says the list came from here),
`modified` the UTC time of the row's last save.

Changes are cheap to follow: the cache key is `COUNT(*)` and `MAX(modified)` of `jobs` (and
the file's size and mtime on SQLite). When a previous read of the experiment is cached,
only the rows with `modified >= <previous max>` are read and patched into a new JobList
(`>=`: `modified` has one-second resolution, so a row saved in the same second as the last
read is read again rather than missed). Rows deleted since show up as a smaller count than
the patch gives, and cost a full read.
"""

from __future__ import annotations

import calendar
import time
from datetime import datetime
from typing import Any, Dict, Hashable, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError
from autosubmit_api.job_status import code_of_name
from autosubmit_api.models import Job, JobList, Section, first_by_name
from autosubmit_api.readers import cache, load_stats, paths, storage
from autosubmit_api.readers.job_build import make_job, opt_int, paused_gc, stamp
from autosubmit_api.readers.store import Store

TABLE = "jobs"
COLUMNS = (
    "name",
    "id",
    "status",
    "priority",
    "section",
    "date",
    "member",
    "chunk",
    "split",
    "splits",
    "local_logs_out",
    "local_logs_err",
    "remote_logs_out",
    "remote_logs_err",
    "wrapper_type",
    "platform_name",
    "wallclock",
    "fail_count",
    "submit_time_timestamp",
    "start_time_timestamp",
    "finish_time_timestamp",
)
SOURCE = "job_db"


def parse_modified(value: Any) -> int:
    """`jobs.modified` (UTC `YYYY-MM-DD HH:MM:SS`) as epoch seconds; 0 when unreadable."""
    if not value:
        return 0
    try:
        when = datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
    except ValueError:
        return 0
    if when.tzinfo is not None:
        return int(when.timestamp())
    return calendar.timegm(when.timetuple())


def _date(value: Any, seen: Dict[Any, Optional[datetime]]) -> Optional[datetime]:
    # A workflow has a handful of start dates: parse each text once.
    if value is None:
        return None
    try:
        return seen[value]
    except KeyError:
        pass
    found: Optional[datetime]
    try:
        found = datetime.fromisoformat(str(value).strip())
        if found.tzinfo is not None:
            found = found.replace(tzinfo=None)
    except ValueError:
        found = None
    seen[value] = found
    return found


def _text(value: Any) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _jobs(rows: Sequence[Sequence[Any]]) -> List[Job]:
    seen_dates: Dict[Any, Optional[datetime]] = {}
    out: List[Job] = []
    append = out.append
    for (
        name,
        job_id,
        status,
        priority,
        section,
        date,
        member,
        chunk,
        split,
        splits,
        out_local,
        err_local,
        out_remote,
        err_remote,
        wrapper_type,
        platform,
        wallclock,
        fail_count,
        submit,
        start,
        finish,
    ) in rows:
        if not isinstance(name, str) or not name:
            continue
        append(
            make_job(
                {
                    "name": name,
                    "status": code_of_name(status),
                    "section": section if isinstance(section, str) else "",
                    "id": job_id if isinstance(job_id, (int, str)) and not isinstance(job_id, bool) else None,
                    "priority": opt_int(priority) or 0,
                    "date": _date(date, seen_dates),
                    "member": member if isinstance(member, str) and member else None,
                    "chunk": opt_int(chunk),
                    "split": opt_int(split),
                    "splits": opt_int(splits),
                    # NULL until the logs exist: None, which upstream 4.2.0 sends as null.
                    "out_path_local": out_local if isinstance(out_local, str) else None,
                    "err_path_local": err_local if isinstance(err_local, str) else None,
                    "out_path_remote": out_remote if isinstance(out_remote, str) else "",
                    "err_path_remote": err_remote if isinstance(err_remote, str) else "",
                    "wrapper_type": _text(wrapper_type) or None,
                    "platform": _text(platform) or None,
                    "queue": None,
                    "wallclock": _text(wallclock) or None,
                    "processors": None,
                    "tasks": None,
                    "nodes": None,
                    "threads": None,
                    "prev_status": None,
                    "fail_count": opt_int(fail_count) or 0,
                    "submit_time": stamp(submit),
                    "start_time": stamp(start),
                    "finish_time": stamp(finish),
                }
            )
        )
    return out


def _order(st: Store) -> str:
    # SQLite: insertion order, as Autosubmit wrote the list. PostgreSQL moves updated rows,
    # so its physical order is no order: sort by the primary key there.
    return "rowid" if st.kind == "sqlite" else "name"


def read_marker(st: Store) -> Tuple[int, str]:
    """(COUNT(*), MAX(modified)) of `jobs`: the cheap change marker. DataError without
    the table."""
    if not st.has_table(TABLE):
        raise DataError(f"{st.label} has no {TABLE} table")
    if "modified" not in (st.columns(TABLE) or ()):
        count = st.one(f"SELECT COUNT(*) FROM {st.table(TABLE)}")[0]
        return int(count or 0), ""
    count, top = st.one(f"SELECT COUNT(*), MAX(modified) FROM {st.table(TABLE)}")
    return int(count or 0), str(top or "")


def read_jobs(st: Store, since: Optional[str] = None) -> List[Job]:
    """Every job (or those saved at or after `since`, a `modified` value), in list order."""
    where, params = "", {}
    if since is not None and "modified" in (st.columns(TABLE) or ()):
        where, params = "modified >= :since", {"since": since}
    with paused_gc():
        return _jobs(st.select(TABLE, COLUMNS, where=where, order_by=_order(st), params=params))


def rows_since(st: Store, since: Optional[str], inclusive: bool) -> Tuple[int, str, List[Tuple[str, Job]]]:
    """(COUNT(*), MAX(modified), [(modified, job)] of the rows saved after `since`, or at or
    after it when `inclusive`) of `jobs`, for the change feed (services/job_feed.py). With
    `since` None: the rows of the newest `modified` when `inclusive`, else none. The marker
    is read first and the rows only when it says there are some: a row saved between the
    two reads is in the rows, never only in the marker. DataError without the table or
    without its `modified` column."""
    if not st.has_table(TABLE):
        raise DataError(f"{st.label} has no {TABLE} table")
    if "modified" not in (st.columns(TABLE) or ()):
        raise DataError(f"{st.label}: {TABLE} has no modified column")
    count, newest = read_marker(st)
    if since is None:
        since = newest
    if not count or newest < since or (newest == since and not inclusive):
        return count, newest, []
    rows = st.select(
        TABLE, COLUMNS + ("modified",), where=f"modified {'>=' if inclusive else '>'} :since", params={"since": since}
    )
    with paused_gc():
        jobs = _jobs([row[:-1] for row in rows])
    # _jobs skips nameless rows: pair the rest with their `modified` by name.
    stamps = {row[0]: str(row[-1] or "") for row in rows}
    return count, max([newest] + list(stamps.values())), [(stamps[job.name], job) for job in jobs]


def feed_rows(
    settings: Settings, where: storage.Storage, since: Optional[str], inclusive: bool
) -> Tuple[int, str, List[Tuple[str, Job]]]:
    """`rows_since` of the experiment's `jobs`. On SQLite an unchanged file (same size and
    mtime, and of its `-wal`) asked the same question as the previous call is answered from
    that call's read (one kept per experiment: the event stream's poller asks every few
    seconds)."""
    file_ident = storage.job_db_file(settings, where.expid)
    question = (file_ident, since, inclusive)
    if file_ident is not None:
        slot = (settings.local_root_dir, where.expid)
        previous = cache.get("job_db_feed", slot)
        if previous is not None and previous[0] == question:
            answer: Tuple[int, str, List[Tuple[str, Job]]] = previous[1]
            return answer
    with storage.open_job_db(settings, where) as st:
        found = rows_since(st, since, inclusive)
    if file_ident is not None:
        cache.put("job_db_feed", slot, (question, found))
    return found


def _job_list(expid: str, jobs: Sequence[Job], top: str, path: str) -> JobList:
    by_name = first_by_name(jobs)
    return JobList(
        expid=expid,
        jobs=tuple(jobs),
        pkl_format="DB",
        pkl_mtime=parse_modified(top),
        pkl_path=path,
        by_name=by_name,
        source=SOURCE,
    )


def _patched(old: JobList, changed: Sequence[Job], top: str) -> JobList:
    replace = {job.name: job for job in changed}
    known = old.by_name
    by_name = dict(known)
    by_name.update(replace)
    if replace.keys() <= known.keys():
        get = replace.get
        jobs = tuple([get(job.name, job) for job in old.jobs])
    else:  # new jobs go last, in the order the table gave them
        pending = dict(replace)
        jobs = tuple([pending.pop(job.name, job) for job in old.jobs] + list(pending.values()))
    return JobList(
        expid=old.expid,
        jobs=jobs,
        pkl_format=old.pkl_format,
        pkl_mtime=parse_modified(top),
        pkl_path=old.pkl_path,
        by_name=by_name,
        source=SOURCE,
    )


# The cache's "job_db_latest" entry: (file identity or None, change marker, the job list).
Latest = Tuple[Optional[Tuple[Any, ...]], Tuple[int, str], JobList]


def load_job_list(settings: Settings, where: storage.Storage, st: Optional[Store] = None) -> JobList:
    """The experiment's 4.2 job list, shared and read-only; re-read in part when changed.

    On SQLite an unchanged file (same size and mtime, and of its `-wal`) is answered from
    the previous read without opening it; otherwise, and always on PostgreSQL, the change
    marker is read first and only a changed table costs rows. `st`: the experiment's store
    when the caller has it open already (PostgreSQL: the connection `locate` used).
    """
    expid = where.expid
    slot: Hashable = (settings.db_connection_url if where.postgres else settings.local_root_dir, expid)
    path = "job_list.db" if where.postgres else paths.job_list_db(settings, expid)
    file_ident = storage.job_db_file(settings, expid)
    previous: Optional[Latest] = cache.get("job_db_latest", slot)
    if previous is not None and file_ident is not None and previous[0] == file_ident:
        return previous[2]
    started = time.perf_counter()
    if st is None:
        with storage.open_job_db(settings, where) as opened:
            found, marker = _read(opened, expid, previous, path)
    else:
        found, marker = _read(st, expid, previous, path)
    if previous is None or found is not previous[2]:
        source = "job_db_postgres" if where.postgres else "job_db"
        load_stats.record(source, time.perf_counter() - started, len(found.jobs))
    cache.put("job_db_latest", slot, (file_ident, marker, found))
    return found


def _read(st: Store, expid: str, previous: Optional[Latest], path: str) -> Tuple[JobList, Tuple[int, str]]:
    """The job list given the previous (file identity, marker, JobList), and its marker."""
    marker = read_marker(st)
    count, top = marker
    if previous is not None and previous[1] == marker:
        return previous[2], marker
    # A newest `modified` that went back (a database restored or recreated) is no change to
    # patch: read everything.
    if previous is not None and previous[1][1] and top >= previous[1][1]:
        found = _patched(previous[2], read_jobs(st, since=previous[1][1]), top)
        if len(found.by_name) == count:
            return found, marker
        # Rows were deleted (or renamed) since: read them all.
    return _job_list(expid, read_jobs(st), top, path), marker


def read_sections(st: Store) -> Tuple[Section, ...]:
    """`sections` rows (one per job section); empty without the table."""
    if not st.has_table("sections"):
        return ()
    rows = st.select(
        "sections", ("name", "splits", "dependencies", "datelist", "members", "numchunks"), order_by="name"
    )
    return tuple(
        Section(
            name=str(r[0]),
            splits=opt_int(r[1]),
            dependencies=_text(r[2]) or "",
            datelist=_text(r[3]) or "",
            members=_text(r[4]) or "",
            numchunks=opt_int(r[5]),
        )
        for r in rows
        if r[0] is not None
    )


def load_sections(settings: Settings, where: storage.Storage) -> Tuple[Section, ...]:
    with storage.open_job_db(settings, where) as st:
        return read_sections(st)
