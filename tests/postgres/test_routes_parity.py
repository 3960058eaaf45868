"""Every experiment route answers the same on a PostgreSQL-only site (Autosubmit 4.1.16+
layout, docs/data.md A.12) as on the SQLite site it was copied from.

The site is written by the SQLite factory, each GET is answered by the SQLite app, then the
content is copied into PostgreSQL, the SQLite databases and the pickles are deleted (logs and
configuration stay on disk, as Autosubmit leaves them) and the same GETs are answered again.

ROUTES is written by hand (each URL needs concrete arguments), so a test walks the app's URL
map: every GET route must be in ROUTES or in NOT_COMPARED with the reason it is left out.
"""

from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException

from autosubmit_api.app import create_app
from tests.factory import postgres as pgf
from tests.factory import workflow
from autosubmit_api.readers import backend, cache
from tests.factory.metrics import write_user_metrics

JOB = "a000_20000101_fc0_1_SIM"
JOB_LOG = f"{JOB}.20240101000000.out"
RECOVERY_LOG = "20240101_000000_MN5_log_recovery.log"
ROUTES = [
    "/expinfo/a000",
    "/expcount/a000",
    "/quick/a000",
    "/tree/a000",
    "/graph/a000/standard/none",
    "/graph/a000/standard/status",
    "/summary/a000",
    "/runs/a000",
    "/rundetail/a000/1",
    f"/history/a000/{JOB}",
    "/performance/a000",
    "/stats/a000/0/Any",
    "/pklinfo/a000/0",
    "/pkltreeinfo/a000/0",
    "/ifrun/a000",
    "/logrun/a000",
    "/exprun/a000",
    "/cconfig/a000",
    "/v4/experiments/a000/filesystem-config",
    "/expinfo/a001",
    "/tree/a001",
    "/quick/a001",
    "/search/a",
    "/search/a/experiment/active",
    "/searchowner/tester",
    "/searchowner/tester/experiment/active",
    "/running/",
    "/exp-recovery-logs/a000",
    "/v4/experiments",
    "/v4/experiments?query=a001",
    "/v4/experiments/a000",
    "/v4/experiments/a000/jobs",
    "/v4/experiments/a000/jobs?view=quick",
    "/v4/experiments/a001/wrappers",
    f"/v4/experiments/a000/jobs/{JOB}",
    f"/v4/experiments/a000/jobs/{JOB}/parents?include_status=true",
    f"/v4/experiments/a000/jobs/{JOB}/children?include_status=true",
    "/v4/experiments/a000/eta",
    "/v4/experiments/a000/runs",
    "/v4/experiments/a000/runs/1/config",
    "/v4/experiments/zz99",
    "/v4/experiments/a000/user-metrics-runs",
    "/v4/experiments/a000/runs/1/user-metrics",
    "/v4/experiments/a000/runs/3/user-metrics",
    "/v4/experiments/a001/user-metrics-runs",
    f"/joblog/{JOB_LOG}",
    f"/v4/experiments/a000/logs/{JOB_LOG}",
]

# GET routes left out of the comparison, with the reason: none reads an experiment's tables,
# the central tables or an experiment's files. The v3 routes also answer under /v3 with the
# same view function; those aliases count as their root route (checked below).
NOT_COMPARED = {
    # Service answers that read no experiment data.
    "/": "the landing page, a constant",
    "/openapi.json": "the API description shipped with the package",
    "/docs": "the Swagger UI page over /openapi.json, a template",
    "/docs/<path:filename>": "Swagger UI's files from the installed flask-swagger-ui package",
    "/shutdown/<route>": "answers an empty 200 and reads nothing",
    "/joblog/": "a job without a log name: a constant 'no log yet' answer that reads nothing",
    "/v4/runners/configuration/endpoints": "a constant (every runner feature but the description write is off)",
    "/v4/runners/configuration/profiles": "a constant (the one description-only profile)",
    "/v4/runners/configuration/ssh-public-keys": "a constant (no key)",
    # The API's own per-user table; tests/postgres/test_user_settings_pg.py runs it on PostgreSQL.
    "/v4/user-settings/preferred-username": "reads the API's own user settings, not experiment data",
    # The API's own audit table; tests/postgres/test_audit_pg.py runs it on PostgreSQL.
    "/v4/audit": "reads the API's own audit trail, not experiment data",
    # The process's own counters; tests/metrics cover them.
    "/metrics": "reports the service's own counters, not experiment data",
    # Reports on the service itself, which differs by backend by design.
    "/v4/health": "reports the central database's backend and the workers, not experiment data",
    # The archive probe's own SQLite file (as_metadata/test), written by a site probe and not
    # by Autosubmit, so read from the same file on either backend.
    "/filestatus/": "reads the archive probe's SQLite file, not experiment data",
    # Authentication: tokens and the CAS/GitHub/OIDC exchanges; tests/auth covers them.
    "/login": "CAS login exchange",
    "/v4/auth/cas/v2/login": "CAS login exchange",
    "/v4/auth/oauth2/github/login": "GitHub login exchange",
    "/v4/auth/oidc/login": "OpenID Connect login exchange",
    "/tokentest": "token check",
    "/v4/auth/verify-token": "token check",
    # A stream that never ends; its events are change-feed answers (jobs?since=), whose cursors
    # name the site (so differ by backend by design): tests/postgres/test_job_feed_pg.py runs
    # the feed on PostgreSQL.
    "/v4/experiments/<expid>/events": "an open event stream of change-feed answers, checked by test_job_feed_pg",
    # A write (the description), not a read; test_central_db checks writes go to PostgreSQL.
    "/updatedesc": "writes the description (GET is an alias of the POST)",
}


