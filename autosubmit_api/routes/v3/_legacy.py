"""The v3 error habit (docs/api.md 1.6): a failed v3 view answers 200 with its normal keys at
their defaults plus `"error": true` and an `error_message`. Only v3 routes use this."""

from __future__ import annotations

import copy
import functools
import logging
from typing import Any, Callable, Mapping

from flask import jsonify

from autosubmit_api.errors import APIError

log = logging.getLogger(__name__)


def legacy_body(default: Mapping[str, Any], message: str) -> dict:
    body = copy.deepcopy(dict(default))
    body["error"] = True
    body["error_message"] = message
    return body


def legacy(default: Mapping[str, Any], status: int = 200) -> Callable:
    """Turn an APIError raised by the view into the route's legacy error body.

    `default` is the route's answer shape with its default values (it is deep-copied).
    Unexpected exceptions are logged and answered the same way with a generic message, so
    no traceback or server path reaches the client (docs/decisions.md Q39).
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except APIError as exc:
                return jsonify(legacy_body(default, exc.message)), status
            except Exception:  # noqa: BLE001 - v3 clients expect a 200 error body
                log.exception("v3 view %s failed", view.__name__)
                return jsonify(legacy_body(default, "Internal error")), status

        return wrapper

    return decorator
