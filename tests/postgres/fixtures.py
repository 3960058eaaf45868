"""PostgreSQL for the tests: one fresh database per test, dropped afterwards.

The server is found at $API_TEST_POSTGRES (default postgresql://root@127.0.0.1:5432/test,
trust auth). When none answers, the tests that need it skip with a message saying so.
"""

from __future__ import annotations

import os
import uuid

import pytest

ADMIN_URL = os.environ.get("API_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/test")
_reachable = None


def _connect(url, **kwargs):
    import psycopg

    return psycopg.connect(url, connect_timeout=3, **kwargs)


def reachable() -> bool:
    global _reachable
    if _reachable is None:
        try:
            _connect(ADMIN_URL).close()
            _reachable = True
        except Exception:  # noqa: BLE001 - any failure means "no server to test against"
            _reachable = False
    return _reachable


def url_of(dbname: str) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


@pytest.fixture
def pg_url():
    """The URL of a new, empty database; dropped (with its connections) after the test."""
    if not reachable():
        pytest.skip(f"no PostgreSQL reachable at {ADMIN_URL} (set API_TEST_POSTGRES)")
    from autosubmit_api.readers import backend

    name = "apitest_" + uuid.uuid4().hex[:12]
    with _connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_of(name)
    finally:
        backend.dispose_all()
        with _connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