# The tree's pkl_timestamp is the time of the request (docs/data.md C), not data.
# /logrun's timediff is now minus the log's mtime; /stats' period ends at the current minute.
CLOCK_FIELDS = {
    "/tree/a000": ("pkl_timestamp",),
    "/tree/a001": ("pkl_timestamp",),
    "/logrun/a000": ("timediff",),
    "/stats/a000/0/Any": ("Statistics", "Period", "To"),
}


def _drop(body, path):
    for key in path[:-1]:
        body = body.get(key) if isinstance(body, dict) else None
    if isinstance(body, dict):
        body.pop(path[-1], None)


# The configuration views echo the site's own settings (docs/data.md A.8 step 7), which differ
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
    exp = make_experiment(
        "a000", _settled_jobs("a000"), job_data_version=19, status="RUNNING", details={"user": "tester", "hpc": "MN5"}
    )
    names = [job.name for job in exp.jobs]
    # Logs stay on the file system on a PostgreSQL site too.
    (exp.path / "tmp" / "ASLOGS" / "20240101_000000_run.log").write_text("line 1\nline 2\n")
    (exp.path / "tmp" / "LOG_a000" / JOB_LOG).write_text("sim output\n")
    (exp.path / "tmp" / "ASLOGS" / RECOVERY_LOG).write_text("recovered 1\nrecovered 2\n")
    # Inserted out of run order, so both backends must order by run then id; run 3 has no
    # row in experiment_run (its times are then null).
    metrics_db = pgf.user_metrics_db(site, "a000")
    write_user_metrics(
        metrics_db,
        [
            (2, JOB, "SYPD", "9.0", "2024-01-02 00:00:00"),
            (1, JOB, "SYPD", "12.5", "2024-01-01 00:00:00"),
            (3, "a000_20000101_fc0_2_SIM", "SYPD", "7.25", "2024-01-03 00:00:00"),
            (1, "a000_20000101_fc0_2_SIM", "SYPD", "13.0", "2024-01-01 01:00:00"),
            (1, JOB, "CHSY", "1500", "2024-01-01 02:00:00"),
        ],
    )
    make_experiment(
        "a001",
        _settled_jobs("a001"),
        job_data_version=21,
        packages={"a001_ASThread_17128472368642_1_2": [n.replace("a000", "a001") for n in names[3:5]]},
    )
    sqlite_answers = _answers(site.settings(env))
    pgf.copy_site(site, pg_url)
    pgf.write_pg_rc(site, pg_url)
    pgf.remove_sqlite_files(site, ["a000", "a001"])
    assert not metrics_db.exists()  # the metrics now come from <expid>.user_metrics only
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
    assert "recovered 2" in str(sqlite_answers["/exp-recovery-logs/a000"][1])
    assert sqlite_answers[f"/v4/experiments/a000/jobs/{JOB}"][1]["name"] == JOB
    assert sqlite_answers[f"/v4/experiments/a000/jobs/{JOB}/children?include_status=true"][1]["children"]
    assert sqlite_answers["/v4/experiments/a000/eta"][0] == 200
    runs = sqlite_answers["/v4/experiments/a000/user-metrics-runs"][1]["runs"]
    assert [r["run_id"] for r in runs] == [3, 2, 1]
    assert runs[0]["created"] is None and runs[2]["created"] is not None
    metrics = sqlite_answers["/v4/experiments/a000/runs/1/user-metrics"][1]["metrics"]
    assert [(m["metric_name"], m["metric_value"]) for m in metrics] == [
        ("SYPD", "12.5"),
        ("SYPD", "13.0"),
        ("CHSY", "1500"),
    ]
    # The one answer that differs by backend on purpose: PostgreSQL keeps no history schema
    # version, so the card says "NA" there, as upstream 4.2.0 does (docs/storage.md).
    for route in ("/expinfo/a000", "/expinfo/a001"):
        pg_card, lite_card = pg_answers[route][1], sqlite_answers[route][1]
        if lite_card.get("db_historic_version") != "NA":
            assert isinstance(lite_card["db_historic_version"], int)
            assert pg_card["db_historic_version"] == "NA"
            pg_card["db_historic_version"] = lite_card["db_historic_version"]
    different = {
        route: (pg_answers[route], sqlite_answers[route])
        for route in ROUTES
        if pg_answers[route] != sqlite_answers[route]
    }
    assert not different, "\n".join(
        f"{route} (postgres != sqlite): " + "; ".join(_diff(pg, lite)[:5]) for route, (pg, lite) in different.items()
    )


def _get_views(app):
    """{rule: view function} of every GET route of the app."""
    return {rule.rule: app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules() if "GET" in rule.methods}


def test_every_get_route_is_compared_or_left_out_with_a_reason(site, env):
    app = create_app(site.settings(env))
    views = _get_views(app)
    adapter = app.url_map.bind("localhost")
    compared, problems = set(), []
    for route in ROUTES:
        try:
            rule, _ = adapter.match(route.split("?", 1)[0], method="GET", return_rule=True)
        except HTTPException:
            problems.append(f"{route} in ROUTES matches no GET route")
            continue
        compared.add(rule.rule)
    for rule, view in sorted(views.items()):
        twin = rule[len("/v3") :] if rule.startswith("/v3/") else None
        key = twin if twin is not None and views.get(twin) is view else rule
        if key not in compared and key not in NOT_COMPARED:
            problems.append(f"{rule} is neither compared (add a URL to ROUTES) nor in NOT_COMPARED")
    problems += [f"{rule} in NOT_COMPARED is no GET route" for rule in sorted(set(NOT_COMPARED) - set(views))]
    problems += [f"{rule} is both compared and in NOT_COMPARED" for rule in sorted(compared & set(NOT_COMPARED))]
    assert not problems, "\n".join(problems)
