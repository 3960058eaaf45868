from tests.postgres.fixtures import pg_url  # noqa: F401 - fixture
