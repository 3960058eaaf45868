"""`GET /metrics` in the Prometheus text format, with the official `prometheus_client`
(docs/metrics.md has every metric name, its labels and its meaning).

Two kinds of metrics:

* **Counted at each request** (`autosubmit_api_http_requests_total`,
  `autosubmit_api_http_request_duration_seconds`): labelled by the route *template*
  (`/v3/tree/<expid>`, never the URL: a bounded set), `unmatched` for a URL no route serves.
  Under gunicorn (`autosubmit_api start`) every worker process writes them to files in
  `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode), and a scrape, whichever
  worker answers it, adds up every worker's, the dead ones' included. `start` makes a fresh
  directory per server start when the operator names none (cli.py), and its `child_exit`
  hook calls `mark_process_dead`. Without that variable (a plain `create_app()`, the Flask
  test client), they are ordinary in-process metrics.
* **Collected at scrape time** (`_SiteCollector`): the background jobs' runs, failures and
  last success (the scheduler's published metrics, workers/__init__.py: the same for every
  process of the host), and per-process facts labelled with the `pid` of the process that
  answers: each cache's entries, hits and misses, the last job-list load per source kind
  (readers/load_stats.py).

PROMETHEUS_MULTIPROC_DIR must be in the environment before prometheus_client is first imported:
this module imports it, so `start` sets the variable before the app is built.
"""

from __future__ import annotations

import os
import time
from typing import Iterator, Optional, Tuple

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autosubmit_api.config import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a conditional GET answered 304 (a millisecond) to the first parse of a
# 50,000-job experiment's history (tens of seconds on a slow disk).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# No `_created` series: multiprocess mode has none, so a single process has none either.
disable_created_metrics()

