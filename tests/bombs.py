"""Log bombs served by a real gunicorn server: the site holding them, and the peak memory of
the server's workers read from /proc (Linux). Shared by the bomb tests (tests/security) and
benchmarks/bench_hostile.py, so it needs nothing of pytest.

The peak is VmHWM after the request against VmRSS after warm-up, VmHWM first reset to the
resident size, so the figure does not depend on timing.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.factory import Site, hostile, make_experiment, make_site

MB = 1024 * 1024
# a000's logs beside its normal a000_OK.1.out: a small .gz of 2 MB lines, a gigabyte of zeros
# as .gz/.xz/.bz2, a plain log of 1 MB lines.
BOMBS = ["a000_LONG.1.out.gz", "a000_ZERO.1.out.gz", "a000_ZERO.1.out.xz", "a000_ZERO.1.out.bz2", "a000_WIDE.1.out"]


def log_bomb_site(root: Path) -> Site:
    """A factory site at `root` whose experiment a000 has a normal log and the BOMBS."""
    site = make_site(root)
    exp = make_experiment(site, "a000")
    logdir = exp.path / "tmp" / "LOG_a000"
    (logdir / "a000_OK.1.out").write_text("".join(f"line {i}\n" for i in range(300)))
    hostile.gzip_long_lines(logdir / "a000_LONG.1.out.gz")
    for suffix in (".gz", ".xz", ".bz2"):
        hostile.zeros_archive(logdir / f"a000_ZERO.1.out{suffix}")
    with open(logdir / "a000_WIDE.1.out", "wb") as handle:
        for _ in range(40):
            handle.write(b"W" * MB + b"\n")
    return site


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
