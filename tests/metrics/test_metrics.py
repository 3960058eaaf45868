"""`GET /metrics` on the app itself (no gunicorn: the in-process registry): the scrape parses
with prometheus_client's own parser, the request counters and latency histograms move by
route template, the gate and the switch, the background jobs and the job-list loads
(docs/metrics.md). The multiprocess case is tests/metrics/test_metrics_gunicorn.py."""

from __future__ import annotations

import shutil
import tempfile

import pytest

from autosubmit_api import prometheus_metrics, workers
from autosubmit_api.config import ConfigError, load_settings
from tests.factory import workflow
from tests.metrics.scrape import label_values, parse, value

REQUESTS = "autosubmit_api_http_requests_total"
LATENCY_COUNT = "autosubmit_api_http_request_duration_seconds_count"
LATENCY_BUCKET = "autosubmit_api_http_request_duration_seconds_bucket"


def _scrape(client, headers=None):
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    # A live report: never tagged, compressed or kept by the HTTP cache layer.
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    return parse(response.get_data(as_text=True))


def test_a_scrape_parses_and_the_counters_move_by_route_template(client, make_experiment):
    make_experiment("a000")
    before = _scrape(client)
    assert client.get("/").status_code == 200
    assert client.get("/v4/experiments/a000").status_code == 200
    assert client.get("/v4/experiments/a000").status_code == 200
    assert client.get("/v4/experiments/zz99").status_code == 404
    assert client.get("/no/such/route/at/all").status_code == 404
    assert client.post("/").status_code == 405
    after = _scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    route = "/v4/experiments/<expid>"
    assert moved(REQUESTS, route="/", method="GET", status=200) == 1
    assert moved(REQUESTS, route=route, method="GET", status=200) == 2
    assert moved(REQUESTS, route=route, method="GET", status=404) == 1
    assert moved(REQUESTS, route="unmatched", method="GET", status=404) == 1
    # A method the rule does not serve matches no rule either.
    assert moved(REQUESTS, route="unmatched", method="POST", status=405) == 1
    assert moved(REQUESTS, route="/metrics", method="GET", status=200) == 1  # the first scrape
    assert moved(LATENCY_COUNT, route=route) == 3
    assert moved(LATENCY_BUCKET, route=route, le="+Inf") == 3
    # Labels are templates: no raw path, no expid.
    routes = label_values(after, REQUESTS, "route")
    assert not any("a000" in r or "zz99" in r or "no/such" in r for r in routes)


