"""End-to-end harness: our real server (`autosubmit_api start`), the real GUI builds served on
loopback and pointed at it, and headless Chromium (Debian's package) driven by Playwright.

One server, one CAS and one OpenID Connect stand-in, four GUI file servers (the two builds,
and copies of them with their login provider set: head with `oidc`, v4.0.1 with `cas`) and
one browser per session. The site holds
a copy of the shared fixture experiments (when ../shared is present) plus experiments written
by the project's factory: `e2e0` (two dates, two members, a vertical wrapper of the SIM chunks,
history, a run log and job logs) and `e2eb` (10,000 jobs). Screenshots of every page go to
`test-output/e2e/` (or $E2E_OUTPUT_DIR).

Everything skips, with the reason, when Chromium, Playwright or ../shared/gui is missing.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.factory import Site, make_experiment, make_site, workflow
from tests.auth.standins import CASStandIn, OIDCStandIn
from tests.conftest import free_port, shared_dir
from tests.fixture_site import copy_fixture_tree, fixtures_available

PLACEHOLDER = "http://gui-check-api-placeholder.invalid:1"
GUI_BUILDS = ("v4.0.1", "head")
# Copies of a build with its login provider (a build-time setting, REACT_APP_AUTH_PROVIDER)
# set, as a rebuild would: the head build with `oidc` instead of its default `cas`, and v4.0.1
# (built without any, so its Login page cannot render) with `cas`. Served beside the others
# for the login tests: name -> (build copied, provider).
OIDC_BUILD = "head-oidc"
V401_CAS_BUILD = "v4.0.1-cas"
PROVIDER_BUILDS = {OIDC_BUILD: ("head", "oidc"), V401_CAS_BUILD: ("v4.0.1", "cas")}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEST_SECRET = "e2e-secret-key-for-tests-only-0123456789"
# The server's AS_API_SECRET_TOKEN (the GUI's `secret-token` login) and the user it stands for.
SITE_TOKEN, SITE_TOKEN_USER = "e2e-static-site-token-0123456789abcdef", "e2e-token-user"
REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("E2E_OUTPUT_DIR", REPO / "test-output" / "e2e"))
FIXTURE_EXPIDS = ("a003", "a6zj", "a3tb", "a1ve")
# Texts a person reads as "this page failed" (GUI error banners and states, both builds).
ERROR_TEXTS = (
    "Unknown error",
    "Error while fetching",
    "Error fetching",
    "You may be unauthorized",
    "must refresh the page",
    "Something went wrong",
)


def chromium_path() -> Optional[str]:
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing_prerequisite() -> Optional[str]:
    """Why the e2e tests cannot run here, or None."""
    if not (shared_dir() / "gui").is_dir():
        return f"{shared_dir() / 'gui'} is absent: no GUI build to test against"
    if chromium_path() is None:
        return "Chromium is not installed (Debian package `chromium`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status < 500:
                    return
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer: {last}")


@contextlib.contextmanager
def api_server(site: Site, log_dir: Path, workers: int, **env: str):
    """`autosubmit_api start` on a free loopback port over `site` (no protection, TEST_SECRET,
    TZ=UTC, background tasks off, `env` added), its output in `log_dir`/server.log. Yields its
    base URL (with AS_API_ROOT_PATH when `env` sets one) once it answers; stops it on leaving."""
    port = free_port()
    full = dict(os.environ)
    full.update(site.env(PROTECTION_LEVEL="NONE", SECRET_KEY=TEST_SECRET, TZ="UTC", **env))
    log_path = log_dir / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autosubmit_api.cli",
            "start",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--disable-bg-tasks",
        ],
        env=full,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(site.root),
    )
    url = f"http://127.0.0.1:{port}" + env.get("AS_API_ROOT_PATH", "")
    try:
        try:
            wait_http(url + "/v4/experiments?page_size=1")
        except RuntimeError:
            raise RuntimeError("server did not start:\n" + log_path.read_text()[-3000:]) from None
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def e2e_prerequisites():
    reason = missing_prerequisite()
    if reason:
        pytest.skip(reason)


# --- the site ----------------------------------------------------------------------------


def _write_logs(site: Site, expid: str, jobs) -> None:
    """A run log and two platforms' recovery logs in ASLOGS, and out/err logs of the jobs."""
    tmp = site.exp_dir(expid) / "tmp"
    (tmp / "ASLOGS" / "20240101_000000_run.log").write_text(
        "".join(f"[INFO] e2e run log line {i} of {expid}\n" for i in range(1, 41))
    )
    for platform in ("MARENOSTRUM4", "LOCAL"):
        (tmp / "ASLOGS" / f"20240101_000500_{platform}_log_recovery.log").write_text(
            "".join(f"[INFO] {platform} recovery line {i}\n" for i in range(1, 11))
        )
    for job in jobs:
        for name, kind in ((job.out_log, "out"), (job.err_log, "err")):
            if name:
                (tmp / f"LOG_{expid}" / name).write_text("".join(f"{job.name} {kind} line {i}\n" for i in range(1, 21)))


