"""`/docs` in Chromium: the Swagger UI page of a real `autosubmit_api start` (gated, PROTECTION_LEVEL
ALL), with and without AS_API_ROOT_PATH. The page loads, every request it makes stays on the
loopback server (no CDN, no validator), and one request runs from it: Authorize with a token,
"Try it out" on GET /v4/experiments, Execute, and the answer is shown.

Needs only Chromium and Playwright (not the GUI builds): skips without them."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from autosubmit_api.auth import issue_token
from tests.factory import make_experiment, make_site
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path
from tests.test_cli import Server, clean_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium():
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs-site")
    site = make_site(root / "site")
    make_experiment(site, "d0c5", details={"user": "docsuser"}, description="seen from the docs page")
    return site


@pytest.fixture(scope="module", params=["", "/as-api"], ids=["no-prefix", "prefix"])
def server(request, site, tmp_path_factory):
    home = tmp_path_factory.mktemp("docs-home")
    env = clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path),
        HOME=str(home),
        PROTECTION_LEVEL="ALL",
        SECRET_KEY=TEST_SECRET,
        AS_API_ROOT_PATH=request.param,
    )
    srv = Server(env, "--disable-bg-tasks", "-w", "1", cwd=home)
    try:
        srv.wait()
        yield srv, request.param
    finally:
        srv.stop()


def test_the_reference_runs_a_request_and_stays_on_loopback(chromium, server):
    srv, prefix = server
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    requests, failed, errors = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(srv.base + prefix + "/docs")
        page.locator(".opblock-summary-path", has_text="/v4/experiments").first.wait_for()
        assert "Autosubmit API" in page.locator(".info .title").inner_text()

        page.get_by_role("button", name="Authorize").first.click()
        page.locator(".auth-container input").fill(issue_token("docsuser", TEST_SECRET, 3600))
        page.locator(".auth-btn-wrapper button.authorize").click()
        page.locator(".auth-btn-wrapper button.btn-done").click()

        operation = page.locator("#operations-experiments-get_v4_experiments")
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.get_by_role("button", name="Execute").click()
        status = operation.locator(".live-responses-table .response .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip() == "200"
        body = operation.locator(".live-responses-table tbody .response-col_description").first.inner_text()
        assert "d0c5" in body and "seen from the docs page" in body
    finally:
        context.close()

    assert not errors, errors
    assert not failed, failed
    hosts = {urlsplit(url).hostname for url in requests if not url.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, requests
    paths = [urlsplit(url).path for url in requests if url.startswith("http")]
    assert all(path.startswith(prefix + "/") for path in paths), paths
    assert prefix + "/openapi.json" in paths and prefix + "/v4/experiments" in paths
    assert prefix + "/docs/swagger-ui-bundle.js" in paths
