"""The current GUI's runner and settings features against our API (docs/runners.md), in a real
browser: the Settings page loads without an error and saves a preferred user name; the
edit-description form saves for the experiment's owner and is refused for another user; the
run/stop, change-status and create-experiment controls are hidden; pages under the site's
static AS_API_SECRET_TOKEN.

The site's e2e0 belongs to `e2euser`; the server runs with PROTECTION_LEVEL=NONE, so only the
writes need a token (a JWT of ours, or the server's AS_API_SECRET_TOKEN).
"""

from __future__ import annotations

import json
import sqlite3
import urllib.request

import pytest

from autosubmit_api.auth import issue_token
from tests.e2e.conftest import SITE_TOKEN, SITE_TOKEN_USER, TEST_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OWNER = "e2euser"
UPDATE = "/v4/runners/command/update-experiment-description"
PREFERRED = "/v4/user-settings/preferred-username"


def _token(user):
    return issue_token(user, TEST_SECRET, 3600)


def _api(api_url, path, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        api_url + path,
        data=data,
        method="POST" if data else "GET",
        headers={"Authorization": token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def e2e0_description(e2e_site):
    """Reads e2e0's stored description; puts the original back after the test (other tests
    look for it)."""
    db = e2e_site.site.central_db

    def read():
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT description FROM experiment WHERE name = 'e2e0'").fetchone()[0]

    original = read()
    yield read
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE experiment SET description = ? WHERE name = 'e2e0'", (original,))


def _assert_clean_with_token(gui, api_get):
    """assert_clean, re-reading every GET answer but the user's own setting (which needs the
    page's token; its status in the page is checked here instead)."""
    gui.assert_clean(api_get, allow=(PREFERRED,))
    assert all(s == 200 for m, u, s in gui.record.calls if u.endswith(PREFERRED))


def _edit_description(gui, text):
    gui.wait_call(r"^/v3/expinfo/e2e0$")
    gui.page.locator('button[title="Update description"]').click()
    gui.page.locator("#new-description").fill(text)
    # The form offers the runner profiles; ours is the one that runs nothing.
    profile = gui.page.locator("select", has=gui.page.locator('option[value="description-only"]'))
    profile.select_option("description-only")
    button = gui.page.get_by_role("button", name="UPDATE DESCRIPTION")
    assert button.is_enabled()
    button.click()


def test_head_edit_description_saves_for_the_owner(open_page, api_url, api_get, e2e0_description):
    gui = open_page("head", "/experiment/e2e0/quick", token=_token(OWNER))
    _edit_description(gui, "edited in the browser by its owner")
    gui.page.locator("#new-description").wait_for(state="detached")  # the form closed: saved
    gui.wait_text("edited in the browser by its owner")  # the header read expinfo again
    posts = [(m, s) for m, u, s in gui.record.calls if u == api_url + UPDATE]
    assert posts == [("POST", 200)]
    assert e2e0_description() == "edited in the browser by its owner"
    assert api_get("/v3/expinfo/e2e0")["description"] == "edited in the browser by its owner"
    _assert_clean_with_token(gui, api_get)


def test_head_edit_description_is_refused_for_another_user(open_page, api_url, e2e0_description):
    before = e2e0_description()
    gui = open_page("head", "/experiment/e2e0/quick", token=_token("mallory"))
    _edit_description(gui, "defaced")
    gui.wait_text("Error updating the description")
    posts = [(m, s) for m, u, s in gui.record.calls if u == api_url + UPDATE]
    assert posts == [("POST", 403)]
    assert e2e0_description() == before
    assert gui.page.locator("#new-description").is_visible()  # the form stays open
    # The refusal is the only failed call, and no banner or exception came with it.
    gui.assert_clean(allow=(UPDATE,))


def test_head_runner_controls_are_hidden(open_page, api_url, api_get):
    gui = open_page("head", "/experiment/e2e0/quick", token=_token(OWNER))
    gui.wait_call(r"^/v4/runners/configuration/endpoints$")
    gui.wait_call(r"^/v3/expinfo/e2e0$")
    gui.page.locator('button[title="Update description"]').wait_for()
    # Run/stop (ExperimentRunStopCommand): the play and stop buttons of the header.
    assert gui.page.locator("button:has(i.fa-play), button:has(i.fa-stop)").count() == 0
    # Change status: select a job; the modal shows the command, without the runner form.
    job = "e2e0_20000101_fc0_1_SIM"
    gui.wait_text(job)
    gui.page.locator("li div.cursor-pointer", has_text=job).first.click()
    gui.page.get_by_role("button", name="Change status").click()
    gui.wait_text("Change Status to:")
    assert gui.page.get_by_text("Runner profile:").count() == 0
    assert gui.page.get_by_role("button", name="RUN COMMAND").count() == 0
    # No runner command was ever sent (the run-status poll starts only with the run buttons).
    assert not [u for _, u, _ in gui.record.calls if "/v4/runners/command/" in u]
    _assert_clean_with_token(gui, api_get)
    create = open_page("head", "/create-new-experiment", token=_token(OWNER))
    create.wait_call(r"^/v4/runners/configuration/endpoints$")
    create.settle()
    assert create.page.get_by_role("button", name="CREATE NEW EXPERIMENT").count() == 0
    assert create.page.get_by_text("Runner profile:").count() == 0
    _assert_clean_with_token(create, api_get)


def test_head_settings_page_loads_and_saves_the_preferred_username(open_page, api_url, api_get):
    token = _token("e2e-settings-user")
    gui = open_page("head", "/settings", token=token)
    for pattern in (
        r"^/v4/user-settings/preferred-username$",
        r"^/v4/runners/configuration/profiles$",
        r"^/v4/runners/configuration/ssh-public-keys$",
    ):
        gui.wait_call(pattern)
    gui.wait_text("No public SSH keys found")
    gui.wait_text("description-only")
    text = gui.text()
    for failure in ("Error loading", "not available", "Error saving"):
        assert failure not in text, failure
    gui.assert_clean()
    field = gui.page.get_by_placeholder("Enter preferred username")
    field.fill("e2e_linux")
    gui.page.locator('button[title="Save preferred username"]').click()
    gui.wait_text("Saved!")
    assert _api(api_url, PREFERRED, token)["preferred_username"] == "e2e_linux"
    assert [s for m, u, s in gui.record.calls if m == "POST" and u == api_url + PREFERRED] == [200]
    gui.assert_clean()
    # Another user's setting is their own.
    assert _api(api_url, PREFERRED, _token("someone-else"))["preferred_username"] == ""


def test_head_pages_with_the_site_secret_token(open_page, api_url, api_get):
    """The GUI's `secret-token` login (its source's Login page; the head build here predates
    it) stores `Bearer <token>` as the token and sends it as it is: the Settings page then
    reads the setting of the user the token stands for."""
    gui = open_page("head", "/settings", token=f"Bearer {SITE_TOKEN}")
    url = gui.wait_call(r"^/v4/user-settings/preferred-username$")
    assert [s for m, u, s in gui.record.calls if u == url] == [200]
    gui.wait_text("No public SSH keys found")
    gui.assert_clean()
    header = f"Bearer {SITE_TOKEN}"
    assert _api(api_url, "/v4/auth/verify-token", header) == {"authenticated": True, "user": SITE_TOKEN_USER}
    assert _api(api_url, PREFERRED, header)["user_id"] == SITE_TOKEN_USER