@dataclass
class E2ESite:
    site: Site
    fixtures: bool
    expids: List[str] = field(default_factory=list)
    wrapper: Dict[str, List[str]] = field(default_factory=dict)  # e2e0's package -> jobs

    def need_fixtures(self) -> None:
        if not self.fixtures:
            pytest.skip("the shared fixture experiments are absent")


@pytest.fixture(scope="session")
def e2e_site(e2e_prerequisites, tmp_path_factory) -> E2ESite:
    root = tmp_path_factory.mktemp("e2e-site")
    fixtures = fixtures_available()
    if fixtures:
        copy_fixture_tree(root)
    site = make_site(root)
    jobs = workflow.standard_jobs("e2e0", dates=("20000101", "20000201"), members=("fc0", "fc1"), chunks=3)
    sims = [job.name for job in jobs if job.section == "SIM" and job.date.month == 1 and job.member == "fc0"]
    for job in jobs:
        if job.name in sims:
            job.wrapper_type = "vertical"
    wrapper = {"e2e0_ASThread_17128472368642_3_3": sims}
    make_experiment(
        site,
        "e2e0",
        jobs,
        description="e2e factory experiment",
        details={"user": "e2euser", "hpc": "LOCAL", "created": "2024-05-02 09:30:00"},
        config={"WRAPPERS": {"WRAPPER_V": {"TYPE": "vertical", "JOBS_IN_WRAPPER": "SIM"}}},
        packages=wrapper,
    )
    _write_logs(site, "e2e0", jobs)
    make_experiment(
        site,
        "e2eb",
        workflow.big_workflow("e2eb", 10_000),
        description="e2e big experiment",
        details={"user": "e2euser", "hpc": "MN5", "created": "2024-05-03 10:00:00"},
    )
    expids = (list(FIXTURE_EXPIDS) if fixtures else []) + ["e2e0", "e2eb"]
    return E2ESite(site=site, fixtures=fixtures, expids=expids, wrapper=wrapper)


# --- servers -------------------------------------------------------------------------------


