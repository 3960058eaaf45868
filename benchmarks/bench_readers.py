"""Benchmark of the job list and structure readers at 1,000, 10,000 and 50,000 jobs.

    python benchmarks/bench_readers.py [--sizes 1000,10000,50000] [--format F4] [--work DIR]

For each size a site is written with benchmarks/make_experiment.py (kept in --work and
reused on the next run), then a fresh Python process measures: the cold parse of the
pickle (`readers.job_list.load_job_list` with an empty cache), a warm cached lookup (the
same call again: one stat and a dict hit), the cold and warm dependency build
(`readers.structure.load_dependencies`) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CHILD = r"""
import json, resource, sys, time
from autosubmit_api.config import load_settings
from autosubmit_api.readers.job_list import load_job_list
from autosubmit_api.readers.structure import load_dependencies

rc, expid = sys.argv[1], sys.argv[2]
settings = load_settings({"AUTOSUBMIT_CONFIGURATION": rc}, dotenv=False)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c, t = time.process_time(), time.perf_counter()
jobs = load_job_list(settings, expid)
cold, cold_cpu = time.perf_counter() - t, time.process_time() - c
t = time.perf_counter()
for _ in range(100):
    again = load_job_list(settings, expid)
warm = (time.perf_counter() - t) / 100
assert again is jobs
c, t = time.process_time(), time.perf_counter()
deps = load_dependencies(settings, expid, jobs)
deps_cold, deps_cpu = time.perf_counter() - t, time.process_time() - c
t = time.perf_counter()
for _ in range(100):
    load_dependencies(settings, expid, jobs)
deps_warm = (time.perf_counter() - t) / 100
print(json.dumps({"jobs": len(jobs), "format": jobs.pkl_format, "cold": cold, "cold_cpu": cold_cpu, "warm": warm,
                  "deps_cold": deps_cold, "deps_cpu": deps_cpu, "deps_warm": deps_warm, "edges": len(deps.edges()),
                  "base_rss_mb": base / 1024,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(rc: Path, expid: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(rc), expid],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated job counts")
    parser.add_argument("--format", default="F4", help="pickle format F1..F4")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "as-api-bench",
        help="where the benchmark sites are written (and reused)",
    )
    args = parser.parse_args(argv)
    import make_experiment  # benchmarks/make_experiment.py

    # Wall and CPU seconds: on a shared machine the wall time also measures the neighbours.
    print(
        f"{'jobs':>7} {'fmt':>4} {'pickle MB':>10} {'cold parse s (cpu)':>19} {'warm lookup us':>15} "
        f"{'deps cold s (cpu)':>18} {'deps warm us':>13} {'edges':>7} {'peak RSS MB':>12}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        site = args.work / f"{args.format}-{size}"
        expid = "a000"
        pkl = site / expid / "pkl" / f"job_list_{expid}.pkl"
        if not pkl.exists():
            make_experiment.build(site, size, args.format, expid)
        r = measure(site / ".autosubmitrc", expid)
        cold = f"{r['cold']:.3f} ({r['cold_cpu']:.3f})"
        deps = f"{r['deps_cold']:.3f} ({r['deps_cpu']:.3f})"
        print(
            f"{r['jobs']:>7} {r['format']:>4} {pkl.stat().st_size / 1e6:>10.1f} {cold:>19} "
            f"{r['warm'] * 1e6:>15.1f} {deps:>18} {r['deps_warm'] * 1e6:>13.1f} "
            f"{r['edges']:>7} {r['peak_rss_mb']:>12.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
