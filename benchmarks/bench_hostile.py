"""Benchmark of hostile logs against a real server (issue 14, item 4; docs/security.md).

    python benchmarks/bench_hostile.py [--workers 1] [--work DIR]

Writes the log bomb site of tests/bombs.py (a .gz of 2 MB lines, a gigabyte of zeros as
.gz/.xz/.bz2, a plain log of 1 MB lines), starts `autosubmit_api start` on loopback and,
for each bomb on `/joblog` and on the v4 route with `tail=10000`, prints the wall time of
the answer, the worker's CPU time, its peak memory growth (VmHWM after the request minus
VmRSS before, the peak reset first) and the answer's size.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for tests/
from tests.bombs import (
    BOMBS,
    MB,
    log_bomb_site,
    peak_growth,
    resident_after_reset,  # noqa: E402
    worker_pids,
)


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=600) as response:
        return response.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--work", help="directory for the site (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_hostile_"))
    root = log_bomb_site(work / "site").root
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "AUTOSUBMIT_CONFIGURATION": str(root / ".autosubmitrc"),
        "HOME": str(root),
        "PROTECTION_LEVEL": "NONE",
        "SECRET_KEY": "bench-hostile-secret-key-0123456789",
        "DISABLE_BACKGROUND_TASKS": "True",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "autosubmit_api.cli", "start", "-b", f"127.0.0.1:{port}", "-w", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                _fetch(base + "/")
                break
            except OSError:
                time.sleep(0.2)
        print(f"{'request':60s} {'wall s':>7s} {'cpu s':>6s} {'peak +MB':>9s} {'answer MB':>10s}")
        for name in ["a000_OK.1.out"] + BOMBS:
            for url in (f"/joblog/{name}", f"/v4/experiments/a000/logs/{name}?tail=10000"):
                for _ in range(3):  # warm every worker on the normal log first
                    _fetch(base + "/joblog/a000_OK.1.out")
                workers = worker_pids(proc.pid)
                rss = resident_after_reset(workers)
                cpu = sum(_cpu(pid) for pid in workers)
                start = time.perf_counter()
                size = len(_fetch(base + url))
                wall = time.perf_counter() - start
                used = sum(_cpu(pid) for pid in workers) - cpu
                growth = max(peak_growth(rss).values())
                print(f"{url:60s} {wall:7.3f} {used:6.2f} {growth / MB:9.1f} {size / MB:10.2f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
