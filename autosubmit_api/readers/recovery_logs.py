"""Platform recovery logs of an experiment: `<exp>/tmp/ASLOGS/<YYYYMMDD>_<HHMMSS>_<platform>_log_recovery.log[.gz|.xz]`.

Autosubmit 4.1 writes one such file per platform and recovery session; only the newest of
each platform (by the date in its name, as the reference 4.1 route picks it) is read, from the
end and with the same byte bounds as every other log tail (`readers.logs.tail`).
"""
from __future__ import annotations

import os
from datetime import datetime
from typing import Dict, List, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import NotFound
from autosubmit_api.models import RecoveryLog
from autosubmit_api.readers import logs, paths

NAME = paths.RECOVERY_LOG_RE


def newest_per_platform(settings: Settings, expid: str, n: int = logs.DEFAULT_TAIL) -> List[RecoveryLog]:
    """The newest recovery log of each platform, in platform-name order; [] without ASLOGS.

    NotFound when the experiment directory itself is missing (an unknown experiment).
    """
    paths.check_expid(expid)
    if not os.path.isdir(paths.exp_dir(settings, expid)):
        raise NotFound(f"Experiment {expid} not found")
    directory = paths.aslogs_dir(settings, expid)
    best: Dict[str, Tuple[datetime, os.DirEntry]] = {}
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                match = NAME.match(entry.name)
                if not match:
                    continue
                try:
                    stamp = datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
                    if not entry.is_file():
                        continue
                except (ValueError, OSError):
                    continue
                platform = match.group(3)
                if platform not in best or stamp > best[platform][0]:
                    best[platform] = (stamp, entry)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    found = []
    for platform in sorted(best):
        stamp, entry = best[platform]
        try:
            mtime = entry.stat().st_mtime
            tail = logs.tail(entry.path, n)
        except OSError:
            continue  # removed or unreadable since the listing: as if it were not there
        lines = tuple(line.rstrip("\r\n") for line in tail.lines)
        found.append(RecoveryLog(platform, entry.name, entry.path, stamp, mtime, lines))
    return found
