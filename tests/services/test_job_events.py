"""The event stream's hub in one process (services/job_events.py): one watch per experiment
shared by its subscribers, events from the change feed after the factory rewrites the job
list, a full event let go once a newer one follows (a late subscriber then gets its own
difference), the slot bound and the subscriber count that metrics read."""

from __future__ import annotations

import json

import pytest

from autosubmit_api.errors import Unavailable
from tests.factory import set_statuses
from tests.factory.specs import JobSpec
from tests.factory import pickles
from autosubmit_api.services import job_events

FAILED, RUNNING = -1, 4


def data(frame):
    lines = dict(line.split(": ", 1) for line in frame.decode().strip().split("\n"))
    return lines["id"], json.loads(lines["data"])


@pytest.fixture
def quiet(site, env):
    # The watches' own threads wait an hour: the test drives `check()` itself.
    env.update(API_EVENTS_INTERVAL="3600", API_EVENTS_HEARTBEAT="3600")
    return site.settings(env)


def test_one_watch_feeds_every_subscriber(quiet, make_experiment):
    made = make_experiment("a000")
    before = job_events.subscriber_count()
    one = job_events.subscribe(quiet, "a000", "quick", None)
    two = job_events.subscribe(quiet, "a000", "base", None)
    try:
        assert job_events.subscriber_count() == before + 2
        assert job_events.subscribers_by_experiment()["a000"] == 2
        assert one.watch is two.watch
        assert next(one) == b"retry: %d\n\n" % job_events.RETRY_MS and next(two).startswith(b"retry:")
        cursor, first = data(next(one))
        assert first["full"] is True and len(first["jobs"]) == len(made.jobs) and first["cursor"] == cursor
        next(two)
        set_statuses(made, {made.jobs[0].name: FAILED})
        one.watch.check()
        _, quick = data(next(one))
        _, base = data(next(two))
        assert quick["full"] is False and [j["status"] for j in quick["jobs"]] == ["FAILED"]
        assert set(quick["jobs"][0]) == {"name", "status", "submit_time", "start_time", "finish_time"}
        assert base["jobs"][0]["section"] == made.jobs[0].section and base["cursor"] == quick["cursor"]
    finally:
        one.close()
        two.close()
    assert job_events.subscriber_count() == before
    assert "a000" not in job_events.subscribers_by_experiment()
    assert one.watch.stopped.is_set()


def test_a_full_event_is_let_go_and_a_late_subscriber_gets_its_own_difference(quiet, make_experiment):
    made = make_experiment("a000")
    stream = job_events.subscribe(quiet, "a000", "quick", None)
    try:
        next(stream)
        _, first = data(next(stream))
        pickles.write_job_list(made.pkl_path, made.jobs + [JobSpec(name="a000_NEW", section="NEW")], "F4")
        stream.watch.check()  # jobs added: a full event
        full = stream.watch.events[-1]
        assert full.change.full is True
        made.jobs[1].status = RUNNING
        pickles.write_job_list(made.pkl_path, made.jobs + [JobSpec(name="a000_NEW", section="NEW")], "F4")
        stream.watch.check()
        assert full.change is None and full.payload("quick") is None  # the whole list is not kept
        # The subscriber was still at its first cursor: it gets the difference since then.
        _, caught_up = data(next(stream))
        assert caught_up["full"] is True and "a000_NEW" in {j["name"] for j in caught_up["jobs"]}
        assert caught_up["cursor"] == stream.watch.cursor
    finally:
        stream.close()


def test_streams_are_bounded_by_the_setting_and_the_threads(site, env, make_experiment):
    make_experiment("a000")
    env.update(API_EVENTS_INTERVAL="3600", API_EVENTS_MAX_SUBSCRIBERS="1")
    settings = site.settings(env)
    assert job_events.capacity(settings) == 1
    assert job_events.capacity(settings.replace(events_max_subscribers=500, server_threads=240)) == 210
    sync = settings.replace(server_threads=1)
    assert job_events.capacity(sync) == 0
    before = job_events.subscriber_count()
    with pytest.raises(Unavailable, match="event streams"):
        job_events.subscribe(sync, "a000", "base", None)
    held = job_events.subscribe(settings, "a000", "base", None)
    try:
        with pytest.raises(Unavailable):
            job_events.subscribe(settings, "a000", "base", None)
        assert job_events.subscriber_count() == before + 1
    finally:
        held.close()
        held.close()  # twice: the slot is given back once
    assert job_events.subscriber_count() == before


def test_fresh_streams_of_one_version_share_one_opening_frame(quiet, make_experiment):
    """Streams opened without a cursor each start with the whole job list: one bytes object
    for all of them (200 fresh streams of a 50,000-job experiment held 200 copies of 17 MB)."""
    make_experiment("a000")
    streams = [job_events.subscribe(quiet, "a000", "base", None) for _ in range(3)]
    try:
        openings = []
        for stream in streams:
            assert next(stream).startswith(b"retry:")
            openings.append(next(stream))
        assert data(openings[0])[1]["full"] is True
        assert openings[1] is openings[0] and openings[2] is openings[0]
        quick = job_events.subscribe(quiet, "a000", "quick", None)
        try:
            next(quick)
            assert next(quick) != openings[0]  # another view, its own frame
        finally:
            quick.close()
    finally:
        for stream in streams:
            stream.close()
