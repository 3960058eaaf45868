"""HTTP routes: `v3/` (registered at the root and under /v3), `v4/` (under /v4), `root`,
`docs` (the interactive API reference), `metrics` (Prometheus).

Every module of `routes.v3` and `routes.v4` defines `bp`, a Blueprint, and is found by
`blueprints()`; adding a module is enough to serve its routes.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Iterator, Tuple

from flask import Blueprint


def _modules(package: str) -> Iterator[Blueprint]:
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            yield bp


def blueprints() -> Iterator[Tuple[Blueprint, str, str]]:
    """(blueprint, url_prefix, registration name) for every route module."""
    from autosubmit_api.routes import docs, metrics, root

    yield root.bp, "", "root"
    yield docs.bp, "", "docs"
    yield metrics.bp, "", "metrics"
    for bp in _modules("autosubmit_api.routes.v3"):
        # The reference registers every v3 rule twice (docs/api.md 1.1).
        yield bp, "", f"v3root_{bp.name}"
        yield bp, "/v3", f"v3_{bp.name}"
    for bp in _modules("autosubmit_api.routes.v4"):
        yield bp, "/v4", f"v4_{bp.name}"