# Not registered anywhere at import: each scrape builds its registry (below).
REQUESTS = Counter(
    "autosubmit_api_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
    registry=None,
)
LATENCY = Histogram(
    "autosubmit_api_http_request_duration_seconds",
    "Seconds from the request's arrival in the app to its answer (body streaming excluded), by route template",
    ["route"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)


def multiprocess_dir() -> Optional[str]:
    return os.environ.get(MULTIPROC_ENV) or None


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _finish(response):
    started = getattr(g, "metrics_started", None)
    if started is None:
        return response
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(route, method, str(response.status_code)).inc()
    LATENCY.labels(route).observe(time.perf_counter() - started)
    return response


def install(app: Flask) -> None:
    """Count every request of `app` (when the site has metrics on). Registered first among
    the before_request hooks, so a request refused by one (413) is counted too."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)


class _SiteCollector(Collector):
    """What is read at scrape time: the background jobs of the host and this process's
    caches and job-list loads."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        yield from _worker_families(self.settings)
        pid = str(os.getpid())
        yield from _cache_families(pid)
        yield from _stream_families(pid)
        yield from _load_families(pid)


def _worker_families(settings: Settings) -> Iterator[Metric]:
    from autosubmit_api.readers import worker_state

    published = worker_state.metrics(settings)
    runs = CounterMetricFamily(
        "autosubmit_api_background_job_runs", "Runs of each background job (failed ones included)", labels=["job"]
    )
    failures = CounterMetricFamily(
        "autosubmit_api_background_job_failures", "Failed runs of each background job", labels=["job"]
    )
    skipped = CounterMetricFamily(
        "autosubmit_api_background_job_skipped",
        "Runs skipped because another process or host held the job's lock or had run this interval",
        labels=["job"],
    )
    success = GaugeMetricFamily(
        "autosubmit_api_background_job_last_success_timestamp_seconds",
        "Unix time of the start of the job's last successful run (absent before the first one)",
        labels=["job"],
    )
    duration = GaugeMetricFamily(
        "autosubmit_api_background_job_last_duration_seconds",
        "Seconds the job's last run took (absent before the first run)",
        labels=["job"],
    )
    for name, _, _ in worker_state.JOBS:
        values = published.get(name, {})
        runs.add_metric([name], values.get("runs") or 0)
        failures.add_metric([name], values.get("errors") or 0)
        skipped.add_metric([name], values.get("skipped") or 0)
        if values.get("last_success"):
            success.add_metric([name], values["last_success"])
        if values.get("duration_seconds") is not None:
            duration.add_metric([name], values["duration_seconds"])
    yield from (runs, failures, skipped, success, duration)


def _cache_families(pid: str) -> Iterator[Metric]:
    """Every registered cache of this process (autosubmit_api/cache_registry.py)."""
    from autosubmit_api import cache_registry

    labels = ["cache", "pid"]
    entries = GaugeMetricFamily("autosubmit_api_cache_entries", "Entries a cache of this process holds", labels=labels)
    bound = GaugeMetricFamily(
        "autosubmit_api_cache_bound_entries",
        "The entry bound of a cache of this process (caches bounded otherwise, e.g. one per database, have none)",
        labels=labels,
    )
    hits = CounterMetricFamily("autosubmit_api_cache_hits", "Lookups a cache of this process answered", labels=labels)
    misses = CounterMetricFamily(
        "autosubmit_api_cache_misses", "Lookups a cache of this process had to compute", labels=labels
    )
    size = GaugeMetricFamily(
        "autosubmit_api_cache_bytes", "Bytes a cache of this process holds (caches that know it)", labels=labels
    )
    for name, stats in sorted(cache_registry.stats().items()):
        key = [name, pid]
        entries.add_metric(key, stats["entries"])
        if isinstance(stats.get("bound"), int):
            bound.add_metric(key, stats["bound"])
        hits.add_metric(key, stats.get("hits") or 0)
        misses.add_metric(key, stats.get("misses") or 0)
        if stats.get("bytes") is not None:
            size.add_metric(key, stats["bytes"])
    yield from (entries, bound, hits, misses, size)


def _stream_families(pid: str) -> Iterator[Metric]:
    """Event streams (GET /v4/experiments/<expid>/events) this process holds open now."""
    from autosubmit_api.services import job_events

    streams = GaugeMetricFamily("autosubmit_api_event_streams", "Event streams this process holds open", labels=["pid"])
    streams.add_metric([pid], job_events.subscriber_count())
    yield streams


def _load_families(pid: str) -> Iterator[Metric]:
    from autosubmit_api.readers import load_stats

    labels = ["source", "pid"]
    loads = CounterMetricFamily(
        "autosubmit_api_job_list_loads", "Job lists read and parsed by this process, by source kind", labels=labels
    )
    seconds = GaugeMetricFamily(
        "autosubmit_api_job_list_last_load_seconds",
        "Seconds the last job-list load of this process took (read excluded for files: the parse), by source kind",
        labels=labels,
    )
    jobs = GaugeMetricFamily(
        "autosubmit_api_job_list_last_load_jobs", "Jobs in the last job list this process loaded", labels=labels
    )
    size = GaugeMetricFamily(
        "autosubmit_api_job_list_last_load_bytes",
        "Bytes of the last pickle this process parsed (pickle kinds only)",
        labels=labels,
    )
    when = GaugeMetricFamily(
        "autosubmit_api_job_list_last_load_timestamp_seconds",
        "Unix time of this process's last job-list load",
        labels=labels,
    )
    for source, last in sorted(load_stats.snapshot().items()):
        key = [source, pid]
        loads.add_metric(key, last.loads)
        seconds.add_metric(key, last.seconds)
        jobs.add_metric(key, last.jobs)
        when.add_metric(key, last.time)
        if last.size_bytes is not None:
            size.add_metric(key, last.size_bytes)
    yield from (loads, seconds, jobs, size, when)


def registry_for(settings: Settings) -> CollectorRegistry:
    """The registry a scrape reads: every worker's request metrics (multiprocess mode) or this
    process's, and the scrape-time collector."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory is not None:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_SiteCollector(settings))
    return registry


def scrape(settings: Settings) -> Tuple[bytes, str]:
    """(body, content type) of a scrape."""
    return generate_latest(registry_for(settings)), CONTENT_TYPE_LATEST
