"""Conditional requests and compression on a 50,000-job experiment (docs/performance.md,
"Conditional requests and compression").

    python benchmarks/bench_conditional.py [--jobs 50000] [--work DIR] [--repeat 200]

Prints, for /v3/tree (and the other big views): the raw, gzip and brotli body sizes, the
time of the first request of each encoding (the compression, once per body version) and of
a repeat (shared variant), and the time and header size of a 304 answer to If-None-Match.
The experiment is the factory's big workflow with its running and queuing jobs set to
WAITING, so the views hold still between requests (a running job's times move every
second, and so does its body's tag). Requests go through the Flask test client: server
time, no network.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import brotli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for tests.factory

from autosubmit_api.app import create_app  # noqa: E402
from autosubmit_api.config import load_settings  # noqa: E402
from tests.factory import make_experiment, make_site, workflow  # noqa: E402

VIEWS = (
    "/v3/tree/{e}",
    "/v3/pkltreeinfo/{e}/0",
    "/v3/graph/{e}/standard/none",
    "/v3/quick/{e}",
    "/v4/experiments/{e}/jobs",
)


def site_for(work: Path, n_jobs: int, expid: str = "a000") -> Path:
    out = work / f"still_{n_jobs}"
    if not (out / "autosubmit.db").exists():
        site = make_site(out)
        jobs = workflow.big_workflow(expid, n_jobs, seed=0)
        for job in jobs:
            if job.status in (workflow.RUNNING, workflow.QUEUING, workflow.SUBMITTED):
                job.status = workflow.WAITING
        make_experiment(site, expid, jobs, description=f"still experiment with {n_jobs} jobs")
    return out


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "autosubmit_api_bench")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--expid", default="a000")
    args = parser.parse_args(argv)
    root = site_for(args.work, args.jobs, args.expid)
    settings = load_settings(
        {
            "AUTOSUBMIT_CONFIGURATION": str(root / ".autosubmitrc"),
            "PROTECTION_LEVEL": "NONE",
            "SECRET_KEY": "bench-" + "x" * 40,
        },
        dotenv=False,
        testing=True,
    )
    client = create_app(settings).test_client()
    print(f"{args.jobs} jobs; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    for view in VIEWS:
        url = view.format(e=args.expid)
        plain, cold = timed(lambda: client.get(url))
        raw = plain.get_data()
        line = [f"{url}: raw {len(raw):,} B (cold {cold:.2f} s)"]
        for coding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
            first, t_first = timed(lambda: client.get(url, headers={"Accept-Encoding": coding}))
            _, t_again = timed(lambda: client.get(url, headers={"Accept-Encoding": coding}))
            body = first.get_data()
            assert first.headers.get("Content-Encoding") == coding and decode(body) == raw, url
            line.append(
                f"{coding} {len(body):,} B = 1/{len(raw) / len(body):.1f} "
                f"(first {t_first:.2f} s, then {t_again * 1000:.1f} ms)"
            )
        tag = plain.headers["ETag"]
        times = []
        for _ in range(args.repeat):
            answer, took = timed(lambda: client.get(url, headers={"If-None-Match": tag}))
            assert answer.status_code == 304 and answer.get_data() == b"", (url, answer.status_code)
            times.append(took)
        head = "HTTP/1.1 304 Not Modified\r\n" + "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
        line.append(
            f"304: median {statistics.median(times) * 1000:.2f} ms, p95 "
            f"{percentile(times, 0.95) * 1000:.2f} ms, {len(head) + 2} B of headers"
        )
        print("\n    ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
