"""The v4 change feed `GET /v4/experiments/<expid>/jobs?since=<cursor>` against job lists changed
the way Autosubmit changes them: a rewritten pickle (each format), rows of the 4.2 `jobs`
table saved again with a newer `modified` (also within the same second), rows deleted, the
table recreated; foreign, stale and malformed cursors; ETag and 304; the plain answer
unchanged by the feed."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from autosubmit_api.app import create_app
from tests.factory import job_db as factory_db
from tests.factory import set_statuses
from autosubmit_api.services import job_feed
from tests.conftest import TEST_SECRET

FAILED, RUNNING = -1, 4


def feed(client, expid, since="", view=None, headers=None):
    query = {"since": since}
    if view:
        query["view"] = view
    answer = client.get(f"/v4/experiments/{expid}/jobs", query_string=query, headers=headers or {})
    assert answer.status_code == 200, answer.data
    return answer.get_json()


def by_name(body):
    return {job["name"]: job for job in body["jobs"]}


@pytest.mark.parametrize("fmt", ["F1", "F2", "F3", "F4"])
def test_a_rewritten_pickle_answers_only_the_changed_jobs(client, make_experiment, fmt):
    made = make_experiment("a000", pkl_format=fmt)
    first = feed(client, "a000")
    assert first["full"] is True and {j["name"] for j in first["jobs"]} == {j.name for j in made.jobs}
    assert feed(client, "a000", first["cursor"]) == {"cursor": first["cursor"], "full": False, "jobs": []}
    assert made.jobs[0].status != FAILED and made.jobs[2].status != RUNNING
    changed = {made.jobs[0].name: FAILED, made.jobs[2].name: RUNNING}
    set_statuses(made, changed, pkl_format=fmt)
    after = feed(client, "a000", first["cursor"])
    assert after["full"] is False and after["cursor"] != first["cursor"]
    assert {name: job["status"] for name, job in by_name(after).items()} == {
        made.jobs[0].name: "FAILED",
        made.jobs[2].name: "RUNNING",
    }
    # The items have the v4 list's shape plus the times.
    plain = {j["name"]: j for j in client.get("/v4/experiments/a000/jobs").get_json()["jobs"]}
    item = by_name(after)[made.jobs[0].name]
    assert {k: v for k, v in item.items() if not k.endswith("_time")} == plain[made.jobs[0].name]
    assert {"submit_time", "start_time", "finish_time"} <= item.keys()
    # Nothing since the new cursor; the old one still answers the same difference.
    assert feed(client, "a000", after["cursor"])["jobs"] == []
    assert feed(client, "a000", first["cursor"]) == after


def test_a_rewrite_with_the_same_content_is_no_change(client, make_experiment):
    made = make_experiment("a000")
    first = feed(client, "a000")
    set_statuses(made, {})  # the file is written again, nothing in it changed
    again = feed(client, "a000", first["cursor"])
    assert again["full"] is False and again["jobs"] == []  # a new version (its cursor), no changed job


def test_a_pickle_version_this_process_never_saw_answers_the_full_list(site, env, make_experiment):
    made = make_experiment("a000")
    client = create_app(site.settings(env)).test_client()
    first = feed(client, "a000")
    set_statuses(made, {made.jobs[0].name: FAILED})
    # A fresh process (its cache empty) sees only the new version: the cursor's base is unknown.
    from autosubmit_api.readers import cache

    cache.clear()
    again = feed(client, "a000", first["cursor"])
    assert again["full"] is True and len(again["jobs"]) == len(made.jobs)
    assert by_name(again)[made.jobs[0].name]["status"] == "FAILED"
    assert feed(client, "a000", again["cursor"])["jobs"] == []


def test_jobs_added_to_a_pickle_answer_the_full_list(client, make_experiment):
    from tests.factory import JobSpec, pickles

    made = make_experiment("a000")
    first = feed(client, "a000")
    pickles.write_job_list(made.pkl_path, made.jobs + [JobSpec(name="a000_NEW", section="NEW")], "F4")
    after = feed(client, "a000", first["cursor"])
    assert after["full"] is True and "a000_NEW" in by_name(after)


@pytest.fixture
def as42(make_experiment):
    return make_experiment("a042", job_list_layout="db", autosubmit_version="4.2.0")


def test_rows_saved_again_are_the_change(client, as42):
    first = feed(client, "a042")
    assert first["full"] is True and len(first["jobs"]) == len(as42.jobs)
    assert feed(client, "a042", first["cursor"])["jobs"] == []
    job = as42.jobs[1]
    job.status = RUNNING
    factory_db.update_jobs(
        as42.job_db_path, [job], factory_db.modified_after(60), times={job.name: (1.7e9, 1.7e9 + 60, None)}
    )
    after = feed(client, "a042", first["cursor"])
    assert after["full"] is False and list(by_name(after)) == [job.name]
    item = by_name(after)[job.name]
    assert item["status"] == "RUNNING" and item["submit_time"] == 1700000000 and item["start_time"] == 1700000060
    assert item["finish_time"] is None
    assert feed(client, "a042", after["cursor"]) == {"cursor": after["cursor"], "full": False, "jobs": []}


def test_a_row_saved_later_in_the_same_second_is_not_missed(client, as42):
    # A save stamped in the future of this clock: its second is still open when the cursor is
    # made, so the cursor keeps a digest of the rows of that second.
    second = datetime.now(timezone.utc) + timedelta(hours=1)
    factory_db.update_jobs(as42.job_db_path, [as42.jobs[0]], second)
    first = feed(client, "a042")
    assert job_feed.decode(first["cursor"])[4] != ""
    assert feed(client, "a042", first["cursor"])["jobs"] == []
    job = as42.jobs[3]
    job.status = FAILED
    factory_db.update_jobs(as42.job_db_path, [job], second)  # the same `modified` second
    after = feed(client, "a042", first["cursor"])
    assert after["full"] is False and by_name(after)[job.name]["status"] == "FAILED"
    # The rows of that second come again (they cannot be told apart by `modified`), no others.
    assert set(by_name(after)) == {as42.jobs[0].name, job.name}
    assert feed(client, "a042", after["cursor"])["jobs"] == []


def test_a_settled_cursor_has_no_digest_and_rows_leaving_its_second_are_not_resent(client, as42):
    first = feed(client, "a042")  # every row stamped BASE_MODIFIED, long ago
    assert job_feed.decode(first["cursor"])[4] == ""
    factory_db.update_jobs(as42.job_db_path, [as42.jobs[5]], factory_db.modified_after(1))
    assert list(by_name(feed(client, "a042", first["cursor"]))) == [as42.jobs[5].name]


def test_deleted_rows_or_a_recreated_table_answer_the_full_list(client, as42):
    first = feed(client, "a042")
    with sqlite3.connect(as42.job_db_path) as conn:
        conn.execute("DELETE FROM jobs WHERE name = ?", (as42.jobs[0].name,))
    conn.close()
    after = feed(client, "a042", first["cursor"])
    assert after["full"] is True and as42.jobs[0].name not in by_name(after)
    # Recreated with older `modified` values than the cursor's: nothing at or after it.
    factory_db.write_job_list_db(as42.job_db_path, "a042", as42.jobs, modified=factory_db.modified_after(-3600))
    again = feed(client, "a042", after["cursor"])
    assert again["full"] is True and len(again["jobs"]) == len(as42.jobs)


def test_foreign_and_malformed_cursors(client, make_experiment, as42):
    make_experiment("a000")
    other = feed(client, "a000")["cursor"]
    answer = feed(client, "a042", other)  # another experiment's cursor
    assert answer["full"] is True and len(answer["jobs"]) == len(as42.jobs)
    future = "c9." + base64.urlsafe_b64encode(b'["x"]').decode().rstrip("=")  # another format version
    assert feed(client, "a042", future)["full"] is True
    for bad in ("zz", "c1.!!!", "c1." + base64.urlsafe_b64encode(b"{}").decode(), "c1", "c1x.abc"):
        answer = client.get("/v4/experiments/a042/jobs", query_string={"since": bad})
        assert answer.status_code == 400
        assert "since is not a cursor" in answer.get_json()["error_message"]
    for query in ({"since": "", "page": "1"}, {"since": "", "page_size": "10"}, {"since": "", "view": "tree"}):
        assert client.get("/v4/experiments/a042/jobs", query_string=query).status_code == 400
    assert client.get("/v4/experiments/zzzz/jobs", query_string={"since": ""}).status_code == 404


def test_the_quick_view_shape(client, as42):
    body = feed(client, "a042", view="quick")
    assert set(body["jobs"][0]) == {"name", "status", "submit_time", "start_time", "finish_time"}


def test_feed_answers_carry_an_etag_and_answer_304(client, as42):
    first = client.get("/v4/experiments/a042/jobs", query_string={"since": ""})
    cursor = first.get_json()["cursor"]
    empty = client.get("/v4/experiments/a042/jobs", query_string={"since": cursor})
    tag = empty.headers["ETag"]
    assert empty.headers["Cache-Control"] == "no-cache"
    again = client.get("/v4/experiments/a042/jobs", query_string={"since": cursor}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    factory_db.update_jobs(as42.job_db_path, [as42.jobs[0]], factory_db.modified_after(5))
    changed = client.get("/v4/experiments/a042/jobs", query_string={"since": cursor}, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and len(changed.get_json()["jobs"]) == 1


def test_the_plain_answer_is_unchanged_by_the_feed(client, make_experiment, as42):
    make_experiment("a000")
    for expid in ("a000", "a042"):
        before = client.get(f"/v4/experiments/{expid}/jobs")
        feed(client, expid)
        after = client.get(f"/v4/experiments/{expid}/jobs")
        assert after.data == before.data and after.headers["ETag"] == before.headers["ETag"]
        assert b"cursor" not in after.data and b"submit_time" not in after.data


def test_a_cursor_is_understood_by_another_process_of_the_site(site, as42):
    # Two apps stand for two worker processes: a 4.2 cursor is data on disk, not process state.
    one = create_app(site.settings({"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET})).test_client()
    first = feed(one, "a042")
    factory_db.update_jobs(as42.job_db_path, [as42.jobs[2]], factory_db.modified_after(30))
    from autosubmit_api.readers import cache

    cache.clear()
    two = create_app(site.settings({"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET})).test_client()
    after = feed(two, "a042", first["cursor"])
    assert after["full"] is False and list(by_name(after)) == [as42.jobs[2].name]


def test_cursor_fields_are_opaque_but_decodable(settings, as42):
    cursor = job_feed.changes(settings, "a042", "").cursor
    fields = job_feed.decode(cursor)
    assert fields[0] == "db" and fields[1] == job_feed.scope(settings, "a042") and fields[2] == len(as42.jobs)
    assert json.loads(base64.urlsafe_b64decode(cursor[3:] + "=" * (-len(cursor[3:]) % 4))) == fields


def test_a_new_log_name_alone_is_a_change(client, make_experiment):
    """Autosubmit may record a job's log names in a later save than its status."""
    made = make_experiment("a000")
    first = feed(client, "a000")
    job = made.jobs[1]
    job.out_log = f"{job.name}.20991231235959.out"
    set_statuses(made, {})
    after = feed(client, "a000", first["cursor"])
    assert after["full"] is False and list(by_name(after)) == [job.name]


def test_a_job_list_without_noted_states_gives_the_same_snapshot(settings, make_experiment):
    """The feed hashes the jobs itself when a reader did not note their states."""
    import dataclasses

    from autosubmit_api.services import job_feed
    from autosubmit_api.services.jobs.loading import load_jobs

    make_experiment("a000")
    noted = load_jobs(settings, "a000")
    bare = dataclasses.replace(noted, names=None, states=None)
    first, again = job_feed.Snapshot(noted), job_feed.Snapshot(bare)
    assert first.names == again.names and first.hashes == again.hashes and first.digest == again.digest