class _SPAHandler(http.server.SimpleHTTPRequestHandler):
    """Files as they are; a path that is not a file and has no extension gets index.html."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if not os.path.exists(path) and "." not in os.path.basename(self.path.split("?")[0]):
            self.path = "/index.html"
        return super().send_head()


def point_build(src: Path, dest: Path, api: str) -> int:
    """Copy a GUI build to `dest` with the placeholder API address replaced; returns the count."""
    shutil.copytree(src, dest)
    count = 0
    for path in dest.rglob("*"):
        if path.is_file() and path.suffix in (".js", ".html", ".css", ".json", ".map"):
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            if PLACEHOLDER in text:
                count += text.count(PLACEHOLDER)
                path.write_text(text.replace(PLACEHOLDER, api), encoding="utf-8", errors="surrogateescape")
    return count


# Where each bundle keeps the provider. Head (Vite) inlines it as a constant:
# `<name>="cas",<name>=void 0,` (the provider, then the CAS third-party login URL). v4.0.1 (Create
# React App) reads it from the inlined environment object, which has no such key:
# `{...,REACT_APP_AUTOSUBMIT_API_SOURCE:"<api>"}.REACT_APP_AUTH_PROVIDER`.
_PROVIDER_CONSTANT = re.compile(r'(?<=[,;\s])([\w$]+)="cas"(?=,[\w$]+=void 0,)')
_PROVIDER_FROM_ENV = re.compile(r'(REACT_APP_AUTOSUBMIT_API_SOURCE:"[^"]*")\}\.REACT_APP_AUTH_PROVIDER\b')


def set_login_provider(dest: Path, provider: str) -> None:
    """Set the login provider of a GUI build copy, as a rebuild with
    REACT_APP_AUTH_PROVIDER=<provider> would; fails unless the bundle has it exactly once."""
    found = 0
    for path in dest.rglob("*.js"):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        text, constants = _PROVIDER_CONSTANT.subn(lambda m: f'{m.group(1)}="{provider}"', text)
        text, from_env = _PROVIDER_FROM_ENV.subn(
            lambda m: f'{m.group(1)},REACT_APP_AUTH_PROVIDER:"{provider}"}}.REACT_APP_AUTH_PROVIDER', text
        )
        if constants or from_env:
            found += constants + from_env
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
    assert found == 1, f"the build's login provider setting was found {found} times"


@pytest.fixture(scope="session")
def gui_servers(e2e_prerequisites, tmp_path_factory):
    """Bound before the API starts, so their origins can be the API's allowed CAS clients."""
    root = tmp_path_factory.mktemp("gui")
    servers = {}
    for build in GUI_BUILDS + tuple(PROVIDER_BUILDS):
        handler = functools.partial(_SPAHandler, directory=str(root / build))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        servers[build] = (server, root / build, f"http://127.0.0.1:{server.server_address[1]}")
    yield servers
    for server, _, _ in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def cas_server(e2e_prerequisites):
    server = CASStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oidc_server(e2e_prerequisites):
    server = OIDCStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api_url(e2e_site, gui_servers, cas_server, oidc_server, tmp_path_factory):
    site = e2e_site.site
    with open(site.rc_path, "a", encoding="utf-8") as rc:
        rc.write("[clients]\nauthorized = " + " ".join(u for _, _, u in gui_servers.values()) + "\n")
    with api_server(
        site,
        tmp_path_factory.mktemp("e2e-logs"),
        2,
        CAS_SERVER_URL=cas_server.base,
        OIDC_CLIENT_ID=oidc_server.state.client_id,
        OIDC_CLIENT_SECRET=oidc_server.state.client_secret,
        OIDC_TOKEN_URL=oidc_server.url + "/token",
        OIDC_USERINFO_URL=oidc_server.url + "/userinfo",
        AS_API_SECRET_TOKEN=SITE_TOKEN,
        AS_API_SECRET_TOKEN_USER=SITE_TOKEN_USER,
    ) as url:
        yield url


@pytest.fixture(scope="session")
def gui_urls(api_url, gui_servers):
    urls = {}
    for build, (server, dest, url) in gui_servers.items():
        source, provider = PROVIDER_BUILDS.get(build, (build, None))
        replaced = point_build(shared_dir() / "gui" / source, dest, api_url)
        assert replaced > 0, f"no placeholder address found in the {build} build"
        if provider:
            set_login_provider(dest, provider)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        urls[build] = url
    return urls


@pytest.fixture(scope="session")
def browser(e2e_prerequisites):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # Never a downloaded browser: the system Chromium. Playwright gives every launch a
        # fresh, empty profile directory of its own.
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# --- pages -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def api_get(api_url):
    """GET a path (or a full URL the GUI called) of our API with urllib; the decoded JSON."""

    def get(path_or_url: str):
        url = path_or_url if path_or_url.startswith("http") else api_url + path_or_url
        with urllib.request.urlopen(url, timeout=60) as resp:
            return json.loads(resp.read().decode("utf-8"))

    return get


