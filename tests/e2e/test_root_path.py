"""AS_API_ROOT_PATH in a browser: the head GUI built with an API address that ends with the
prefix (as behind a proxy publishing the API under a path) loads its pages from a second
`autosubmit_api start` on the same site, served with AS_API_ROOT_PATH=/as-api."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from tests.conftest import shared_dir
from tests.e2e.conftest import GuiPage, PageRecord, _SPAHandler, api_server, point_build

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PREFIX = "/as-api"


@pytest.fixture(scope="module")
def prefixed(e2e_site, browser, tmp_path_factory):
    """(API base with the prefix, GUI base) of a second server and a head copy pointed at it."""
    site = e2e_site.site
    with api_server(site, tmp_path_factory.mktemp("e2e-prefix-logs"), 1, AS_API_ROOT_PATH=PREFIX) as api:
        gui_dir = tmp_path_factory.mktemp("gui-prefix") / "head"
        assert point_build(shared_dir() / "gui" / "head", gui_dir, api) > 0
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_SPAHandler, directory=str(gui_dir))
        )
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield api, f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def _open(browser, prefixed, path):
    api, gui_base = prefixed
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    record = PageRecord(api=api)
    page.on(
        "response",
        lambda r: record.calls.append((r.request.method, r.url, r.status)) if r.url.startswith(api) else None,
    )
    page.on(
        "requestfailed",
        lambda r: record.failed.append(f"{r.method} {r.url}: {r.failure}") if r.url.startswith(api) else None,
    )
    page.on("console", lambda m: record.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: record.page_errors.append(str(exc)))
    page.goto(gui_base + path)
    return context, GuiPage(page, record, "head", gui_base)


@pytest.mark.parametrize(
    "path,call,shown",
    [
        ("/?only_active=false", r"^/v4/experiments\?", "e2e factory experiment"),
        ("/experiment/e2e0/quick", r"^/v3/quick/e2e0$", "e2e0_20000101_fc0_1_SIM"),
        ("/experiment/e2e0/tree", r"^/v3/tree/e2e0$", "e2e factory experiment"),
    ],
)
def test_head_pages_under_the_prefix(browser, prefixed, path, call, shown):
    context, gui = _open(browser, prefixed, path)
    try:
        gui.wait_call(call)
        gui.wait_text(shown)
        gui.assert_clean()
        assert gui.record.calls and all(u.startswith(prefixed[0] + "/") for _, u, _ in gui.record.calls)
    finally:
        context.close()
