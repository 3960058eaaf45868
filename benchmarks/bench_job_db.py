"""Benchmark of the Autosubmit 4.2 job list reader (`db/job_list.db`, or the expid schema's
`jobs` table on PostgreSQL): cold load, warm lookup and refresh after changed rows.

    python benchmarks/bench_job_db.py [--jobs 50000] [--changed 100] [--work DIR]
                                      [--postgres postgresql://user@host:5432/admin_db]

A site with one N-job experiment in the 4.2 layout is written with the factory (kept in
--work and reused). A fresh Python process then measures `readers.job_list.load_job_list`:

* cold: the first load with an empty cache (plain columns, no unpickling);
* warm: the same call again, the change marker unchanged (mean of 100);
* refresh: after Autosubmit saved `--changed` rows again (a newer `modified`), the next
  call reads only those rows and patches the previous list (median of 5 rounds, each with
  other rows), and for comparison the cold load of the changed table;
* the dependency build from `experiment_structure` (cold).

With --postgres, a fresh database is created on that server, the site copied into it as
Autosubmit 4.2 keeps it (tables in the expid schema), measured the same way, and dropped.
Figures are printed as JSON lines; docs/storage.md records them with the machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))  # for tests.factory

CHILD = r"""
import json, statistics, sys, time
from autosubmit_api.config import load_settings
from tests.factory import job_db as factory_db, workflow
from autosubmit_api.readers import cache
from autosubmit_api.readers.job_list import load_job_list
from autosubmit_api.readers.structure import load_dependencies

rc, expid, n_jobs, changed, pg = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
settings = load_settings({"AUTOSUBMIT_CONFIGURATION": rc}, dotenv=False)
jobs_spec = workflow.big_workflow(expid, n_jobs)
path = rc.rsplit("/", 1)[0] + f"/{expid}/db/job_list.db"

def save(round_no):
    rows = jobs_spec[round_no * changed:(round_no + 1) * changed]
    for job in rows:
        job.status = 5
    when = factory_db.modified_after(3600 * (round_no + 1))
    if pg:
        factory_db.update_jobs_postgres(pg, expid, rows, when)
    else:
        factory_db.update_jobs(path, rows, when)

t = time.perf_counter(); c = time.process_time()
jobs = load_job_list(settings, expid)
cold, cold_cpu = time.perf_counter() - t, time.process_time() - c
t, c = time.perf_counter(), time.process_time()
for _ in range(100):
    again = load_job_list(settings, expid)
warm, warm_cpu = (time.perf_counter() - t) / 100, (time.process_time() - c) / 100
assert again is jobs
t = time.perf_counter()
deps = load_dependencies(settings, expid, jobs)
deps_cold = time.perf_counter() - t
refresh, refresh_cpu = [], []
for round_no in range(5):
    save(round_no)
    t, c = time.perf_counter(), time.process_time()
    patched = load_job_list(settings, expid)
    refresh.append(time.perf_counter() - t)
    refresh_cpu.append(time.process_time() - c)
    assert patched is not jobs and len(patched) == len(jobs)
    jobs = patched
cache.clear()
t = time.perf_counter()
load_job_list(settings, expid)
cold_again = time.perf_counter() - t
print(json.dumps({"backend": "postgres" if pg else "sqlite", "jobs": len(jobs), "edges": len(deps.edges()),
                  "cold_s": round(cold, 4), "cold_cpu_s": round(cold_cpu, 4),
                  "warm_ms": round(warm * 1000, 3), "warm_cpu_ms": round(warm_cpu * 1000, 3),
                  "refresh_ms_median": round(statistics.median(refresh) * 1000, 2),
                  "refresh_ms_max": round(max(refresh) * 1000, 2),
                  "refresh_cpu_ms_median": round(statistics.median(refresh_cpu) * 1000, 2), "changed_rows": changed,
                  "cold_after_changes_s": round(cold_again, 4), "deps_cold_s": round(deps_cold, 4)}))
"""


def build(work: Path, n_jobs: int) -> Path:
    from tests.factory import make_experiment, make_site, workflow

    root = work / f"job_db_{n_jobs}"
    rc = root / ".autosubmitrc"
    if rc.is_file() and (root / "a000" / "db" / "job_list.db").is_file():
        return root
    site = make_site(root)
    make_experiment(
        site,
        "a000",
        workflow.big_workflow("a000", n_jobs),
        job_list_layout="db",
        autosubmit_version="4.2.0",
        job_data_version=0,
        description=f"benchmark 4.2 experiment with {n_jobs} jobs",
    )
    return root


def measure(rc: Path, n_jobs: int, changed: int, pg: str = "") -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(rc), "a000", str(n_jobs), str(changed), pg],
        cwd=CHECKOUT,  # the child imports tests.factory
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _copy(root: Path, suffix: str) -> Path:
    # The measurement saves rows again: it runs on a copy, the built site stays as it was.
    copy = root.with_name(root.name + suffix)
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(root, copy)
    (copy / ".autosubmitrc").write_text((root / ".autosubmitrc").read_text().replace(str(root), str(copy)))
    return copy


def _postgres_copy(root: Path, admin_url: str) -> tuple:
    """A fresh database holding the site, a copy of the site pointing at it; (url, rc, drop)."""
    import psycopg

    from tests.factory import Site
    from tests.factory import postgres as pgf

    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    copy = _copy(root, "_pg")
    site = Site(copy)
    pgf.copy_site(site, url)
    pgf.write_pg_rc(site, url)

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(copy, ignore_errors=True)

    return url, copy / ".autosubmitrc", drop


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "autosubmit_api_bench")
    parser.add_argument("--postgres", default="", help="admin URL of a PostgreSQL server (optional)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    root = build(args.work, args.jobs)
    print(json.dumps({"machine": {"nproc": os.cpu_count(), "load": os.getloadavg()}}))
    copy = _copy(root, "_run")
    try:
        print(json.dumps(measure(copy / ".autosubmitrc", args.jobs, args.changed)))
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    if args.postgres:
        url, rc, drop = _postgres_copy(root, args.postgres)
        try:
            print(json.dumps(measure(rc, args.jobs, args.changed, url)))
        finally:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
