"""The job list pickle `<exp>/pkl/job_list_<expid>.pkl`: the project's ONLY unpickler (docs/data.md A.6).

Autosubmit pickles its job list in four formats, told apart by what the stream unpickles to
(never by a version string):

* F1  Autosubmit 3.x <= 3.13, protocol 0: a list of 12-tuples
* F2  Autosubmit 3.14-3.15 and 4.0.x, protocol 0 or 2: a list of 13-tuples (+ wrapper type)
* F3  Autosubmit 4.1.0-4.1.11: a networkx DiGraph whose node attribute "job" is a Job object
* F4  Autosubmit 4.1.12+: a dict job name -> the Job's state dict

The reference calls plain `pickle.load` with Autosubmit importable, which runs whatever a
crafted file asks for (docs/decisions.md Q37). Here a restricted `pickle.Unpickler` resolves
only the globals the real formats contain, each to a stdlib class that merely parses bytes
or to an inert stand-in defined below; every other global is refused, so nothing outside
this module can be reached from a pickle. Neither `networkx` nor `autosubmit` is imported.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import time
from array import array
from collections import OrderedDict
from datetime import date as _date
from datetime import datetime, time as _time, timedelta
from operator import itemgetter
from typing import Any, Callable, Dict, List, Optional, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError, NotFound
from autosubmit_api.models import Job, JobList, first_by_name
from autosubmit_api.readers import backend, cache, confined, job_db, load_stats, paths, storage, store
from autosubmit_api.readers.job_build import JOB_DEFAULTS as _JOB_DEFAULTS
from autosubmit_api.readers.job_build import Noted
from autosubmit_api.readers.job_build import opt_int
from autosubmit_api.readers.job_build import paused_gc  # noqa: F401 (re-exported for services)
from autosubmit_api.readers.job_build import stamp as _stamp

log = logging.getLogger(__name__)

# Autosubmit 3.x/4.0 rewrite the file in place, so a reader may see it half-written:
# read it again once after this pause (docs/data.md A.6).
RETRY_DELAY = 0.05


# --- inert stand-ins -----------------------------------------------------------------
#
# What find_class hands out is an immutable builtin type, a class of this module that
# defines __setstate__ (so pickle's BUILD applied to the global itself fails instead of
# setting class attributes), or a plain function made afresh for each load (so whatever a
# BUILD sets on it dies with that load). Nothing one file does can change the next load.


class _Inert:
    """An object of a class we never import: accepts any arguments, keeps its state dict."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "_Inert":
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        # Default pickling gives a dict; classes with __slots__ give (dict or None, slots).
        if isinstance(state, tuple) and len(state) == 2:
            for part in state:
                if isinstance(part, dict):
                    self.__dict__.update(part)
        elif isinstance(state, dict):
            self.__dict__.update(state)


class _DiGraph(_Inert):
    """networkx.classes.digraph.DiGraph: `_node`, `_succ`, `_pred` dicts are all we read."""


class _NodeView(_Inert):
    """networkx.classes.reportviews.NodeView, the DiGraph's cached `nodes` attribute."""


class _Job(_Inert):
    """autosubmit.job.job.Job of F3 pickles: its attributes end up in __dict__."""


def _make_path_parts() -> Callable[..., str]:
    def path_parts(*parts: str) -> str:
        """pathlib.PosixPath & co., REDUCE'd from their parts: a plain string."""
        # str.join raises TypeError for anything but strings; F4 has two paths per job,
        # so this stays a plain function rather than a class call.
        if parts and parts[0] == "/":
            return "/" + "/".join(parts[1:])
        return "/".join(parts)

    return path_parts


def _make_enum_value() -> Callable[..., Any]:
    def enum_value(*args: Any) -> Any:
        """An Enum such as autosubmit.job.template.Language, REDUCE'd from its value."""
        return args[0] if len(args) == 1 else None

    return enum_value


def _make_latin1_encode() -> Callable[..., bytes]:
    def latin1_encode(text: Any, encoding: Any = "utf-8") -> bytes:
        """_codecs.encode as Python 3 protocol-2 pickles use it for bytes: (str, 'latin1')."""
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise pickle.UnpicklingError("_codecs.encode is only allowed as (str, 'latin1')")
        return text.encode("latin1")

    return latin1_encode


