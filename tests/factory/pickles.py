"""Writes `job_list_<expid>.pkl` in the four real formats (docs/data.md A.6), for tests and benchmarks.

The streams hold the same globals real Autosubmit writes (compare with pickletools against
the fixtures): F1 is emitted opcode by opcode as Python 2 protocol 0 (`S'...'` strings,
`datetime.datetime` only); F2 is Python 3 protocol 2 (`datetime.datetime`, `_codecs.encode`);
F3 references `networkx.classes.digraph.DiGraph`, `builtins.dict`, `autosubmit.job.job.Job`
and `networkx.classes.reportviews.NodeView` through stand-in modules that exist in
sys.modules only while dumping; F4 is a dict of Job state dicts with `datetime.datetime`
and `pathlib.PosixPath`. Every file is written to `<path>.tmp` and renamed, as Autosubmit
4.1 does, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import types
from datetime import datetime
from pathlib import Path, PosixPath
from typing import Any, Dict, List, Optional, Sequence, Union

from tests.factory.specs import JobSpec

FORMATS = ("F1", "F2", "F3", "F4")


def write_job_list(
    path: Union[str, Path], jobs: Sequence[JobSpec], fmt: str, *, recorded_root: Optional[str] = None
) -> None:
    """Write `jobs` (in this order) as the job list pickle `path` in format F1..F4.

    F3 and F4 record each job's tmp and log paths under the site's root, as Autosubmit does:
    `recorded_root` when given (a site built in one place and served from another, as the
    bundled examples), else the root `path` lies in.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown pickle format {fmt!r}; expected one of {FORMATS}")
    path = Path(path)
    root = recorded_root or _root_of(path)
    data = {"F1": _dump_f1, "F2": _dump_f2, "F3": _dump_f3, "F4": _dump_f4}[fmt](list(jobs), path, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


# --- F1 / F2: lists of tuples ----------------------------------------------------------


def _tuple_of(job: JobSpec, remote_logs: bool) -> tuple:
    remote_out, remote_err = (job.out_log, job.err_log) if remote_logs else ("", "")
    return (
        job.name,
        job.id,
        job.status,
        job.priority,
        job.section,
        job.date,
        job.member,
        job.chunk,
        job.out_log,
        job.err_log,
        remote_out,
        remote_err,
    )


def _dump_f2(jobs: List[JobSpec], path: Path, root: str) -> bytes:
    # Autosubmit 4.0 (Python 3, protocol 2): 13-tuples, wrapper type 'none' when unwrapped.
    rows = [_tuple_of(job, False) + (job.wrapper_type or "none",) for job in jobs]
    return pickle.dumps(rows, protocol=2)


def _dump_f1(jobs: List[JobSpec], path: Path, root: str) -> bytes:
    """Autosubmit 3.x under Python 2: protocol 0 with byte STRINGs, as a3tb's file.

    Python 3's own protocol 0 would write UNICODE opcodes and `_codecs.encode`, which no
    Python 2 writer produces, so the opcodes are emitted here.
    """
    out: List[bytes] = [b"(lp0\n"]
    memo = {"next": 1, "datetime": None}
    for job in jobs:
        out.append(b"(")
        for value in _tuple_of(job, True):
            out.append(_p0_value(value, memo))
        out.append(b"tp%d\na" % _memo_next(memo))
    out.append(b".")
    return b"".join(out)


def _memo_next(memo: Dict[str, Any]) -> int:
    index = memo["next"]
    memo["next"] = index + 1
    return index


def _p0_string(raw: bytes) -> bytes:
    # A Python 2 str repr is the Python 3 bytes repr without the leading "b".
    return b"S" + repr(raw)[1:].encode("ascii") + b"\n"


def _p0_value(value: Any, memo: Dict[str, Any]) -> bytes:
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"I0%d\n" % int(value)
    if isinstance(value, int):
        return b"I%d\n" % value
    if isinstance(value, str):
        return _p0_string(value.encode("latin1"))
    if isinstance(value, datetime):
        _cls, (state,) = value.__reduce__()[:2]
        if memo["datetime"] is None:
            memo["datetime"] = _memo_next(memo)
            head = b"cdatetime\ndatetime\np%d\n" % memo["datetime"]
        else:
            head = b"g%d\n" % memo["datetime"]
        return head + b"(" + _p0_string(state) + b"tR"
    raise TypeError(f"F1 cannot hold {type(value).__name__}")


# --- F3 / F4: Job attribute dicts ------------------------------------------------------


def _state(job: JobSpec, expid: str, root: str, status_key: str) -> Dict[str, Any]:
    """The Job attributes Autosubmit 4.1 pickles (names as in the fixtures' state dicts)."""
    tmp_path = f"{root}/{expid}/tmp"
    return {
        "rerun_only": False,
        "script_name_wrapper": None,
        "delay_end": None,
        "wrapper_type": job.wrapper_type,
        "_wrapper_queue": None,
        "_queue": job.queue,
        "_partition": "",
        "retry_delay": None,
        "_section": job.section,
        "_wallclock": job.wallclock,
        "wchunkinc": "",
        "_tasks": job.tasks,
        "_nodes": job.nodes,
        "_threads": job.threads,
        "_processors": job.processors,
        "_memory": "",
        "_memory_per_task": "",
        "_chunk": job.chunk,
        "_member": job.member,
        "date": job.date,
        "date_split": None,
        "_splits": job.splits if job.splits is not None else -1,
        "_split": job.split if job.split is not None else -1,
        "_delay": None,
        "_frequency": None,
        "_synchronize": None,
        "skippable": False,
        "repacked": 0,
        "_long_name": None,
        "date_format": "",
        "type": 0,
        "_name": job.name,
        "undefined_variables": None,
        "log_retries": 5,
        "id": job.id,
        "file": f"{job.section}.sh",
        "additional_files": [],
        "executable": None,
        "_local_logs": (job.out_log, job.err_log),
        "_remote_logs": ("", ""),
        "script_name": f"{job.name}.cmd",
        "stat_file": f"{job.name}_STAT_0",
        status_key: job.status,
        "prev_status": job.prev_status,
        "old_status": job.prev_status,
        "new_status": job.status,
        "priority": job.priority,
        "_fail_count": job.fail_count,
        "expid": expid,
        "_tmp_path": tmp_path,
        "_log_path": f"/{tmp_path}/LOG_{expid}",
        "write_start": False,
        "check": False,
        "check_warnings": False,
        "_packed": False,
        "hold": False,
        "distance_weight": 0,
        "level": 0,
        "_export": "none",
        "_dependencies": "{}",
        "running": "chunk" if job.chunk is not None else ("member" if job.member else "once"),
        "start_time": None,
        "ext_header_path": None,
        "ext_tailer_path": None,
        "edge_info": {},
        "total_jobs": 20,
        "max_waiting_jobs": 20,
        "exclusive": False,
        "_retrials": 0,
        "current_checkpoint_step": 0,
        "max_checkpoint_step": 0,
        "reservation": "",
        "delete_when_edgeless": True,
        "het": {},
        "updated_log": False,
        "submit_time_timestamp": None,
        "start_time_timestamp": None,
        "finish_time_timestamp": None,
        "_script": None,
        "ready_date": None,
        "wrapper_name": None,
        "is_wrapper": False,
        "platform_name": job.platform,
        "_serial_platform": None,
        "_shape": "",
        "_x11": False,
        "_x11_options": "",
        "_hyperthreading": "none",
        "_scratch_free_space": 0,
        "_custom_directives": [],
        "workflow_commit": "",
    }


def _expid_of(path: Path, jobs: List[JobSpec]) -> str:
    stem = path.stem
    if stem.startswith("job_list_"):
        return stem[len("job_list_") :]
    return jobs[0].name.split("_", 1)[0] if jobs else "a000"


def _root_of(path: Path) -> str:
    # <root>/<expid>/pkl/job_list_<expid>.pkl
    return str(path.resolve().parent.parent.parent)


def _dump_f4(jobs: List[JobSpec], path: Path, root: str) -> bytes:
    expid = _expid_of(path, jobs)
    state: Dict[str, Dict[str, Any]] = {}
    for job in jobs:
        attrs = _state(job, expid, root, "_status")
        attrs["_tmp_path"] = PosixPath(attrs["_tmp_path"])
        attrs["_log_path"] = PosixPath(attrs["_log_path"])
        state[job.name] = attrs
    return pickle.dumps(state, protocol=5)


# Stand-ins for the classes an Autosubmit 4.1.0-4.1.11 pickle names. Pickle looks a class up
# in sys.modules by its __module__/__qualname__ to write a global, so the modules below are
# registered only for the duration of a dump, under a lock, and removed afterwards.
_STANDIN_LOCK = threading.Lock()


class _JobStandin:
    __module__ = "autosubmit.job.job"
    __qualname__ = "Job"


class _NodeViewStandin:
    __module__ = "networkx.classes.reportviews"
    __qualname__ = "NodeView"

    def __init__(self, nodes: Dict[str, Any]):
        self._nodes = nodes

    def __getstate__(self) -> Dict[str, Any]:
        return {"_nodes": self._nodes}


class _DiGraphStandin:
    __module__ = "networkx.classes.digraph"
    __qualname__ = "DiGraph"


_JobStandin.__name__ = "Job"
_NodeViewStandin.__name__ = "NodeView"
_DiGraphStandin.__name__ = "DiGraph"

_STANDIN_MODULES = {
    "autosubmit.job.job": {"Job": _JobStandin},
    "networkx.classes.reportviews": {"NodeView": _NodeViewStandin},
    "networkx.classes.digraph": {"DiGraph": _DiGraphStandin},
}


def _graph_of(jobs: List[JobSpec], expid: str, root: str) -> _DiGraphStandin:
    graph = _DiGraphStandin()
    names = {job.name for job in jobs}
    node: Dict[str, Dict[str, Any]] = {}
    succ: Dict[str, Dict[str, Dict]] = {}
    pred: Dict[str, Dict[str, Dict]] = {}
    for job in jobs:
        obj = _JobStandin()
        attrs = _state(job, expid, root, "status")
        attrs["parameters"] = {"JOBNAME": job.name, "TASKTYPE": job.section, "DEFAULT.EXPID": expid}
        obj.__dict__.update(attrs)
        node[job.name] = {"job": obj}
        succ[job.name] = {}
        pred[job.name] = {}
    for job in jobs:
        for parent in job.parents:
            if parent in names:
                data: Dict = {}  # networkx shares one edge-data dict between both views
                succ[parent][job.name] = data
                pred[job.name][parent] = data
    # Same attributes, in the same order, as networkx's DiGraph.__init__ leaves them.
    graph.__dict__.update(
        {
            "graph_attr_dict_factory": dict,
            "node_dict_factory": dict,
            "node_attr_dict_factory": dict,
            "adjlist_outer_dict_factory": dict,
            "adjlist_inner_dict_factory": dict,
            "edge_attr_dict_factory": dict,
            "graph": {},
            "_node": node,
            "_adj": succ,
            "_pred": pred,
            "_succ": succ,
            "nodes": _NodeViewStandin(node),
        }
    )
    return graph


def _dump_f3(jobs: List[JobSpec], path: Path, root: str) -> bytes:
    graph = _graph_of(jobs, _expid_of(path, jobs), root)
    with _STANDIN_LOCK:
        added = _register_standins()
        try:
            return pickle.dumps(graph, protocol=5)
        finally:
            for name in added:
                sys.modules.pop(name, None)


def _register_standins() -> List[str]:
    """Put stand-in modules (and their parent packages) into sys.modules; names added."""
    added: List[str] = []
    for module_name, attrs in _STANDIN_MODULES.items():
        parts = module_name.split(".")
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            module: Optional[types.ModuleType] = sys.modules.get(name)
            if module is None:
                module = types.ModuleType(name)
                sys.modules[name] = module
                added.append(name)
            elif name not in added:
                if depth == len(parts):
                    raise RuntimeError(f"{name} is really imported; refusing to shadow it")
                continue
            if depth == len(parts):
                for attr, value in attrs.items():
                    setattr(module, attr, value)
    return added
