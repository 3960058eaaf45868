"""Typed API errors and the one handler that turns them (and every HTTP error) into JSON.

Services raise these; v4 routes let them through to the handler, which answers
`{"error": true, "error_message": <message>}` with the error's status (the reference's
handler shape, docs/api.md 1.5). v3 routes shape their legacy 200 bodies themselves
(routes/v3/_legacy.py). Messages never carry absolute server paths (docs/decisions.md Q39).
"""

from __future__ import annotations

import logging
from typing import Any, Dict

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class APIError(Exception):
    status = 500
    default_message = "Internal Server Error"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class BadRequest(APIError):
    status = 400
    default_message = "Bad Request"


class Unauthorized(APIError):
    status = 401
    default_message = "Unauthorized"


class Forbidden(APIError):
    status = 403
    default_message = "Forbidden"


class NotFound(APIError):
    status = 404
    default_message = "Not Found"


class DataError(APIError):
    """An Autosubmit file exists but cannot be read (corrupt, truncated, hostile, locked)."""

    status = 422
    default_message = "The experiment's data could not be read"


class TooLarge(APIError):
    """The request body is larger than the site allows (API_MAX_BODY_BYTES)."""

    status = 413
    default_message = "Request Entity Too Large"


class Unavailable(APIError):
    """A database needed for the answer cannot be reached right now."""

    status = 503
    default_message = "Service Unavailable"


def error_body(message: str) -> Dict[str, Any]:
    return {"error": True, "error_message": message}


def too_large_message() -> str:
    """The 413 message, naming the limit the app was built with (API_MAX_BODY_BYTES)."""
    return f"The request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError) -> ResponseReturnValue:
        return jsonify(error_body(exc.message)), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        message = exc.name
        if exc.code == 413:
            # A body without a Content-Length that passed MAX_CONTENT_LENGTH while read.
            message = too_large_message()
        response = jsonify(error_body(message))
        response.status_code = exc.code or 500
        allowed = getattr(exc, "valid_methods", None)
        if exc.code == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        if 300 <= (exc.code or 0) < 400:
            return exc.get_response()
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error")
        return jsonify(error_body("Internal Server Error")), 500
