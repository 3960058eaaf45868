"""`/docs`: the Swagger UI page and its files, from the installed package, open at every level,
with every address under AS_API_ROOT_PATH. The browser test is tests/e2e/test_docs.py."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from autosubmit_api.app import create_app
from tests.conftest import TEST_SECRET


@pytest.fixture
def protected(site):
    return create_app(site.settings({"PROTECTION_LEVEL": "ALL", "SECRET_KEY": TEST_SECRET})).test_client()


def _addresses(html: str):
    return re.findall(r'(?:href|src)="([^"]+)"', html)


def test_the_page_is_open_and_loads_only_local_files(protected):
    response = protected.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    addresses = _addresses(html)
    assert addresses and all(a.startswith("/docs/") for a in addresses), addresses
    assert 'data-root=""' in html
    assert "validatorUrl: null" in html  # no call to validator.swagger.io
    for address in addresses:
        asset = protected.get(address)
        assert asset.status_code == 200 and len(asset.data) > 100, address


def test_the_files_are_the_installed_packages(protected):
    served = protected.get("/docs/swagger-ui-bundle.js")
    assert served.status_code == 200
    assert "javascript" in served.mimetype
    packaged = resources.files("flask_swagger_ui").joinpath("dist", "swagger-ui-bundle.js").read_bytes()
    assert served.data == packaged
    assert "max-age=86400" in served.headers["Cache-Control"]


@pytest.mark.parametrize(
    "name", ["index.html", "../flask_swagger_ui.py", "LICENSE", "nope.js", "swagger-ui.js.map", "%2e%2e/__init__.py"]
)
def test_other_names_are_not_served(protected, name):
    response = protected.get("/docs/" + name)
    assert response.status_code == 404


def test_under_the_root_path_every_address_carries_the_prefix(site):
    app = create_app(
        site.settings({"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET, "AS_API_ROOT_PATH": "/as-api"})
    )
    client = app.test_client()
    for path in ("/as-api/docs", "/docs"):  # a proxy that keeps the prefix, and one that strips it
        html = client.get(path).get_data(as_text=True)
        assert 'data-root="/as-api"' in html
        addresses = _addresses(html)
        assert addresses and all(a.startswith("/as-api/docs/") for a in addresses), addresses
    assert client.get("/as-api/docs/swagger-ui.css").status_code == 200