_ALLOWED: Dict[Tuple[str, str], Any] = {
    ("datetime", "datetime"): datetime,
    ("datetime", "date"): _date,
    ("datetime", "time"): _time,
    ("datetime", "timedelta"): timedelta,
    ("builtins", "dict"): dict,
    ("builtins", "list"): list,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "dict"): dict,
    ("__builtin__", "list"): list,
    ("__builtin__", "set"): set,
    ("__builtin__", "frozenset"): frozenset,
    ("collections", "OrderedDict"): OrderedDict,
    ("networkx.classes.digraph", "DiGraph"): _DiGraph,
    ("networkx.classes.reportviews", "NodeView"): _NodeView,
    ("autosubmit.job.job", "Job"): _Job,
}
# Globals answered by a function created for each load (see above).
_PER_LOAD: Dict[Tuple[str, str], Callable[[], Callable[..., Any]]] = {
    ("_codecs", "encode"): _make_latin1_encode,
    ("pathlib", "PosixPath"): _make_path_parts,
    ("pathlib", "Path"): _make_path_parts,
    ("pathlib", "PurePosixPath"): _make_path_parts,
    ("pathlib", "WindowsPath"): _make_path_parts,
    ("autosubmit.job.template", "Language"): _make_enum_value,
}
# Names under these packages that are not listed above become generic inert objects: they
# are attributes the API never reads, and refusing them would make a whole file unreadable.
_INERT_PACKAGES = ("autosubmit", "networkx")


class _Refused(pickle.UnpicklingError):
    """A global outside the allow-list: the file is hostile or of an unknown kind."""


class _Unfinished(DataError):
    """The stream ended early or broke off: maybe a write caught mid-way, worth a re-read."""


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        found = _ALLOWED.get(key)
        if found is not None:
            return found
        maker = _PER_LOAD.get(key)
        if maker is not None:
            made = self.__dict__.setdefault("_made", {})
            if maker not in made:
                made[maker] = maker()
            return made[maker]
        if module.split(".", 1)[0] in _INERT_PACKAGES:
            return _Inert
        raise _Refused(f"global {module}.{name} is not allowed")


def _unpickle(data: bytes) -> Any:
    return _RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()


# --- field normalisation -------------------------------------------------------------


def _opt_str(value: Any) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _status(value: Any) -> int:
    code = opt_int(value)
    return -2 if code is None else code  # UNKNOWN


def _split(value: Any) -> Optional[int]:
    # Autosubmit writes -1 (or None) for "not split".
    if value is None or value == -1:
        return None
    number = opt_int(value)
    return None if number is None or number < 0 else number


def _when(value: Any) -> Optional[datetime]:
    if isinstance(value, datetime):
        return value
    if isinstance(value, _date):
        return datetime(value.year, value.month, value.day)
    return None


def _log_pair(value: Any) -> Tuple[str, str]:
    if isinstance(value, (tuple, list)) and len(value) >= 2:
        return (value[0] if isinstance(value[0], str) else "", value[1] if isinstance(value[1], str) else "")
    return ("", "")


def _from_tuple(entry: Any, noted: Noted) -> Job:
    """F1/F2: (name, id, status, priority, section, date, member, chunk, out, err,
    remote out, remote err[, wrapper_type])."""
    if not isinstance(entry, tuple) or len(entry) < 12 or not isinstance(entry[0], str):
        raise DataError("a job entry is not a 12- or 13-tuple")
    wrapper = entry[12] if len(entry) > 12 else None
    section = entry[4]
    member = entry[6]
    values = dict(_JOB_DEFAULTS)
    values.update(
        name=entry[0],
        status=_status(entry[2]),
        section=section if isinstance(section, str) else "",
        id=entry[1] if isinstance(entry[1], (int, str)) else 0,
        priority=opt_int(entry[3]) or 0,
        date=_when(entry[5]),
        member=member if isinstance(member, str) else None,
        chunk=opt_int(entry[7]),
        out_path_local=entry[8] if isinstance(entry[8], str) else "",
        err_path_local=entry[9] if isinstance(entry[9], str) else "",
        out_path_remote=entry[10] if isinstance(entry[10], str) else "",
        err_path_remote=entry[11] if isinstance(entry[11], str) else "",
        wrapper_type=_opt_str(wrapper),
    )
    return noted.job(values)


