"""`/filestatus/`: the archive file-system probe's last result (docs/api.md 7.13)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from autosubmit_api.config import Settings
from autosubmit_api.readers import file_status


def _number(value: Any) -> Optional[float]:  # a cell of the probe's row
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def archive_status(settings: Settings) -> Dict[str, Any]:
    """ONLINE when the last probe row has status 1; warnings compare current with average."""
    answer = {
        "status": "OFFLINE",
        "error": False,
        "error_message": "",
        "avg_latency": None,
        "avg_bandwidth": None,
        "current_latency": None,
        "current_bandwidth": None,
        "reponse_time": None,
        "datetime": None,
        "latency_warning": None,
        "bandwidth_warning": None,
        "response_warning": None,
    }
    row = file_status.last_probe(settings)
    if row is None:
        return answer
    answer.update(
        {
            "avg_latency": row["avg_latency"],
            "avg_bandwidth": row["avg_bandwidth"],
            "current_latency": row["current_latency"],
            "current_bandwidth": row["current_bandwidth"],
            "reponse_time": row["response_time"],
            "datetime": row["modified"],
        }
    )
    if str(row["status"]) not in ("1", "1.0"):
        return answer
    answer["status"] = "ONLINE"
    current, average = _number(row["current_latency"]), _number(row["avg_latency"])
    if current is not None and (current > 4.0 or (average is not None and current > 1.1 * average)):
        answer["latency_warning"] = "Higher latency than usual"
    current, average = _number(row["current_bandwidth"]), _number(row["avg_bandwidth"])
    if current is not None and (current < 90.0 or (average is not None and current < 0.9 * average)):
        answer["bandwidth_warning"] = "Lower bandwidth than usual"
    response = _number(row["response_time"])
    if response is not None and int(response) > 1:
        answer["response_warning"] = "Higher response times than usual"
    return answer
