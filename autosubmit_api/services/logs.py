"""Log views: `/exprun` (experiment run log), `/joblog` (job log), `/logrun` (running check
from the run log's age) and the v4 log tail (docs/api.md 5.8, 7.9, 7.10; docs/data.md B.10, B.14.1).

Files are found and read by readers/logs.py only; nothing here opens a file.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError, BadRequest, NotFound
from autosubmit_api.readers import exp_config, exp_files, logs, paths
from autosubmit_api.services.timefmt import fmt_dt

# `/logrun`: a run log touched less than this many seconds ago means "running" (B.14.1).
RUNNING_SECONDS = 300
# Autosubmit versions that wrote their run logs directly in tmp/ (Q45).
TMP_FIRST_VERSIONS = ("3.9", "3.11", "3.12")


def _log_answer(logfile: str) -> Dict[str, Any]:
    return {
        "logfile": logfile,
        "found": False,
        "lastModified": "",
        "timeStamp": "",
        "error": False,
        "error_message": "",
        "logcontent": [],
    }


def _fill(settings: Settings, answer: Dict[str, Any], path: str, n: int = logs.DEFAULT_TAIL) -> Dict[str, Any]:
    """The answer with the tail of `path`; as not found when the file vanished. A file
    outside the site's roots raises Forbidden (the route's error body, nothing read)."""
    try:
        found, result = logs.read_tail(settings, path, n)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return answer
    except OSError:
        answer["found"] = True
        answer["error"] = True
        answer["error_message"] = "The log file could not be read"
        return answer
    lines = result.lines
    answer["found"] = True
    answer["lastModified"] = fmt_dt(found.mtime) or ""
    answer["timeStamp"] = int(found.mtime)
    # The reference cuts the last character of every line, expecting the newline; a final
    # line without one loses a real character (kept for compatibility, docs/api.md 7.9).
    answer["logcontent"] = [{"index": i, "content": line[:-1]} for i, line in enumerate(lines)]
    return answer


def experiment_run_log(settings: Settings, expid: str) -> Dict[str, Any]:
    """`/exprun/<expid>`: the last 150 lines of the newest `*run.log` (B.10)."""
    paths.check_expid(expid)
    answer = _log_answer("")
    found = logs.newest_run_log(settings, expid, paths.RUN_LOG)
    if found is None:
        return answer
    answer["logfile"] = found.name
    return _fill(settings, answer, found.path)


NO_LOG_YET = "No log for this job yet"


def no_job_log() -> Dict[str, Any]:
    """`/joblog/` without a name: the job has no log yet (its history row names none)."""
    answer = _log_answer("")
    answer["error_message"] = NO_LOG_YET
    return answer


def job_log(settings: Settings, logfile: str) -> Dict[str, Any]:
    """`/joblog/<logfile>`: the last 150 lines of `<root>/<expid>/tmp/LOG_<expid>/<logfile>`.

    The expid is the text before the first `_`. BadRequest (nothing opened) for names that
    could leave the log directory.
    """
    logs.check_log_name(logfile)
    expid = logfile.split("_", 1)[0]
    if not paths.is_valid_expid(expid):
        # No experiment can have that name, so there is nothing to look at; the name
        # holds no separator, so the path shown stays under the experiments root.
        shown = os.path.join(settings.local_root_dir, expid, "tmp", f"LOG_{expid}", logfile)
        return _log_answer(shown)
    shown, path = logs.job_log_path(settings, expid, logfile)
    answer = _log_answer(shown)
    if path is None:
        return answer
    return _fill(settings, answer, path)


def log_running(settings: Settings, expid: str, version: Optional[str], now: Optional[float] = None) -> Dict[str, Any]:
    """`/logrun/<expid>`: is the newest `*_run.log` younger than 5 minutes (B.14.1)?

    `version` is the Autosubmit version of the experiment's configuration (None when it
    could not be read: ASLOGS is then searched first).
    """
    paths.check_expid(expid)
    tmp_first = bool(version) and str(version).startswith(TMP_FIRST_VERSIONS)
    found = logs.newest_run_log(settings, expid, paths.AS_RUN_LOG, tmp_first=tmp_first)
    if found is None:
        return {"is_running": False, "timediff": 0, "log_path": None, "error": False, "error_message": ""}
    now = time.time() if now is None else now
    timediff = int(now - found.mtime)
    return {
        "is_running": timediff < RUNNING_SECONDS,
        "timediff": timediff,
        "log_path": found.path,
        "error": False,
        "error_message": "",
    }


def experiment_log_running(settings: Settings, expid: str) -> Dict[str, Any]:
    """`/logrun/<expid>` with the Autosubmit version read from the experiment's config."""
    paths.check_expid(expid)
    try:
        version = exp_config.load_config(settings, expid).autosubmit_version
    except APIError:
        # An unreadable (or absent) config leaves the version unknown: ASLOGS first.
        version = None
    return log_running(settings, expid, version)


def parse_tail(raw: Optional[str]) -> int:
    """The v4 `tail` query parameter: 1..MAX_TAIL, default 150."""
    if raw is None or raw == "":
        return logs.DEFAULT_TAIL
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("tail must be a whole number") from None
    if value < 1 or value > logs.MAX_TAIL:
        raise BadRequest(f"tail must be between 1 and {logs.MAX_TAIL}")
    return value


def experiment_log_tail(settings: Settings, expid: str, logfile: str, n: int) -> Dict[str, Any]:
    """v4: the last `n` lines of a log in `LOG_<expid>/` or `ASLOGS/` (404 when absent)."""
    paths.check_expid(expid)
    if not exp_files.has_exp_dir(settings, expid):
        raise NotFound(f"Experiment {expid} not found")
    path = logs.find_experiment_log(settings, expid, logfile)
    if path is None:
        raise NotFound(f"Log {logfile} not found")
    try:
        found, result = logs.read_tail(settings, path, n)
    except OSError:
        raise NotFound(f"Log {logfile} not found") from None
    return {
        "expid": expid,
        "logfile": found.name,
        "directory": os.path.basename(os.path.dirname(path)),
        "size": found.size,
        "modified": fmt_dt(found.mtime),
        "timestamp": int(found.mtime),
        "tail": n,
        "truncated": result.truncated,
        "lines": [line[:-1] if line.endswith("\n") else line for line in result.lines],
    }
