"""`GET /v4/experiments/<expid>/events` (Server-Sent Events) on a real `autosubmit_api start
--streams N` (gunicorn gthread) on loopback, read by a real SSE client (requests, stream=True):
the first full event, a `jobs` event after the factory rewrites the job list (a pickle, rows
of the 4.2 `jobs` table), heartbeats, `Last-Event-ID` resume, the 503 when the streams are
all taken, and the sync worker's refusal. Intervals are short settings, and every wait is for
a condition with a generous deadline, never a fixed sleep."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from tests.factory import job_db as factory_db
from tests.factory import make_experiment, make_site, set_statuses
from autosubmit_api.services import job_events
from tests.conftest import TEST_SECRET
from tests.test_cli import clean_env, serving

pytestmark = pytest.mark.slow  # real gunicorn servers

DEADLINE = 60
FAILED, RUNNING = -1, 4


class SSE:
    """A minimal EventSource: frames parsed as the SSE spec says, collected by a thread."""

    def __init__(self, url, headers=None):
        self.response = requests.get(url, headers=headers or {}, stream=True, timeout=(10, DEADLINE))
        self.events = []
        self.comments = []
        self.retry = None
        self.cond = threading.Condition()
        if self.response.status_code == 200:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()

    def _read(self):
        event = {}
        try:
            for raw in self.response.iter_lines(chunk_size=1, decode_unicode=True):
                if raw == "":
                    if "data" in event:
                        with self.cond:
                            self.events.append(dict(event, data=json.loads(event["data"])))
                            self.cond.notify_all()
                    event = {}
                elif raw.startswith(":"):
                    with self.cond:
                        self.comments.append((time.monotonic(), raw))
                        self.cond.notify_all()
                else:
                    field, _, value = raw.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "retry":
                        self.retry = int(value)
                    elif field in ("id", "event", "data"):
                        event[field] = value
        except (requests.RequestException, ValueError, AttributeError):
            pass  # the test closed the stream

    def wait(self, check, what):
        end = time.monotonic() + DEADLINE
        with self.cond:
            while not check(self):
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {DEADLINE} s: {self.events} {self.comments[-3:]}")
                self.cond.wait(left)

    def close(self):
        self.response.close()


def statuses(event):
    return {job["name"]: job["status"] for job in event["data"]["jobs"]}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("events-site") / "site")
    make_experiment(site, "e000")
    make_experiment(site, "e042", job_list_layout="db", autosubmit_version="4.2.0")
    return site


def server_env(site, home, **extra):
    return clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path),
        HOME=str(home),
        PROTECTION_LEVEL="NONE",
        SECRET_KEY=TEST_SECRET,
        API_EVENTS_INTERVAL="0.2",
        API_EVENTS_HEARTBEAT="0.5",
        **extra,
    )


@pytest.fixture(scope="module")
def server(site, tmp_path_factory):
    home = tmp_path_factory.mktemp("events-home")
    with serving(server_env(site, home), "--disable-bg-tasks", "--streams", "3", cwd=home) as srv:
        yield srv


def test_a_rewritten_pickle_reaches_the_subscriber(server, site):
    from tests.factory import Experiment, workflow

    made = Experiment(site=site, expid="e000", exp_id=0, jobs=workflow.standard_jobs("e000"))
    stream = SSE(f"{server.base}/v4/experiments/e000/events")
    try:
        assert stream.response.status_code == 200
        assert stream.response.headers["Content-Type"].startswith("text/event-stream")
        assert stream.response.headers["Cache-Control"] == "no-store"
        stream.wait(lambda s: s.events, "first event")
        first = stream.events[0]
        assert first["event"] == "jobs" and first["data"]["full"] is True and first["id"] == first["data"]["cursor"]
        assert len(first["data"]["jobs"]) == len(made.jobs)
        assert stream.retry == job_events.RETRY_MS
        stream.wait(lambda s: len(s.comments) >= 2, "heartbeats")
        set_statuses(made, {made.jobs[1].name: FAILED})
        stream.wait(lambda s: len(s.events) >= 2, "jobs event after the rewrite")
        change = stream.events[1]
        assert change["data"]["full"] is False and statuses(change) == {made.jobs[1].name: "FAILED"}
        assert change["id"] == change["data"]["cursor"] != first["id"]
    finally:
        stream.close()
    # Resuming from the first cursor gives the change again, and only it.
    again = SSE(f"{server.base}/v4/experiments/e000/events", headers={"Last-Event-ID": first["id"]})
    try:
        again.wait(lambda s: s.events, "resumed event")
        assert again.events[0]["data"] == change["data"]
    finally:
        again.close()
    # From the latest cursor: nothing to send, only heartbeats.
    quiet = SSE(f"{server.base}/v4/experiments/e000/events?since={change['id']}")
    try:
        quiet.wait(lambda s: len(s.comments) >= 2, "heartbeats")
        assert quiet.events == []
    finally:
        quiet.close()


def test_rows_saved_in_the_jobs_table_reach_every_subscriber(server, site):
    from tests.factory import workflow

    jobs = workflow.standard_jobs("e042")
    streams = [SSE(f"{server.base}/v4/experiments/e042/events?view=quick") for _ in range(2)]
    try:
        for stream in streams:
            stream.wait(lambda s: s.events, "first event")
        jobs[4].status = RUNNING
        factory_db.update_jobs(site.exp_dir("e042") / "db" / "job_list.db", [jobs[4]], factory_db.modified_after(90))
        for stream in streams:
            stream.wait(lambda s: len(s.events) >= 2, "jobs event")
            assert statuses(stream.events[1]) == {jobs[4].name: "RUNNING"}
            assert set(stream.events[1]["data"]["jobs"][0]) == {
                "name",
                "status",
                "submit_time",
                "start_time",
                "finish_time",
            }
        # One poller, one event: both subscribers got the same frame.
        assert streams[0].events[1] == streams[1].events[1]
    finally:
        for stream in streams:
            stream.close()


def test_streams_are_bounded_and_ordinary_requests_still_answer(server):
    def full():
        return requests.get(f"{server.base}/v4/experiments/e000/events", stream=True, timeout=10)

    held = []
    try:
        # Slots come back when a client goes away: wait until all three are free again.
        end = time.monotonic() + DEADLINE
        while len(held) < 3:
            answer = full()
            if answer.status_code == 200:
                held.append(answer)
            else:
                answer.close()
                assert time.monotonic() < end, "stream slots never came back"
                time.sleep(0.2)
        refused = full()
        assert refused.status_code == 503
        assert "event streams" in refused.json()["error_message"]
        plain = requests.get(f"{server.base}/v4/experiments/e000/jobs", timeout=10)
        assert plain.status_code == 200 and plain.json()["jobs"]
    finally:
        for answer in held:
            answer.close()


def test_errors_come_before_the_stream(server):
    assert requests.get(f"{server.base}/v4/experiments/zzzz/events", timeout=10).status_code == 404
    assert requests.get(f"{server.base}/v4/experiments/e000/events?since=nope", timeout=10).status_code == 400
    assert requests.get(f"{server.base}/v4/experiments/e000/events?view=tree", timeout=10).status_code == 400


def test_a_sync_worker_refuses_streams_with_a_clear_503(site, tmp_path):
    with serving(server_env(site, tmp_path), "--disable-bg-tasks", "--worker-class", "sync", cwd=tmp_path) as srv:
        answer = requests.get(f"{srv.base}/v4/experiments/e000/events", timeout=10)
        assert answer.status_code == 503 and "event streams" in answer.json()["error_message"]
        assert requests.get(f"{srv.base}/v4/experiments/e000/jobs?since=", timeout=10).json()["full"] is True
        out, err = srv.stop()
    assert "sync workers: an event stream" in err
