"""Conditional GET and compression on every read route (autosubmit_api/http_cache.py,
docs/api-usage.md "Conditional requests and compression").

Walks `app.url_map` like tests/test_gate.py, so a route added later is covered: every GET
route that answers a 200 (not a v3 error body) on a factory experiment carries an ETag and
`Cache-Control: no-cache`, and a repeat with If-None-Match answers 304 with no body. The
experiment has no running or queuing job, so its job views hold still (the tree's
generation stamp aside, which the weak tag leaves out).
"""

from __future__ import annotations

import gzip
import json
import re

import brotli
import pytest

from autosubmit_api.app import create_app
from tests.factory import set_statuses, workflow
from autosubmit_api.http_cache import MIN_COMPRESS_BYTES
from tests.conftest import TEST_SECRET

EXPID = "a000"
# Routes that must be among the checked ones (the GUI's polls and the big views).
REQUIRED = {
    "/v3/tree/<expid>",
    "/v3/pkltreeinfo/<expid>/<timeStamp>",
    "/v3/pklinfo/<expid>/<timeStamp>",
    "/v3/quick/<expid>",
    "/v3/graph/<expid>/<layout>/<grouped>",
    "/v3/summary/<expid>",
    "/v3/expinfo/<expid>",
    "/v4/experiments/<expid>/jobs",
    "/v4/experiments/<expid>",
    "/v4/experiments",
    "/v3/performance/<expid>",
    "/openapi.json",
}
# The live report: `Cache-Control: no-store`, no tag, never encoded (its counters move per request).
LIVE = {"/metrics", "/v4/health"}
# Bodies with values that move with the clock even when no job runs (the tree's generation
# stamp): a new version each second, offered as spliced gzip before brotli.
MOVING = {"/v3/tree/<expid>", "/tree/<expid>"}
# Not read routes: they act (shutdown) or log in.
# The event stream never ends and is never cached (Cache-Control: no-store; tests/test_events.py).
SKIP = re.compile(r"/(shutdown|login)\b|/auth/|/events$")


def _still_jobs():
    """The standard workflow with its running and queuing jobs put back to WAITING."""
    jobs = workflow.standard_jobs(EXPID, members=("fc0", "fc1"), chunks=3)
    for job in jobs:
        if job.status in (workflow.RUNNING, workflow.QUEUING):
            job.status = workflow.WAITING
    return jobs


@pytest.fixture
def still(make_experiment):
    return make_experiment(EXPID, _still_jobs())


@pytest.fixture
def app(settings, still):
    return create_app(settings)


def _value(name: str, experiment) -> str:
    names = [job.name for job in experiment.jobs]
    logs = [job.out_log for job in experiment.jobs if job.out_log]
    return {
        "expid": EXPID,
        "layout": "standard",
        "grouped": "none",
        "timeStamp": "0",
        "filter_period": "0",
        "filter_type": "Any",
        "jobname": names[0],
        "job_name": names[0],
        "logfile": logs[0] if logs else "x.out",
        "runid": "1",
        "run_id": "1",
        "owner": "tester",
        "exptype": "all",
        "onlyactive": "active",
        "filename": "x",
    }.get(name, EXPID)


def _read_urls(app, experiment):
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or SKIP.search(rule.rule):
            continue
        values = {name: _value(name, experiment) for name in rule.arguments}
        yield rule.rule, adapter.build(rule.endpoint, values)


def _is_answer(response) -> bool:
    if response.status_code != 200:
        return False
    body = response.get_data()
    return not (body[:1] == b"{" and b'"error":true' in body[:65536])


def _repeat_gives_304(client, url, headers=None, tries=5):
    """A GET then the same GET with its ETag. A body with a clock value in it (a `To` date,
    an elapsed time) may move between the two at a second boundary: retried, and a route
    whose body changes on every request fails."""
    for _ in range(tries):
        first = client.get(url, headers=headers or {})
        again = client.get(url, headers={**(headers or {}), "If-None-Match": first.headers["ETag"]})
        if again.status_code == 304:
            return first, again
    return first, again


def test_every_read_route_answers_an_etag_and_304(app, still):
    client = app.test_client()
    checked, live, problems = set(), set(), []
    for rule, url in _read_urls(app, still):
        response = client.get(url)
        if not _is_answer(response):
            assert "ETag" not in response.headers, f"{url}: an error answer carries an ETag"
            continue
        if response.headers.get("Cache-Control") == "no-store":
            assert "ETag" not in response.headers, f"{url}: a no-store answer carries an ETag"
            live.add(rule)
            continue
        checked.add(rule)
        if not response.headers.get("ETag"):
            problems.append(f"{url}: no ETag")
            continue
        if response.headers.get("Cache-Control") != "no-cache":
            problems.append(f"{url}: Cache-Control {response.headers.get('Cache-Control')!r}")
        first, again = _repeat_gives_304(client, url)
        if again.status_code != 304 or again.get_data() != b"":
            problems.append(f"{url}: repeat with If-None-Match answered {again.status_code}")
        elif again.headers.get("ETag") != first.headers["ETag"]:
            problems.append(f"{url}: the 304 names another ETag")
    assert not problems, "\n".join(problems)
    assert REQUIRED <= checked, f"not answered 200: {sorted(REQUIRED - checked)}"
    assert live == LIVE


