"""The peak memory of a gunicorn server's workers, read from /proc (Linux): shared by the bomb
tests (tests/security) and benchmarks/bench_hostile.py, so standard library only.

The peak is VmHWM after the request against VmRSS after warm-up, VmHWM first reset to the
resident size, so the figure does not depend on timing.
"""
from __future__ import annotations

import os


def memory_field(pid: int, field: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM, ...), in bytes."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} missing for {pid}")


def reset_peak(pid: int) -> None:
    """Start VmHWM again from the current resident size (Linux >= 4.0); when that is not
    allowed the peak stays the lifetime one, which only makes the check stricter."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def worker_pids(pid: int) -> list:
    """The children of the gunicorn master `pid`: its workers."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            found += [int(child) for child in handle.read().split()]
    return found


def resident_after_reset(workers: list) -> dict:
    """Reset every worker's peak; {pid: its resident size now}, the base of peak_growth."""
    for pid in workers:
        reset_peak(pid)
    return {pid: memory_field(pid, "VmRSS") for pid in workers}


def peak_growth(base: dict) -> dict:
    """{pid: how far its peak rose above the resident size in `base`}."""
    return {pid: memory_field(pid, "VmHWM") - rss for pid, rss in base.items()}