def test_a_304_is_counted_as_such(client, make_experiment):
    make_experiment("a000")
    first = client.get("/v4/experiments/a000")
    before = _scrape(client)
    again = client.get("/v4/experiments/a000", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    after = _scrape(client)
    route = "/v4/experiments/<expid>"
    assert value(after, REQUESTS, route=route, status=304) - value(before, REQUESTS, route=route, status=304) == 1


@pytest.mark.parametrize("level", ["ALL", "WRITEONLY", "NONE"])
def test_gated_like_the_other_read_routes(make_client, token, level):
    secret = "s" * 40
    client = make_client(level, AS_API_SECRET_TOKEN=secret)
    anonymous = client.get("/metrics")
    other = client.get("/v4/experiments")
    assert anonymous.status_code == other.status_code == (401 if level == "ALL" else 200)
    # What Prometheus sends: `authorization: {type: Bearer, credentials: ...}`.
    assert client.get("/metrics", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token('prometheus')}"}).status_code == 200


def test_switched_off_it_is_a_404_and_counts_nothing(make_client, token):
    client = make_client("ALL", API_METRICS="false")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": token()}).status_code == 404
    assert client.get("/").status_code == 200
    assert prometheus_metrics._start not in client.application.before_request_funcs.get(None, [])


@pytest.mark.parametrize("raw, expected", [("off", False), ("FALSE", False), ("0", False), ("true", True), ("", True)])
def test_the_switch_reads_plain_words(raw, expected):
    assert load_settings({"API_METRICS": raw}, dotenv=False).metrics_enabled is expected


def test_a_bad_switch_value_is_a_clear_error():
    with pytest.raises(ConfigError, match="API_METRICS='maybe' must be true or false"):
        load_settings({"API_METRICS": "maybe"}, dotenv=False)


def test_the_last_job_list_load_per_source_kind(client, make_experiment):
    make_experiment("a000")
    make_experiment("a001", job_list_layout="db")
    assert client.get("/v3/tree/a000").status_code == 200
    assert client.get("/v3/tree/a001").status_code == 200
    samples = _scrape(client)
    jobs = len(workflow.standard_jobs("a000"))
    for source in ("pickle", "job_db"):
        assert value(samples, "autosubmit_api_job_list_loads_total", source=source) >= 1
        assert value(samples, "autosubmit_api_job_list_last_load_jobs", source=source) == jobs
        assert value(samples, "autosubmit_api_job_list_last_load_seconds", source=source) > 0
        assert value(samples, "autosubmit_api_job_list_last_load_timestamp_seconds", source=source) > 0
    assert value(samples, "autosubmit_api_job_list_last_load_bytes", source="pickle") > 100
    assert "job_db" not in label_values(samples, "autosubmit_api_job_list_last_load_bytes", "source")
    loaded = value(samples, "autosubmit_api_job_list_loads_total", source="pickle")
    # A cached job list is no load.
    assert client.get("/v3/tree/a000").status_code == 200
    assert value(_scrape(client), "autosubmit_api_job_list_loads_total", source="pickle") == loaded


def test_background_job_runs_failures_and_last_success(site, env, make_experiment, make_client, tmp_path, monkeypatch):
    # The scheduler publishes to the temp dir (readers/worker_state.py `state_file`): this test's own.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    make_experiment("a000")
    settings = site.settings(env)
    client = make_client("NONE")
    status = workers.job("status")
    before = _scrape(client)
    saved = site.root / "autosubmit.db.saved"
    shutil.move(site.central_db, saved)
    assert workers.run_job(status, settings) is False
    shutil.move(saved, site.central_db)
    assert workers.run_job(status, settings) is True
    after = _scrape(client)
    for name, delta in (
        ("autosubmit_api_background_job_runs_total", 2),
        ("autosubmit_api_background_job_failures_total", 1),
    ):
        assert value(after, name, job="status") - value(before, name, job="status") == delta
    assert value(after, "autosubmit_api_background_job_last_success_timestamp_seconds", job="status") > 0
    assert label_values(after, "autosubmit_api_background_job_runs_total", "job") == {j.name for j in workers.jobs()}


def test_each_registered_cache_with_its_entries_hits_and_misses(client, make_experiment):
    import os

    make_experiment("a000")
    assert client.get("/v4/experiments/a000/jobs").status_code == 200
    first = _scrape(client)
    large = {"cache": "readers.cache.large", "pid": os.getpid()}
    assert value(first, "autosubmit_api_cache_entries", **large) >= 1
    assert value(first, "autosubmit_api_cache_bound_entries", **large) == 64
    misses = value(first, "autosubmit_api_cache_misses_total", **large)
    hits = value(first, "autosubmit_api_cache_hits_total", **large)
    assert misses >= 1
    # A second, different view of the same experiment reads the parsed job list from the cache.
    assert client.get("/v3/tree/a000").status_code == 200
    second = _scrape(client)
    assert value(second, "autosubmit_api_cache_hits_total", **large) > hits
    assert value(second, "autosubmit_api_cache_misses_total", **large) >= misses
    assert "http_cache.recent" in label_values(second, "autosubmit_api_cache_bytes", "cache")


def test_open_event_streams_are_counted(client, make_experiment):
    import os

    make_experiment("a000")
    pid = os.getpid()
    assert value(_scrape(client), "autosubmit_api_event_streams", pid=pid) == 0
    response = client.get("/v4/experiments/a000/events", buffered=False)
    try:
        assert response.status_code == 200
        next(response.response)  # the first frame: the stream is open
        assert value(_scrape(client), "autosubmit_api_event_streams", pid=pid) == 1
    finally:
        response.close()
    assert value(_scrape(client), "autosubmit_api_event_streams", pid=pid) == 0