def test_every_read_route_compresses_to_the_same_bytes(app, still):
    client = app.test_client()
    compressed = 0
    for rule, url in _read_urls(app, still):
        for _ in range(5):  # a clock value may move between the two requests: retried
            plain = client.get(url)
            if not _is_answer(plain):
                break
            raw = plain.get_data()
            assert "Content-Encoding" not in plain.headers, url
            if rule in LIVE:
                brot = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
                assert "Content-Encoding" not in brot.headers and "Vary" not in brot.headers, url
                break
            zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
            brot = client.get(url, headers={"Accept-Encoding": "br"})
            browser = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
            if len(raw) < MIN_COMPRESS_BYTES:
                for answer in (zipped, brot, browser):
                    assert "Content-Encoding" not in answer.headers, f"{url}: a small body was encoded"
                    assert answer.get_data() == raw
                break
            assert zipped.headers["Content-Encoding"] == "gzip", url
            assert brot.headers["Content-Encoding"] == "br", url
            # Offered both, a body whose times move each second is spliced gzip, others brotli.
            assert browser.headers["Content-Encoding"] == ("gzip" if rule in MOVING else "br"), url
            assert "Accept-Encoding" in plain.headers.get("Vary", ""), url
            decode = gzip.decompress if rule in MOVING else brotli.decompress
            if (
                gzip.decompress(zipped.get_data()) == raw
                and brotli.decompress(brot.get_data()) == raw
                and decode(browser.get_data()) == raw
            ):
                compressed += 1
                break
        else:
            pytest.fail(f"{url}: an encoded body does not decode to the plain one")
    assert compressed >= 8


def test_a_rewritten_pickle_changes_the_tags(client, still):
    urls = [
        "/v3/tree/a000",
        "/v3/pkltreeinfo/a000/0",
        "/v3/quick/a000",
        "/v4/experiments/a000/jobs",
        "/v3/graph/a000/standard/none",
        "/v3/expcount/a000",
    ]
    before = {url: client.get(url).headers["ETag"] for url in urls}
    for url, tag in before.items():
        assert client.get(url, headers={"If-None-Match": tag}).status_code == 304, url
    waiting = next(job.name for job in still.jobs if job.status == workflow.WAITING)
    set_statuses(still, {waiting: workflow.COMPLETED})
    for url, tag in before.items():
        answer = client.get(url, headers={"If-None-Match": tag})
        assert answer.status_code == 200, url
        assert answer.headers["ETag"] != tag, url


def test_the_tree_tag_is_weak_and_ignores_the_generation_stamp(client, still):
    first = client.get("/v3/tree/a000")
    assert first.headers["ETag"].startswith('W/"')
    stamp = first.get_json()["pkl_timestamp"]
    assert isinstance(stamp, int) and stamp > 0


def test_if_none_match_lists_weak_comparison_and_star(client, still):
    url = "/v3/quick/a000"
    tag = client.get(url).headers["ETag"]
    assert tag.startswith('"')
    opaque = tag.strip('"')
    for value in (f'"nope", {tag}', f'W/"{opaque}"', f'"x",W/"y" ,  {tag}', "*"):
        assert client.get(url, headers={"If-None-Match": value}).status_code == 304, value
    for value in ('"nope"', f'"{opaque}-gz"', "garbage", f"{opaque}", '"unterminated'):
        answer = client.get(url, headers={"If-None-Match": value})
        assert answer.status_code == 200 and answer.headers["ETag"] == tag, value


def test_each_encoding_has_its_own_tag_and_304(client, still):
    url = "/v4/experiments/a000/jobs"
    plain = client.get(url).headers["ETag"]
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    brot = client.get(url, headers={"Accept-Encoding": "br"})
    assert len({plain, zipped.headers["ETag"], brot.headers["ETag"]}) == 3
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    # The plain tag does not validate the gzip representation.
    assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": plain}).status_code == 200


@pytest.mark.parametrize(
    "accept, coding",
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, br", "br"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("identity", None),
        ("*", "br"),
        ("deflate", None),
        ("GZIP", "gzip"),
        ("", None),
    ],
)
def test_accept_encoding_q_values(client, still, accept, coding):
    answer = client.get("/v3/quick/a000", headers={"Accept-Encoding": accept})
    assert answer.headers.get("Content-Encoding") == coding
    assert answer.headers["Content-Length"] == str(len(answer.get_data()))


