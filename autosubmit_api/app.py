"""The app factory: the only place where settings, routes, errors, CORS and workers meet."""

from __future__ import annotations

import io
import logging
from typing import Optional

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS

from autosubmit_api import auth, http_cache, request_log
from autosubmit_api.config import Settings, load_settings
from autosubmit_api.errors import TooLarge, register_error_handlers, too_large_message
from autosubmit_api.routes import blueprints

log = logging.getLogger(__name__)


def create_app(settings: Optional[Settings] = None, *, start_workers: Optional[bool] = None) -> Flask:
    """Build the WSGI app. Without `settings`, read them from the environment (gunicorn path).

    Background workers start unless the settings disable them, the app is for tests, or
    `start_workers` says otherwise.
    """
    if settings is None:
        settings = load_settings()
    app = Flask("autosubmit_api", static_folder=None)
    provider = app.json
    assert isinstance(provider, DefaultJSONProvider), "Flask's own provider, which these options configure"
    provider.sort_keys = True
    provider.compact = True
    provider.ensure_ascii = True
    app.config["TESTING"] = settings.testing
    # Bodies are bounded twice: a declared Content-Length over the limit is refused before
    # any view runs (below); a body without one (chunked) stops being read at the limit.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["autosubmit_api"] = {"settings": settings}

    # The GUI is served from another origin (docs/api.md 1.7). ETag is exposed for scripts running
    # in a browser; the browser's own revalidation does not need it.
    CORS(app, expose_headers=["Authorization", "ETag"])
    register_error_handlers(app)
    app.before_request(_refuse_large_bodies)
    request_log.install(app, settings.log_format)
    if settings.metrics_enabled:
        from autosubmit_api import prometheus_metrics

        # Before http_cache: Flask runs after_request hooks in reverse, so this one sees the
        # final status (a 304 included).
        prometheus_metrics.install(app)
    # ETag, Cache-Control, 304 and compression on every read answer. Flask runs after_request
    # hooks in reverse order of registration: this one first, then the request log (which
    # records the 304 and the bytes sent) and flask-cors (whose headers the 304s keep).
    http_cache.install(app)
    for bp, prefix, name in blueprints():
        app.register_blueprint(bp, url_prefix=prefix or None, name=name)
    if settings.root_path:
        from autosubmit_api.root_path import RootPathMiddleware

        # Flask's documented way to wrap the WSGI app; mypy refuses any assignment to a method.
        app.wsgi_app = RootPathMiddleware(app.wsgi_app, settings.root_path)  # type: ignore[method-assign]

    from autosubmit_api.readers import cache

    cache.configure(settings.cache_entries, settings.cache_small_entries)

    for warning in auth.startup_warnings(settings):
        log.warning(warning)
    if start_workers is None:
        start_workers = not (settings.testing or settings.disable_background_tasks)
    if start_workers:
        from autosubmit_api import workers

        app.extensions["autosubmit_api"]["scheduler"] = workers.start_scheduler(settings)
    return app


def _refuse_large_bodies() -> None:
    """413 for a request body larger than API_MAX_BODY_BYTES, on every route, before the
    gate and the view. A declared Content-Length is enough to refuse without reading; a
    chunked body (no length) is read up to one byte past the limit and, when it fits, kept
    for the view. (Werkzeug alone would cut a chunked body at the limit and let the view
    see a truncated body, or refuse one of exactly the limit.)"""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None:
        if request.content_length > limit:
            raise TooLarge(too_large_message())
        return
    environ = request.environ
    if not request.headers.get("Transfer-Encoding") or "wsgi.input_terminated" not in environ:
        return
    raw, parts, size = environ["wsgi.input"], [], 0
    while size <= limit:
        part = raw.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > limit:
        raise TooLarge(too_large_message())
    environ["wsgi.input"] = io.BytesIO(b"".join(parts))
    environ["CONTENT_LENGTH"] = str(size)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
