"""The unmodified current GUI gets 304s from its browser's own revalidation
(autosubmit_api/http_cache.py, docs/api-usage.md "Conditional requests and compression").

The GUI sends no If-None-Match itself: Chromium keeps each answer in its HTTP cache (the
harness contexts leave the cache on) and, as `Cache-Control: no-cache` asks, revalidates it
with the ETag on the next use. Playwright reports a revalidated answer with the cached
status (200); the status on the wire comes from the DevTools protocol's
`Network.responseReceivedExtraInfo`, recorded per request. On an experiment that is not running (no job whose times move
with the clock), the second load of the tree page and each 5 s monitor poll of
`/v3/pkltreeinfo` are answered 304 by the server (gunicorn, 2 workers: the tag is derived from
the content, so either worker validates it).
"""

from __future__ import annotations

import re
import time
from typing import Dict, List

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# A finished experiment of the shared fixtures: its tree holds still between loads.
STILL = "a6zj"


class WireStatuses:
    """The HTTP status each request of a page got on the wire, in request order."""

    def __init__(self, page, api: str):
        self.api = api
        self.order: List[str] = []
        self.urls: Dict[str, str] = {}
        self.status: Dict[str, int] = {}
        self.encoding: Dict[str, str] = {}
        session = page.context.new_cdp_session(page)
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.responseReceivedExtraInfo", self._received)
        session.send("Network.enable")

    def _sent(self, event):
        if event["requestId"] not in self.urls:
            self.order.append(event["requestId"])
        self.urls[event["requestId"]] = event["request"]["url"]

    def _received(self, event):
        self.status[event["requestId"]] = event["statusCode"]
        headers = {name.lower(): value for name, value in event.get("headers", {}).items()}
        self.encoding[event["requestId"]] = headers.get("content-encoding", "")

    def _ids(self, pattern: str) -> List[str]:
        return [
            rid
            for rid in self.order
            if rid in self.status
            and self.urls[rid].startswith(self.api)
            and re.search(pattern, self.urls[rid][len(self.api) :])
        ]

    def of(self, pattern: str) -> List[int]:
        return [self.status[rid] for rid in self._ids(pattern)]

    def encodings(self, pattern: str) -> List[str]:
        return [self.encoding[rid] for rid in self._ids(pattern)]

    def wait(self, page, pattern: str, count: int, timeout: float = 30.0) -> List[int]:
        deadline = time.monotonic() + timeout
        while len(self.of(pattern)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern}: {len(self.of(pattern))} answers, not {count}")
            page.wait_for_timeout(200)
        return self.of(pattern)


def test_second_load_of_the_tree_and_monitor_polls_are_304(open_page, e2e_site, api_url):
    e2e_site.need_fixtures()
    # A page that calls no API, so the recorder is attached before the first API request.
    gui = open_page("head", "/favicon.ico")
    wire = WireStatuses(gui.page, api_url)
    gui.page.goto(gui.base + f"/experiment/{STILL}/tree")
    tree = rf"^/v3/tree/{STILL}$"
    assert wire.wait(gui.page, tree, 1) == [200]
    # The tree's body holds the moment it was made, so it is a new version every second,
    # sent as gzip spliced from pieces compressed at different times: the browser decodes it.
    assert wire.encodings(tree) == ["gzip"]
    gui.wait_text("Total #Jobs")
    gui.settle()

    # Second load, in the same browser context (same HTTP cache).
    gui.page.goto(gui.base + f"/experiment/{STILL}/tree")
    statuses = wire.wait(gui.page, tree, 2)
    assert statuses[1] == 304, f"second load of the tree answered {statuses[1]}"
    gui.wait_text("Total #Jobs")

    # Monitoring polls /v3/pkltreeinfo every 5 s: the first fills the cache, the next are 304.
    gui.page.get_by_text("START MONITOR").click()
    polls = wire.wait(gui.page, rf"^/v3/pkltreeinfo/{STILL}/", 3, timeout=40)
    assert polls[0] == 200
    assert all(status == 304 for status in polls[1:]), polls
    gui.assert_clean()
