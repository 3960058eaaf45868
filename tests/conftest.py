"""Shared fixtures: a site on disk (tmp_path), settings pointing at it, the app and a client.

Experiments are written by the project's own factory in the real formats; nothing of our
own code is mocked.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.auth import issue_token
from autosubmit_api import cache_registry
from tests.factory import make_experiment as _make_experiment
from tests.factory import make_site

# The reference formats epoch times in local time; the golden answers were captured in UTC.
os.environ["TZ"] = "UTC"
time.tzset()

TEST_SECRET = "test-secret-key-for-the-suite-only"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shared_dir() -> Path:
    """../shared beside the checkout, or the AUTOSUBMIT_API_SHARED directory."""
    return Path(os.environ.get("AUTOSUBMIT_API_SHARED", SHARED))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every registered cache (autosubmit_api/cache_registry.py) empty around each test: no
    test sees what another one parsed, rendered or counted."""
    cache_registry.clear_all()
    yield
    cache_registry.clear_all()


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site")


@pytest.fixture
def make_experiment(site):
    def make(expid="a000", jobs=None, **kwargs):
        return _make_experiment(site, expid, jobs, **kwargs)

    return make


@pytest.fixture
def env():
    """Extra environment for the settings; tests add keys before asking for `settings`."""
    return {"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET}


@pytest.fixture
def settings(site, env):
    return site.settings(env)


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_client(site):
    """make(level="ALL", **env): a test client of a fresh app over `site` at that
    PROTECTION_LEVEL, TEST_SECRET its key, `env` added to its settings."""

    def make(level="ALL", **env):
        return create_app(site.settings({"PROTECTION_LEVEL": level, "SECRET_KEY": TEST_SECRET, **env})).test_client()

    return make


@pytest.fixture
def token():
    def mint(user="tester", secret=TEST_SECRET, lifetime=3600, now=None):
        return issue_token(user, secret, lifetime, now=now)

    return mint
