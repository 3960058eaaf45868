"""Request ids and structured logs (docs/logging.md).

Every request gets an id: the caller's `X-Request-ID` when it is a plain token of at most 128
characters, otherwise a new one; the answer carries it back in `X-Request-ID`.

With `API_LOG_FORMAT=json` the error log (gunicorn's, which our loggers share) is written as
one JSON object per line: one line per request (`event: "request"`: time, request id, route
template, method, status, duration, bytes, user when a valid token names one, client
address) and every log record (warnings and errors included) with the request id of the
request it happened in. With the default `text`, log lines keep gunicorn's plain format for a
terminal. No line holds a token or secret: request lines name the route template, never the
URL or a header, and every message passes through `scrub()` (tokens, JWTs, passwords,
tickets and codes in URLs are replaced).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Optional

from flask import Flask, Response, g, has_request_context, request

from autosubmit_api.models import AuditOrigin

HEADER = "X-Request-ID"
FORMATS = ("text", "json")
_VALID_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")

request_log = logging.getLogger("autosubmit_api.requests")

# A JWT (three base64url parts, the first starting with `{"`), a Bearer value, and a secret
# named in a query string, form body or `name: value` / `name=value` text.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,;\"']+")
_NAMED = re.compile(
    r"(?i)\b(token|access_token|id_token|refresh_token|ticket|code|client_secret|secret"
    r"|password|passwd|authorization|secret_key)(\"?\s*[=:]\s*\"?)[^\s&,;\"']+"
)
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    """`text` without tokens or secrets."""
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _NAMED.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)


def request_id() -> Optional[str]:
    return getattr(g, "request_id", None) if has_request_context() else None


def client_address() -> Optional[str]:
    """The client's address as the request lines and the audit trail record it: the peer
    address the WSGI server saw (a proxy's own address behind a proxy; docs/logging.md)."""
    return request.remote_addr if has_request_context() else None


def audit_origin(user: str) -> AuditOrigin:
    """Who writes and from where, for the audit row of a write made by this request."""
    rule = request.url_rule if has_request_context() else None
    return AuditOrigin(user, client_address(), request_id(), rule.rule if rule is not None else None)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, request_id,
    the request fields of a request line, and the exception's traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: Dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        fields = getattr(record, "request", None)
        if isinstance(fields, dict):
            entry.update(fields)
        elif request_id():
            entry["request_id"] = request_id()
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _start() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    rid = getattr(g, "request_id", None)
    if rid is None:
        return response
    response.headers[HEADER] = rid
    if request_log.isEnabledFor(logging.INFO) and getattr(g, "log_requests", False):
        started = getattr(g, "request_started", None)
        fields = {
            "event": "request",
            "request_id": rid,
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule is not None else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3) if started else None,
            "bytes": response.content_length,
            "user": getattr(g, "user", None),
            "client": client_address(),
        }
        request_log.info(
            "%s %s %s", request.method, fields["route"] or "(no route)", response.status_code, extra={"request": fields}
        )
    return response


def install(app: Flask, log_format: str) -> None:
    """Request ids on every answer; with `json`, a request line per request. Registered before
    every other before_request hook, so answers they make (413) carry an id too."""
    json_lines = log_format == "json"

    def start() -> None:
        _start()
        g.log_requests = json_lines

    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(_finish)


def use_json(handlers: Iterable[logging.Handler]) -> None:
    """Format the given log handlers (gunicorn's error log, shared by our loggers) as JSON."""
    formatter = JsonFormatter()
    for handler in handlers:
        handler.setFormatter(formatter)
