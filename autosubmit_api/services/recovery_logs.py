"""`/exp-recovery-logs/<expid>`: the last lines of each platform's newest recovery log.

Not in API 4.0.1; added in 4.1 and read by the development GUI's run-log page ("Log
Recoveries" tab, docs/gui.md section 8). Shape as 4.1 answers it.
"""

from __future__ import annotations

from typing import Any, Dict

from autosubmit_api.config import Settings
from autosubmit_api.readers import recovery_logs
from autosubmit_api.services.timefmt import fmt_dt


def experiment_recovery_logs(settings: Settings, expid: str) -> Dict[str, Any]:
    items = []
    for log in recovery_logs.newest_per_platform(settings, expid):
        items.append(
            {
                "platform": log.platform,
                "filename": log.filename,
                "datetime": log.stamp.isoformat(),
                "modified_date": fmt_dt(log.mtime) or "",
                "content": [{"index": i, "content": line} for i, line in enumerate(log.lines)],
            }
        )
    return {"platform_recovery_logs": items, "error": False, "error_message": ""}