@dataclass
class PageRecord:
    """What a page did: its API calls and any failure a person would notice."""

    api: str
    calls: List[tuple] = field(default_factory=list)  # (method, url, status)
    failed: List[str] = field(default_factory=list)
    console_errors: List[str] = field(default_factory=list)
    page_errors: List[str] = field(default_factory=list)

    def api_calls(self, fragment: str = "") -> List[tuple]:
        return [c for c in self.calls if fragment in c[1]]

    def urls(self, pattern: str) -> List[str]:
        return [u for _, u, _ in self.calls if re.search(pattern, u[len(self.api) :])]

    def problems(self, allow: tuple = ()) -> List[str]:
        """Failed or refused API requests, CORS and console errors, JavaScript exceptions.

        `allow` holds substrings of URLs (and their console lines) a test expects to fail.
        """

        def allowed(text):
            return any(a in text for a in allow)

        out = [f"request failed: {f}" for f in self.failed if not allowed(f)]
        out += [f"HTTP {s}: {m} {u}" for m, u, s in self.calls if s >= 400 and not allowed(u)]
        # Chromium logs "Failed to load resource" (without the URL) for each HTTP error; those
        # repeat the API errors above. Any more of them are failures of other resources.
        loads = [c for c in self.console_errors if c.startswith("Failed to load resource: the server")]
        api_errors = sum(1 for _, _, s in self.calls if s >= 400)
        if len(loads) > api_errors:
            out += [f"console: {c}" for c in loads]
        out += [f"console: {c}" for c in self.console_errors if c not in loads]
        out += [f"exception: {e}" for e in self.page_errors]
        return out


class GuiPage:
    """A GUI page in its own browser context, with the checks every page test makes."""

    def __init__(self, page, record: PageRecord, build: str, base: str):
        self.page = page
        self.record = record
        self.build = build
        self.base = base

    def text(self) -> str:
        return self.page.inner_text("body")

    def wait_text(self, text: str, timeout: float = 60_000):
        self.page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=timeout)

    def wait_call(self, pattern: str, timeout: float = 60.0) -> str:
        """The first answered API call whose path matches `pattern` (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.record.urls(pattern)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never called {pattern}; calls: {self.record.calls}")
            self.page.wait_for_timeout(100)

    def settle(self):
        self.page.wait_for_load_state("networkidle")

    def assert_clean(self, api_get=None, allow: tuple = ()):
        """No failed request, no CORS or JavaScript error, no error banner, no error:true body."""
        self.settle()
        problems = self.record.problems(allow)
        assert not problems, f"{self.build} {self.page.url}: " + "; ".join(problems)
        assert "/404" not in self.page.url, f"the page crashed to {self.page.url}"
        text = self.text()
        shown = [t for t in ERROR_TEXTS if t in text]
        assert not shown, f"{self.build} {self.page.url} shows an error: {shown}"
        banners = self.page.locator(".alert-danger:visible")
        assert banners.count() == 0, f"error banner: {banners.first.inner_text()}"
        if api_get is not None:
            for method, url, status in self.record.calls:
                if method == "GET" and not any(a in url for a in allow) and "/shutdown/" not in url:
                    body = api_get(url)
                    if isinstance(body, dict):
                        assert body.get("error") is not True, f"{url}: {body.get('error_message')}"


@pytest.fixture
def open_page(browser, gui_urls, api_url, request):
    """open_page(build, path, token=None) -> GuiPage; each page is screenshotted at the end."""
    opened = []

    def _open(build: str, path: str, *, token: Optional[str] = None) -> GuiPage:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        if token:
            context.add_init_script(f"window.localStorage.setItem('token', {json.dumps(token)});")
        page = context.new_page()
        page.set_default_timeout(60_000)
        record = PageRecord(api=api_url)

        def on_response(response):
            if response.url.startswith(api_url):
                record.calls.append((response.request.method, response.url, response.status))

        def on_failed(req):
            if req.url.startswith(api_url):
                record.failed.append(f"{req.method} {req.url}: {req.failure}")

        def on_console(msg):
            if msg.type == "error":
                record.console_errors.append(msg.text)

        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: record.page_errors.append(str(exc)))
        page.goto(gui_urls[build] + path)
        gui = GuiPage(page, record, build, gui_urls[build])
        opened.append((context, gui))
        return gui

    yield _open
    OUTPUT.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    for index, (context, gui) in enumerate(opened):
        suffix = f"-{index}" if len(opened) > 1 else ""
        try:
            gui.page.screenshot(path=str(OUTPUT / f"{name}{suffix}.png"), full_page=False)
        except Exception:  # noqa: BLE001 - a closed page has nothing to show; the test said why
            pass
        finally:
            context.close()