def test_head_answers_headers_of_the_encoded_body(client, still):
    url = "/v3/tree/a000"
    got = client.get(url, headers={"Accept-Encoding": "gzip"})
    head = client.head(url, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Encoding"] == "gzip"
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert head.headers["ETag"] == got.headers["ETag"]
    assert (
        client.head(url, headers={"If-None-Match": got.headers["ETag"], "Accept-Encoding": "gzip"}).status_code == 304
    )


def test_small_bodies_stay_plain_and_errors_get_no_tag(client, still):
    small = client.get("/v3/expinfo/a000", headers={"Accept-Encoding": "gzip, br"})
    assert len(small.get_data()) < MIN_COMPRESS_BYTES
    assert "Content-Encoding" not in small.headers and small.headers.get("ETag")
    for url in ("/v3/expinfo/zzzz", "/v3/tree/zzzz", "/v4/experiments/zzzz/jobs", "/v3/pklinfo/a000/abc"):
        answer = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert "ETag" not in answer.headers, url
        assert client.get(url, headers={"If-None-Match": "*"}).status_code == answer.status_code, url


def test_a_304_keeps_the_cors_headers(client, still):
    origin = {"Origin": "http://gui.example"}
    first = client.get("/v3/tree/a000", headers=origin)
    assert "ETag" in first.headers.get("Access-Control-Expose-Headers", "")
    again = client.get("/v3/tree/a000", headers={**origin, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers.get("Access-Control-Allow-Origin") in ("*", "http://gui.example")
    assert again.headers.get("ETag") == first.headers["ETag"]


def test_post_answers_carry_no_tag(site, env, still, token):
    env.update({"PROTECTION_LEVEL": "ALL", "SECRET_KEY": TEST_SECRET})
    client = create_app(site.settings(env)).test_client()
    answer = client.post(
        "/v3/updatedesc", json={"expid": EXPID, "description": "x"}, headers={"Authorization": token()}
    )
    assert "ETag" not in answer.headers


def test_bodies_that_move_each_second_get_the_fastest_brotli(make_experiment, settings):
    """A view with a running job is a new version every second: brotli at
    BROTLI_QUALITY_MOVING; a still one at BROTLI_QUALITY (http_cache.py)."""
    from autosubmit_api import http_cache

    make_experiment("a001")  # the standard workflow: one job running, one queuing
    make_experiment(EXPID, _still_jobs())
    client = create_app(settings).test_client()
    for expid, quality in (("a001", http_cache.BROTLI_QUALITY_MOVING), (EXPID, http_cache.BROTLI_QUALITY)):
        url = f"/v3/pkltreeinfo/{expid}/0"
        for _ in range(5):  # the plain and the encoded body of the same second
            raw = client.get(url).get_data()
            encoded = client.get(url, headers={"Accept-Encoding": "br"}).get_data()
            if brotli.decompress(encoded) == raw:
                break
        assert encoded == brotli.compress(raw, quality=quality), expid
    assert http_cache.BROTLI_QUALITY_MOVING != http_cache.BROTLI_QUALITY


def test_the_request_log_records_the_304_and_the_bytes_sent(site, still, caplog):
    """The hook runs before the request log (autosubmit_api/app.py): a JSON request line
    names the status and the size the client got."""
    import logging

    app = create_app(site.settings({"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET, "API_LOG_FORMAT": "json"}))
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="autosubmit_api.requests"):
        zipped = client.get("/v3/quick/a000", headers={"Accept-Encoding": "gzip"})
        again = client.get(
            "/v3/quick/a000", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
        )
    assert again.status_code == 304
    lines = [r.request for r in caplog.records if r.name == "autosubmit_api.requests"]
    assert [line["status"] for line in lines] == [200, 304]
    assert lines[0]["bytes"] == len(zipped.get_data())
    assert lines[1]["bytes"] in (0, None)


def test_a_moving_body_is_gzip_unless_the_client_prefers_brotli(client, still):
    url = "/v3/tree/a000"
    for accept, coding in [
        ("gzip, deflate, br", "gzip"),
        ("*", "gzip"),
        ("br;q=1.0, gzip;q=0.5", "br"),
        ("br", "br"),
        ("gzip;q=0, br", "br"),
    ]:
        answer = client.get(url, headers={"Accept-Encoding": accept})
        assert answer.headers["Content-Encoding"] == coding, accept
        decode = gzip.decompress if coding == "gzip" else brotli.decompress
        assert json.loads(decode(answer.get_data()))["total"] == len(still.jobs), accept
