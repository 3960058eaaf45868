"""`GET /metrics`: the Prometheus text format (autosubmit_api/prometheus_metrics.py,
docs/metrics.md). Gated like every other read route (threshold ALL: a token is needed at
`PROTECTION_LEVEL=ALL`; Prometheus sends one as `Authorization: Bearer <token>`). With
`API_METRICS=false` the route answers 404 before the gate, as if it did not exist.
"""

from __future__ import annotations

import functools
from typing import Callable

from flask import Blueprint, Response

from autosubmit_api import auth, prometheus_metrics
from autosubmit_api.errors import NotFound

bp = Blueprint("metrics", __name__)


def _when_enabled(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not auth.settings().metrics_enabled:
            raise NotFound("Not Found")
        return view(*args, **kwargs)

    return wrapper


@bp.get("/metrics")
@_when_enabled
@auth.gate("ALL")
def metrics():
    body, content_type = prometheus_metrics.scrape(auth.settings())
    # A live report (every scrape counts itself): never tagged, encoded or kept by http_cache.
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
