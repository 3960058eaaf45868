"""A gunicorn worker forked from the preloaded master uses its own PostgreSQL connections
and leaves the master's pooled ones (and the scheduler's) working."""

from __future__ import annotations

import os

from sqlalchemy import text

from tests.factory import add_central_row
from tests.factory import postgres as pgf
from autosubmit_api.readers import backend, central_db
from autosubmit_api.services.health import background_tasks


def test_a_forked_child_opens_its_own_connections(site, env, pg_url):
    add_central_row(site, "a000")
    pgf.copy_site(site, pg_url)
    settings = site.settings(env, db_backend="postgres", db_connection_url=pg_url)
    engine = backend.central_engine(settings)
    with engine.connect() as conn:
        parent_backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    pid = os.fork()
    if pid == 0:  # the child: like a gunicorn worker serving a request
        code = 1
        try:
            with backend.central_engine(settings).connect() as conn:
                child_backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            health = background_tasks(settings)
            code = 0 if child_backend != parent_backend and central_db.ping(settings)[0] and health else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    with engine.connect() as conn:  # the parent's pooled session survived the child
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == parent_backend
