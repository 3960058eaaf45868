"""The app factory: the only place where settings, routes, errors, CORS and workers meet."""
from __future__ import annotations

import logging
from typing import Optional

from flask import Flask
from flask_cors import CORS

from autosubmit_api import auth
from autosubmit_api.config import Settings, load_settings
from autosubmit_api.errors import register_error_handlers
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
    app.json.sort_keys = True
    app.json.compact = True
    app.json.ensure_ascii = True
    app.config["TESTING"] = settings.testing
    app.extensions["autosubmit_api"] = {"settings": settings}

    # The GUI is served from another origin (api.md 1.7).
    CORS(app, expose_headers=["Authorization"])
    register_error_handlers(app)
    for bp, prefix, name in blueprints():
        app.register_blueprint(bp, url_prefix=prefix or None, name=name)
    if settings.root_path:
        from autosubmit_api.root_path import RootPathMiddleware

        app.wsgi_app = RootPathMiddleware(app.wsgi_app, settings.root_path)

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