# The state keys read, in one order; every 4.1.x Job state has them all except where noted
# in _from_state, so one itemgetter call fetches a job's fields.
_STATE_KEYS = (
    "_local_logs",
    "_remote_logs",
    "_section",
    "_member",
    "id",
    "_chunk",
    "date",
    "priority",
    "prev_status",
    "_fail_count",
    "submit_time_timestamp",
    "start_time_timestamp",
    "finish_time_timestamp",
    "_split",
    "_splits",
)
_TEXT_KEYS = ("wrapper_type", "platform_name", "_queue", "_wallclock", "_processors", "_tasks", "_nodes", "_threads")
_GETTERS = {status_key: itemgetter(status_key, *_STATE_KEYS, *_TEXT_KEYS) for status_key in ("status", "_status")}
_TEXT_TYPES = frozenset((str, type(None)))


def _from_state(name: str, state: Dict[str, Any], status_keys: Tuple[str, str], noted: Noted) -> Job:
    """F3/F4: a Job's attribute dict; `status_keys` says which status name comes first.

    Run once per job of 50,000-job lists: the fields come from one C-level itemgetter call
    and the common types are checked inline; only unusual values or states lacking a key
    (older 4.1 versions lack start_time_timestamp, say) take the slower paths.
    """
    try:
        values = _GETTERS[status_keys[0]](state)
    except KeyError:
        get = state.get
        status = get(status_keys[0])
        if status is None:
            status = get(status_keys[1])
        values = (status,) + tuple(get(key) for key in _STATE_KEYS + _TEXT_KEYS)
    (
        status,
        local_logs,
        remote_logs,
        section,
        member,
        job_id,
        chunk,
        date,
        priority,
        prev_status,
        fail_count,
        submit,
        start,
        finish,
        split,
        splits,
    ) = values[:16]
    texts = values[16:]
    if not _TEXT_TYPES.issuperset(map(type, texts)):
        texts = tuple(_opt_str(text) for text in texts)
    wrapper_type, platform, queue, wallclock, processors, tasks, nodes, threads = texts
    if (
        local_logs.__class__ is tuple
        and len(local_logs) == 2
        and local_logs[0].__class__ is str
        and local_logs[1].__class__ is str
    ):
        out_local, err_local = local_logs
    else:
        out_local, err_local = _log_pair(local_logs)
    out_remote: Optional[str]
    err_remote: Optional[str]
    if remote_logs.__class__ is tuple and remote_logs == ("", ""):
        out_remote = err_remote = ""
    elif remote_logs is None:
        # 4.1.12+ stores None until the job has run remotely: there is no remote log name.
        out_remote = err_remote = None
    else:
        out_remote, err_remote = _log_pair(remote_logs)
    if not finish:
        # 4.1.13 leaves finish_time_timestamp None and records end_time_timestamp instead.
        finish = state.get("end_time_timestamp")
    return noted.job(
        {
            "name": name,
            "status": status if status.__class__ is int else _status(status),
            "section": section if section.__class__ is str else "",
            "id": job_id if job_id.__class__ in (int, str) else 0,
            "priority": priority if priority.__class__ is int else (opt_int(priority) or 0),
            "date": date if date is None or date.__class__ is datetime else _when(date),
            "member": member if member is None or member.__class__ is str else None,
            "chunk": chunk if chunk is None or chunk.__class__ is int else opt_int(chunk),
            "split": None if split is None or split == -1 else _split(split),
            "splits": None if splits is None or splits == -1 else _split(splits),
            "out_path_local": out_local,
            "err_path_local": err_local,
            "out_path_remote": out_remote,
            "err_path_remote": err_remote,
            "wrapper_type": wrapper_type,
            "platform": platform,
            "queue": queue,
            "wallclock": wallclock,
            "processors": processors,
            "tasks": tasks,
            "nodes": nodes,
            "threads": threads,
            "prev_status": prev_status if prev_status is None or prev_status.__class__ is int else opt_int(prev_status),
            "fail_count": fail_count if fail_count.__class__ is int else (opt_int(fail_count) or 0),
            "submit_time": None if submit is None else _stamp(submit),
            "start_time": None if start is None else _stamp(start),
            "finish_time": None if finish is None else _stamp(finish),
        }
    )


def _state_of(obj: Any) -> Optional[Dict[str, Any]]:
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, _Inert):
        return obj.__dict__
    return None


def _jobs_from_list(top: List[Any], protocol: int, noted: Noted) -> Tuple[str, List[Job]]:
    jobs = [_from_tuple(entry, noted) for entry in top]
    if top:
        fmt = "F1" if len(top[0]) == 12 else "F2"
    else:
        fmt = "F1" if protocol < 2 else "F2"
    return fmt, jobs


