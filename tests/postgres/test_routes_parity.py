"""Every experiment route answers the same on a PostgreSQL-only site (Autosubmit 4.1.16+
layout, data.md A.12) as on the SQLite site it was copied from.

The site is written by the SQLite factory, each GET is answered by the SQLite app, then the
content is copied into PostgreSQL, the SQLite databases and the pickles are deleted (logs and
configuration stay on disk, as Autosubmit leaves them) and the same GETs are answered again.
"""
from __future__ import annotations

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.factory import postgres as pgf
from autosubmit_api.factory import workflow
from autosubmit_api.readers import backend, cache

JOB_LOG = "a000_20000101_fc0_1_SIM.20240101000000.out"
ROUTES = [
    "/expinfo/a000", "/expcount/a000", "/quick/a000", "/tree/a000", "/graph/a000/standard/none",
    "/graph/a000/standard/status", "/summary/a000", "/runs/a000", "/rundetail/a000/1",
    "/history/a000/a000_20000101_fc0_1_SIM", "/performance/a000", "/stats/a000/0/Any",
    "/pklinfo/a000/0", "/pkltreeinfo/a000/0", "/ifrun/a000", "/logrun/a000", "/exprun/a000",
    "/cconfig/a000", "/v4/experiments/a000/filesystem-config", "/expinfo/a001", "/tree/a001", "/quick/a001",
    "/search/a", "/searchowner/tester", "/running/",
    "/v4/experiments", "/v4/experiments?query=a001", "/v4/experiments/a000",
    "/v4/experiments/a000/jobs", "/v4/experiments/a001/wrappers", "/v4/experiments/a000/runs",
    "/v4/experiments/a000/runs/1/config", "/v4/experiments/zz99",
    f"/joblog/{JOB_LOG}", f"/v4/experiments/a000/logs/{JOB_LOG}",
]


# The tree's pkl_timestamp is the time of the request (data.md C), not data.
# /logrun's timediff is now minus the log's mtime; /stats' period ends at the current minute.
CLOCK_FIELDS = {"/tree/a000": ("pkl_timestamp",), "/tree/a001": ("pkl_timestamp",),
                "/logrun/a000": ("timediff",), "/stats/a000/0/Any": ("Statistics", "Period", "To")}


def _drop(body, path):
    for key in path[:-1]:
        body = body.get(key) if isinstance(body, dict) else None
    if isinstance(body, dict):
        body.pop(path[-1], None)
# The configuration views echo the site's own settings (data.md A.8 step 7), which differ
# between the two sites by construction.
SITE_KEYS = {"DATABASE_BACKEND", "DATABASE_CONN_URL"}


def _without_site_keys(value):
    if isinstance(value, dict):
        return {k: _without_site_keys(v) for k, v in value.items() if k not in SITE_KEYS}
    if isinstance(value, list):
        return [_without_site_keys(v) for v in value]
    return value


def _answers(settings):
    backend.dispose_all()
    cache.clear()
    client = create_app(settings).test_client()
    out = {}
    for route in ROUTES:
        response = client.get(route)
        body = response.get_json()
        if route in CLOCK_FIELDS:
            _drop(body, CLOCK_FIELDS[route])
        out[route] = (response.status_code, _without_site_keys(body))
    return out


def _settled_jobs(expid):
    """The standard workflow with no RUNNING/QUEUING job, so no answer depends on the clock."""
    jobs = workflow.standard_jobs(expid)
    for i, job in enumerate(jobs):
        job.status = 5 if i < len(jobs) // 2 else (7 if i == len(jobs) // 2 else 0)
    return jobs


@pytest.fixture
def answers(site, env, make_experiment, pg_url):
    exp = make_experiment("a000", _settled_jobs("a000"), job_data_version=19, status="RUNNING",
                          details={"user": "tester", "hpc": "MN5"})
    names = [job.name for job in exp.jobs]
    # Logs stay on the file system on a PostgreSQL site too.
    (exp.path / "tmp" / "ASLOGS" / "20240101_000000_run.log").write_text("line 1\nline 2\n")
    (exp.path / "tmp" / "LOG_a000" / JOB_LOG).write_text("sim output\n")
    make_experiment("a001", _settled_jobs("a001"), job_data_version=21,
                    packages={"a001_ASThread_17128472368642_1_2": [n.replace("a000", "a001") for n in names[3:5]]})
    sqlite_answers = _answers(site.settings(env))
    pgf.copy_site(site, pg_url)
    pgf.write_pg_rc(site, pg_url)
    pgf.remove_sqlite_files(site, ["a000", "a001"])
    pg_settings = site.settings(env)
    assert backend.is_postgres(pg_settings)
    return sqlite_answers, _answers(pg_settings)


def _diff(a, b, where=""):
    """Paths (and values) where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            out += _diff(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{where}.{key}")
        return out
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def test_a_postgres_only_site_answers_every_route_the_same(answers):
    sqlite_answers, pg_answers = answers
    # Guard: the comparison means something only if the SQLite site answers with data.
    assert sqlite_answers["/tree/a000"][1]["error"] is False
    assert sqlite_answers["/v4/experiments/a000/runs"][0] == 200
    assert "sim output" in str(sqlite_answers[f"/joblog/{JOB_LOG}"][1])
    assert "line 2" in str(sqlite_answers["/exprun/a000"][1])
    different = {route: (pg_answers[route], sqlite_answers[route])
                 for route in ROUTES if pg_answers[route] != sqlite_answers[route]}
    assert not different, "\n".join(
        f"{route} (postgres != sqlite): " + "; ".join(_diff(pg, lite)[:5])
        for route, (pg, lite) in different.items())
