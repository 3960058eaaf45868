"""Packaging for autosubmit-api: the HTTP monitoring API for Autosubmit experiments."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "autosubmit_api" / "__init__.py").read_text()).group(1)

setup(
    name="autosubmit_api",
    version=VERSION,
    description="HTTP monitoring API for Autosubmit experiments",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="GPL-3.0",
    python_requires=">=3.9",
    packages=find_packages(include=["autosubmit_api", "autosubmit_api.*"]),
    include_package_data=True,
    # The bundled example site (autosubmit_api/examples.py), built by tests/factory/examples.py.
    package_data={"autosubmit_api": ["openapi.json", "example_site/*", "example_site/**/*"]},
    install_requires=[
        "flask>=2.2,<4",
        "flask-cors>=4",
        "sqlalchemy>=2.0,<3",
        "apscheduler>=3.10,<4",
        "pyjwt>=2.8,<3",
        "requests>=2.28",
        "gunicorn>=21",
        "PyYAML>=6.0",
        "python-dotenv>=1.0",
        "orjson>=3.9",
        "flask-swagger-ui>=5",
        "brotli>=1.0",
        "prometheus_client>=0.20,<1",
    ],
    extras_require={
        "postgres": ["psycopg[binary]>=3.1"],
        "test": [
            "pytest>=7",
            "pytest-cov>=4",
            "psycopg[binary]>=3.1",
            "playwright>=1.40",
            "openapi-spec-validator>=0.7",
            "ruff==0.17.6",
            # tests/test_wheel.py builds the wheel without the network (--no-build-isolation).
            "setuptools>=64",
            "wheel",
            # The type check (.ci/run, pyproject.toml [tool.mypy]): mypy and the stubs of the
            # untyped dependencies, pinned like ruff (the newest that still install on 3.9).
            "mypy==1.19.1",
            "types-Flask-Cors==6.0.0.20250809",
            "types-PyYAML==6.0.12.20250915",
            "types-requests==2.32.4.20260107",
        ],
    },
    entry_points={"console_scripts": ["autosubmit_api=autosubmit_api.cli:main"]},
)