def _jobs_from_dict(top: Dict[Any, Any], noted: Noted) -> List[Job]:
    jobs = []
    for name, value in top.items():
        state = _state_of(value)
        if not isinstance(name, str) or state is None:
            raise DataError("a job entry is not a name -> attributes pair")
        jobs.append(_from_state(name, state, ("_status", "status"), noted))
    return jobs


def _jobs_from_graph(graph: _DiGraph, noted: Noted) -> Tuple[List[Job], List[Tuple[str, str]]]:
    nodes = graph.__dict__.get("_node")
    if not isinstance(nodes, dict):
        raise DataError("the job graph has no nodes")
    jobs = []
    for name, attrs in nodes.items():
        state = _state_of(attrs.get("job")) if isinstance(attrs, dict) else None
        if not isinstance(name, str) or state is None:
            continue  # nodes without a "job" attribute are not jobs (docs/data.md A.6)
        jobs.append(_from_state(name, state, ("status", "_status"), noted))
    known = {job.name for job in jobs}
    succ = graph.__dict__.get("_succ") or graph.__dict__.get("_adj") or {}
    edges: List[Tuple[str, str]] = []
    if isinstance(succ, dict):
        for parent, kids in succ.items():
            if parent in known and isinstance(kids, dict):
                edges.extend((parent, child) for child in kids if child in known)
    return jobs, edges


def _jobs_of(top: Any, protocol: int, noted: Noted) -> Tuple[List[Job], str, List[Tuple[str, str]]]:
    """The jobs, the format and the pickle's own edges, by the unpickled top-level type."""
    if isinstance(top, list):
        fmt, jobs = _jobs_from_list(top, protocol, noted)
        return jobs, fmt, []
    if isinstance(top, dict):
        return _jobs_from_dict(top, noted), "F4", []
    if isinstance(top, _DiGraph):
        jobs, edges = _jobs_from_graph(top, noted)
        return jobs, "F3", edges
    raise DataError(f"unknown job list format ({type(top).__name__})")


def parse_job_list(data: bytes, expid: str, *, mtime: int = 0, path: str = "", version: str = "") -> JobList:
    """The JobList held by a pickle's bytes (a file's or a PostgreSQL `job_pkl` blob's).

    DataError (naming the file) when the bytes are empty, truncated, corrupt, of no known
    format or ask for a global outside the allow-list.
    """
    name = os.path.basename(path) if path else f"job_list_{expid}.pkl"
    if not data:
        raise DataError(f"{name} is empty")
    protocol = data[1] if len(data) > 1 and data[0] == 0x80 else 0
    noted = Noted()
    try:
        with paused_gc():
            top = _unpickle(data)
            jobs, fmt, edges = _jobs_of(top, protocol, noted)
        top = None  # the raw state dicts can go before the index is built
    except DataError as exc:
        raise DataError(f"{name} cannot be read: {exc.message}") from None
    except RecursionError:
        raise DataError(f"{name} cannot be read: nested too deeply") from None
    except _Refused as exc:
        raise DataError(f"{name} cannot be read: {_short(exc)}") from None
    except (pickle.UnpicklingError, EOFError) as exc:
        raise _Unfinished(f"{name} cannot be read: {_short(exc) or 'truncated'}") from None
    except Exception as exc:  # noqa: BLE001 - any failure inside the bytes is a corrupt file
        # Malformed streams surface as TypeError, ValueError, KeyError, IndexError,
        # struct.error, UnicodeDecodeError, MemoryError... from the C unpickler.
        raise DataError(f"{name} cannot be read: {type(exc).__name__}: {_short(exc)}") from None
    by_name = first_by_name(jobs)
    return JobList(
        expid=expid,
        jobs=tuple(jobs),
        pkl_format=fmt,
        pkl_mtime=int(mtime),
        pkl_path=path,
        pkl_edges=tuple(edges),
        by_name=by_name,
        version=version,
        names=tuple(noted.names),
        states=array("q", noted.states),
    )


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _read(settings: Settings, path: str) -> Tuple[bytes, int, str]:
    """The bytes, their mtime and version, from one opened descriptor (never from a later stat
    of the path, which a rewrite may have replaced meanwhile)."""
    data, st = confined.read_bytes(settings, path)
    return data, int(st.st_mtime), f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def read_job_list_file(settings: Settings, path: str, expid: str, *, retry_delay: float = RETRY_DELAY) -> JobList:
    """Parse one pickle file, reading it a second time if the first copy was half-written."""
    name = os.path.basename(path)
    try:
        data, mtime, version = _read(settings, path)
    except FileNotFoundError:
        raise NotFound(f"{name} not found") from None
    except OSError as exc:
        raise DataError(f"{name} cannot be read: {exc.strerror}") from None
    started = time.perf_counter()
    try:
        found = parse_job_list(data, expid, mtime=mtime, path=path, version=version)
    except _Unfinished as first:
        log.info("%s: %s; reading it again", path, first.message)
        time.sleep(retry_delay)
        try:
            data, mtime, version = _read(settings, path)
        except FileNotFoundError:
            raise NotFound(f"{name} not found") from None
        except OSError as exc:
            raise DataError(f"{name} cannot be read: {exc.strerror}") from None
        started = time.perf_counter()
        found = parse_job_list(data, expid, mtime=mtime, path=path, version=version)
    load_stats.record("pickle", time.perf_counter() - started, len(found.jobs), len(data))
    return found


