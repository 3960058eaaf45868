from tests.postgres.fixtures import pg_url  # noqa: F401 - fixture
from tests.workers.conftest import _private_tempdir  # noqa: F401 - autouse fixture
