"""Latency of the history views on a 50,000-job experiment with 200,000 job_data rows.

    python benchmarks/bench_history.py [--jobs 50000] [--rows 200000] [--work DIR] [--repeat 20]

The site is written once into --work (and reused): `factory.workflow.big_workflow` jobs,
a history DB (user_version 18) with `--rows` attempts spread over the jobs that ran (all
but the last attempt of a job FAILED), 20 runs, one `<job>_TOTAL_STATS` file per job that
ran (one line per attempt) and a 100,000-line `ASLOGS/*_run.log`. A fresh Python process
then measures, through the WSGI test client, the cold request (every cache emptied first:
it includes parsing the pickle, history, structure, configuration and TOTAL_STATS files)
the cold request with the shared inputs already parsed (what the view itself costs), and
`--repeat` warm requests (median, p95) of: performance, stats (hours 0, section Any),
exprun and one job's history. Targets: warm p95 < 300 ms, cold < 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for tests.factory

VIEWS = [
    ("performance", "/v3/performance/{e}"),
    ("stats 0/Any", "/v3/stats/{e}/0/Any"),
    ("exprun", "/v3/exprun/{e}"),
    ("history", "/v3/history/{e}/{job}"),
]

CHILD = r"""
import json, statistics, sys, time
from autosubmit_api.app import create_app
from autosubmit_api.config import load_settings
from autosubmit_api.readers import cache, job_data
from autosubmit_api.services.jobs import loading

rc, expid, job, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
views = json.loads(sys.argv[5])
settings = load_settings({"AUTOSUBMIT_CONFIGURATION": rc, "PROTECTION_LEVEL": "NONE",
                          "SECRET_KEY": "bench", "API_CACHE_ENTRIES": "256"}, dotenv=False, testing=True)
client = create_app(settings).test_client()
out = []
for label, path in views:
    url = path.format(e=expid, job=job)
    cache.clear()
    c = time.process_time(); t = time.perf_counter(); answer = client.get(url)
    cold = time.perf_counter() - t; cold_cpu = time.process_time() - c
    assert answer.status_code == 200, (url, answer.status_code)
    body = answer.get_json()
    assert body.get("error") is False, (url, body.get("error_message"))
    # Cold again, but with the shared inputs (pkl, history, structure, config: the job
    # table every job view uses) already parsed: what this view adds on its own.
    cache.clear()
    loading.load_table(settings, expid); job_data.load_history(settings, expid, optional=True)
    t = time.perf_counter(); client.get(url).get_data(); view_cold = time.perf_counter() - t
    warm = []
    for _ in range(repeat):
        t = time.perf_counter(); client.get(url).get_data(); warm.append(time.perf_counter() - t)
    warm.sort()
    p95 = warm[min(len(warm) - 1, int(round(0.95 * (len(warm) - 1))))]
    out.append({"view": label, "cold": cold, "cold_cpu": cold_cpu, "view_cold": view_cold,
                "median": statistics.median(warm), "p95": p95, "bytes": len(answer.get_data())})
print(json.dumps(out))
"""

RAN = {5: "COMPLETED", 4: "RUNNING", -1: "FAILED", 3: "QUEUING"}


def _stamp(ts: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.localtime(ts))


def build(out: Path, n_jobs: int, n_rows: int, expid: str = "a000") -> str:
    """Write the site; returns the name of a SIM job with several attempts."""
    from tests.factory import JobDataSpec, RunSpec, make_experiment, make_site, workflow

    site = make_site(out)
    jobs = workflow.big_workflow(expid, n_jobs)
    ran = [job for job in jobs if job.status in RAN]
    per_job, extra = divmod(n_rows, len(ran))
    n_runs = 20
    t0 = 1_600_000_000
    rows, stats = [], {}
    clock = t0
    for index, job in enumerate(ran):
        attempts = per_job + (1 if index < extra else 0)
        lines = []
        for counter in range(1, attempts + 1):
            final = counter == attempts
            status = RAN[job.status] if final else "FAILED"
            submit = clock
            start = submit + 30 + index % 50
            finish = start + 300 + index % 120 if status in ("COMPLETED", "FAILED") else 0
            if status == "QUEUING":
                start = 0
            clock += 7
            rows.append(
                JobDataSpec(
                    job_name=job.name,
                    counter=counter,
                    submit=submit,
                    start=start,
                    finish=finish,
                    status=status,
                    ncpus=int(job.processors) if str(job.processors).isdigit() else 1,
                    date=job.date.strftime("%Y-%m-%d %H:%M:%S") if job.date else "",
                    section=job.section,
                    member=job.member or "",
                    chunk=job.chunk or 0,
                    last=1 if final else 0,
                    run_id=(counter - 1) % n_runs + 1,
                    energy=1000 * counter,
                    out=f"{job.name}.{counter}.out",
                    err=f"{job.name}.{counter}.err",
                )
            )
            fields = [_stamp(submit)]
            if start:
                fields.append(_stamp(start))
            if finish:
                fields += [_stamp(finish), status]
            lines.append(" ".join(fields))
        stats[job.name] = "\n".join(lines)
    runs = [
        RunSpec(
            run_id=i,
            start=t0 + i,
            finish=t0 + i + 100,
            created="2020-09-13-12:26:40",
            chunk_unit="month",
            chunk_size=1,
            completed=10,
            total=len(jobs),
        )
        for i in range(1, n_runs + 1)
    ]
    experiment = make_experiment(
        site, expid, jobs, runs=runs, job_data=rows, description=f"history benchmark ({n_jobs} jobs, {len(rows)} rows)"
    )
    tmp = experiment.path / "tmp"
    for name, text in stats.items():
        (tmp / f"{name}_TOTAL_STATS").write_text(text)
    (tmp / "ASLOGS" / "20240101_000000_run.log").write_text(
        "".join(f"2024-01-01 00:00:00,000 line {i} of the run log\n" for i in range(100_000))
    )
    sim = max((job for job in ran if job.section == "SIM"), key=lambda job: job.name)
    (out / "bench_job.txt").write_text(sim.name)
    return sim.name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "autosubmit_api_bench")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    out = args.work / f"history_{args.jobs}_{args.rows}"
    if not (out / "bench_job.txt").exists():
        started = time.perf_counter()
        build(out, args.jobs, args.rows)
        print(f"wrote {out} in {time.perf_counter() - started:.1f} s")
    job = (out / "bench_job.txt").read_text().strip()
    env = dict(os.environ, TZ="UTC", PYTHONHASHSEED="0")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(out / ".autosubmitrc"), "a000", job, str(args.repeat), json.dumps(VIEWS)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{args.jobs} jobs, {args.rows} job_data rows, {args.repeat} warm requests each")
    print(
        f"{'view':<14}{'cold s':>9}{'cold cpu s':>12}{'cold, inputs parsed s':>23}"
        f"{'warm median ms':>16}{'warm p95 ms':>13}{'body bytes':>12}"
    )
    for row in rows:
        print(
            f"{row['view']:<14}{row['cold']:>9.2f}{row['cold_cpu']:>12.2f}{row['view_cold']:>23.2f}"
            f"{row['median'] * 1000:>16.1f}{row['p95'] * 1000:>13.1f}{row['bytes']:>12,}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