def load_job_list(settings: Settings, expid: str) -> JobList:
    """The experiment's current job list, from wherever its layout keeps it
    (readers/storage.py): the 4.2 `jobs` table, the pickle file, or a PostgreSQL `job_pkl`
    row; parsed once per version. The result is shared between requests: treat it as
    read-only.

    NotFound "<expid> has no job list (...)", naming where it looked, when the experiment has
    no job list at all;
    DataError when it cannot be read; Unavailable when its database is locked or down.
    """
    if backend.is_postgres(settings):
        # One connection answers where the job list is and, for a `jobs` table, its rows.
        with store.open_schema(settings, expid, f"the job list of {expid}") as st:
            where = storage.locate_in(st, expid)
            if where.job_list == storage.JOB_DB:
                return job_db.load_job_list(settings, where, st)
    else:
        where = storage.locate(settings, expid)
        if where.job_list == storage.JOB_DB:
            return job_db.load_job_list(settings, where)
    if where.job_list is None:
        raise storage.no_job_list(expid, postgres=where.postgres)
    if where.postgres:
        return _load_postgres_pickle(settings, where)
    path = paths.job_list_pkl(settings, expid)
    parse: Callable[[str], JobList] = lambda p: read_job_list_file(settings, p, expid)  # noqa: E731
    try:
        return cache.cached_file("job_list", path, parse)
    except FileNotFoundError:
        raise storage.no_job_list(expid, postgres=False) from None


def _load_postgres_pickle(settings: Settings, where: storage.Storage) -> JobList:
    """The pickle of a `job_pkl` row, parsed once per (modified, size) of the row."""
    expid = where.expid
    identity = storage.pkl_row_identity(settings, where)
    if identity is None:
        raise storage.no_job_list(expid, postgres=True)

    def parse() -> JobList:
        data, modified = storage.pkl_bytes(settings, where)
        started = time.perf_counter()
        found = parse_job_list(
            data, expid, mtime=storage.parse_pkl_modified(modified), version=f"{modified}-{len(data)}"
        )
        load_stats.record("pickle_postgres", time.perf_counter() - started, len(found.jobs), len(data))
        return found

    return cache.cached("pg_job_list", (settings.db_connection_url, expid, where.pkl_schema) + identity, parse)


def job_list_mtime(settings: Settings, expid: str) -> Optional[float]:
    """Epoch seconds of the job list's last change (the pickle's mtime, `job_pkl.modified`,
    or `MAX(jobs.modified)` of a 4.2 experiment); None when the experiment has none."""
    where = storage.locate(settings, expid)
    if where.job_list == storage.JOB_DB:
        file_key = storage.job_db_file(settings, expid)

        def read() -> int:
            with storage.open_job_db(settings, where) as st:
                return job_db.parse_modified(job_db.read_marker(st)[1])

        if file_key is None:  # PostgreSQL: one aggregate query
            return read() or None
        return cache.cached("job_db_mtime", file_key, read) or None
    if where.job_list is None:
        return None
    if where.postgres:
        identity = storage.pkl_row_identity(settings, where)
        return (storage.parse_pkl_modified(identity[0]) or None) if identity else None
    try:
        return os.stat(paths.job_list_pkl(settings, expid)).st_mtime
    except OSError:
        return None
