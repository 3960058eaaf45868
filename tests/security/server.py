"""A real gunicorn server over a factory-made site, for the bomb tests of this folder."""

from __future__ import annotations

import contextlib

from tests.test_cli import clean_env, serving


@contextlib.contextmanager
def site_server(site, secret_key: str, workers: int = 2):
    """`autosubmit_api start` on loopback over a factory site, no protection and no
    background tasks, answering when entered and stopped on leaving."""
    env = clean_env(**site.env(PROTECTION_LEVEL="NONE", SECRET_KEY=secret_key, DISABLE_BACKGROUND_TASKS="True"))
    with serving(env, "-w", str(workers)) as srv:
        yield srv
