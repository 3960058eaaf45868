import tempfile

import pytest

from autosubmit_api.readers import backend
from tests.postgres.fixtures import pg_url  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _fresh_engines():
    # Engines are cached per URL/path; each test builds its own site.
    backend.dispose_all()
    yield
    backend.dispose_all()


@pytest.fixture(autouse=True)
def _private_tempdir(tmp_path, monkeypatch):
    # The scheduler publishes its metrics in the temp dir (workers.metrics_file): keep each
    # test's file in its own tmp_path, for this process and the processes it starts.
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    monkeypatch.setenv("TMPDIR", str(directory))
