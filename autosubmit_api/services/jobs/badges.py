"""The HTML badges of job and folder titles (docs/data.md B.0.2, B.3, B.4): the exact strings
the quick view, the tree and the run detail put in titles.
"""

from __future__ import annotations

from typing import Optional

from autosubmit_api.services.jobs.status_display import status_color

TARGET_TAG = " <span class='badge' style='background-color:#99ff66'>TARGET</span>"
SOURCE_TAG = " <span class='badge' style='background-color:#80d4ff'>SOURCE</span>"
SYNC_TAG = " <span class='badge' style='background-color:#0066ff; color:white'>SYNC</span>"
CHECKMARK = " <span class='badge' style='background-color:#4dffa6'>&#10004;</span>"
COMPLETED_TAG = " <span class='badge' style='background-color:%B'> %C / %T COMPLETED</span>"
RUNNING_TAG = " <span class='badge' style='background-color:green; color:#fff'>%R RUNNING</span>"
QUEUING_TAG = " <span class='badge' style='background-color:pink'>%Q QUEUING</span>"
FAILED_TAG = " <span class='badge' style='background-color:red'>%F FAILED</span>"
HELD_TAG = " <span class='badge' style='background-color:#fa8072; color:#fff'>%H HELD</span>"
NA_TEXT = " <small><i><b>NA</b></i></small>"
SUSPICIOUS_TEXT = " <small><i><b>SUSPICIOUS</b></i></small>"


def quick_title(name: str, status: str, package_id: Optional[str]) -> str:
    title = f"{name} <span class='badge' style='background-color: {status_color(status)}'>#{status}</span>"
    if package_id is not None:
        title += f" <span class='badge' style='background-color:#94b8b8'>Wrapped {package_id}</span>"
    return title


def wrapper_tag(package: Optional[str]) -> Optional[str]:
    if package is None:
        return None
    return f" <span class='badge' style='background-color:#94b8b8'>Wrapped {package} </span>"


def folder_badges(completed: int, failed: int, running: int, queuing: int, held: int, total: int) -> str:
    """The counters part of a member or wrapper folder title (B.4 step 2)."""
    colour = "yellow" if completed == total else "#ffffb3"
    text = f"<span class='badge' style='background-color:{colour}'> {completed} / {total} COMPLETED</span>"
    if failed > 0:
        text += f" <span class='badge' style='background-color:red'>{failed} FAILED</span>"
    if running > 0:
        text += f" <span class='badge' style='background-color:green; color:#fff'>{running} RUNNING</span>"
    if queuing > 0:
        text += f" <span class='badge' style='background-color:pink'>{queuing} QUEUING</span>"
    if held > 0:
        text += f" <span class='badge' style='background-color:#fa8072; color:#fff'>{held} HELD</span>"
    if completed == total:
        text += CHECKMARK
    return text
