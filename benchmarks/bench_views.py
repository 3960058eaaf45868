"""Latency of the job status views at 10,000 and 50,000 jobs, through the WSGI test client.

    python benchmarks/bench_views.py [--sizes 10000,50000] [--format F4|DB] [--work DIR] [--repeat 20]

For each size a site is written with benchmarks/make_experiment.py (kept in --work and
reused on the next run). A fresh Python process then measures, per view: the cold request
(every cache emptied first, so it includes parsing the pickle, history, structure and
configuration and building the view; wall time and the process's CPU time, which does not
count time lost to other processes on a shared machine) and `--repeat` warm requests (median and p95), with
the size of the response body. Views: quick, tree, graph (standard, none), summary and
v4 jobs (base).
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

VIEWS = [
    ("quick", "/v3/quick/{e}"),
    ("tree", "/v3/tree/{e}"),
    ("graph standard/none", "/v3/graph/{e}/standard/none"),
    ("summary", "/v3/summary/{e}"),
    ("v4 jobs", "/v4/experiments/{e}/jobs"),
]

CHILD = r"""
import json, statistics, sys, time
from autosubmit_api.app import create_app
from autosubmit_api.config import load_settings
from autosubmit_api.readers import cache

rc, expid, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
views = json.loads(sys.argv[4])
settings = load_settings({"AUTOSUBMIT_CONFIGURATION": rc, "PROTECTION_LEVEL": "NONE",
                          "SECRET_KEY": "bench"}, dotenv=False, testing=True)
client = create_app(settings).test_client()
out = []
for label, path in views:
    url = path.format(e=expid)
    cache.clear()
    c = time.process_time(); t = time.perf_counter(); answer = client.get(url)
    cold = time.perf_counter() - t; cold_cpu = time.process_time() - c
    assert answer.status_code == 200, (url, answer.status_code)
    body = answer.get_data()
    assert b'"error":true' not in body[:200] and b'"error":true' not in body[-300:], url
    warm = []
    for _ in range(repeat):
        t = time.perf_counter(); client.get(url).get_data(); warm.append(time.perf_counter() - t)
    warm.sort()
    p95 = warm[min(len(warm) - 1, int(round(0.95 * (len(warm) - 1))))]
    out.append({"view": label, "cold": cold, "cold_cpu": cold_cpu, "median": statistics.median(warm), "p95": p95,
                "bytes": len(body)})
print(json.dumps(out))
"""


def site_for(work: Path, n_jobs: int, fmt: str) -> Path:
    out = work / f"site_{n_jobs}_{fmt}"
    if not (out / "autosubmit.db").exists():
        import make_experiment

        make_experiment.build(out, n_jobs, fmt)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--format", default="F4", help="pickle format, or DB for the 4.2 job list database")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "autosubmit_api_bench")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TZ="UTC")
    for size in (int(s) for s in args.sizes.split(",")):
        site = site_for(args.work, size, args.format)
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(site / ".autosubmitrc"), "a000", str(args.repeat), json.dumps(VIEWS)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        rows = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"\n{size:,} jobs ({args.format}), {args.repeat} warm requests per view")
        print(f"{'view':<22}{'cold s':>9}{'cold cpu s':>12}{'warm median ms':>16}{'warm p95 ms':>13}{'body':>12}")
        for row in rows:
            print(
                f"{row['view']:<22}{row['cold']:>9.2f}{row['cold_cpu']:>12.2f}{row['median'] * 1000:>16.1f}"
                f"{row['p95'] * 1000:>13.1f}{row['bytes'] / 1e6:>10.2f} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
