"""`GET /v4/health` (ours, not in the reference): is the service usable, and how are its workers.

Open (no gate), so a load balancer or monitoring probe needs no token. 200 when the central
database answers a query, 503 otherwise; the body is the same either way. `Cache-Control:
no-store`: the report is live (its cache counters move with every request), so it is never
tagged for a 304 nor kept by the HTTP layer (autosubmit_api/http_cache.py).
"""

from __future__ import annotations

from flask import Blueprint

from autosubmit_api import auth
from autosubmit_api.services import health as service

bp = Blueprint("health", __name__)


@bp.get("/health")
@auth.open_route
def health():
    body = service.health(auth.settings())
    return body, 200 if body["central_db"]["reachable"] else 503, {"Cache-Control": "no-store"}
