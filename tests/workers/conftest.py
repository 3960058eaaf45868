import pytest

from autosubmit_api.readers import backend
from tests.postgres.fixtures import pg_url  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _fresh_engines():
    # Engines are cached per URL/path; each test builds its own site.
    backend.dispose_all()
    yield
    backend.dispose_all()
