"""Platform recovery logs of an experiment: `<exp>/tmp/ASLOGS/<YYYYMMDD>_<HHMMSS>_<platform>_log_recovery.log[.gz|.xz]`.

Autosubmit 4.1 writes one such file per platform and recovery session; only the newest of
each platform (by the date in its name, as the reference 4.1 route picks it) is read, from the
end and with the same bounds as every other log tail (`readers.logs.read_tail`), through
readers/confined.py.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Dict, List, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import NotFound
from autosubmit_api.models import RecoveryLog
from autosubmit_api.readers import confined, logs, paths

NAME = paths.RECOVERY_LOG_RE


def newest_per_platform(settings: Settings, expid: str, n: int = logs.DEFAULT_TAIL) -> List[RecoveryLog]:
    """The newest recovery log of each platform, in platform-name order; [] without ASLOGS.

    NotFound when the experiment directory itself is missing (an unknown experiment).
    """
    paths.check_expid(expid)
    if not os.path.isdir(paths.exp_dir(settings, expid)):
        raise NotFound(f"Experiment {expid} not found")
    directory = paths.aslogs_dir(settings, expid)
    best: Dict[str, Tuple[datetime, str]] = {}
    for name, _ in confined.list_files(settings, directory, NAME.match):
        match = NAME.match(name)
        if match is None:  # list_files kept only the names NAME matches
            continue
        try:
            stamp = datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
        except ValueError:
            continue
        platform = match.group(3)
        if platform not in best or stamp > best[platform][0]:
            best[platform] = (stamp, name)
    found = []
    for platform in sorted(best):
        stamp, name = best[platform]
        path = os.path.join(directory, name)
        try:
            log, tail = logs.read_tail(settings, path, n)
        except OSError:
            continue  # removed or unreadable since the listing: as if it were not there
        lines = tuple(line.rstrip("\r\n") for line in tail.lines)
        found.append(RecoveryLog(platform, name, path, stamp, log.mtime, lines))
    return found
