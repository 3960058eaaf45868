"""Session fixtures of the compatibility suite: one served fixture copy, one app per level."""

from __future__ import annotations

import pytest

from tests.conftest import shared_dir


@pytest.fixture(scope="session")
def harness(tmp_path_factory):
    from tests.compat.golden import Harness

    shared = shared_dir()
    if not (shared / "golden" / "index.tsv").is_file():
        pytest.skip(f"golden answers not found under {shared} (set AUTOSUBMIT_API_SHARED)")
    return Harness(shared, lambda name: tmp_path_factory.mktemp(name))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Overrides tests/conftest.py: the rows share one served copy, as the capture's single
    reference process did, so the parse cache (keyed by path, mtime and size) stays warm
    between rows instead of re-reading every pickle and config per row."""
    yield
