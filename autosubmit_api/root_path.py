"""AS_API_ROOT_PATH: serving the API under a path prefix behind a reverse proxy (docs/proxy.md).

A WSGI middleware around the Flask app. A request whose path starts with the prefix (a proxy
that forwards the path as it is, or a client talking to gunicorn directly) has the prefix
moved from PATH_INFO to SCRIPT_NAME; a request without it (a proxy that strips the prefix)
is served as it is, with SCRIPT_NAME set to the prefix. Either way every URL the API builds
(redirects, `request.base_url` in the CAS login) carries the prefix, as the browser sees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # the WSGI protocol's types exist for type checkers only
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class RootPathMiddleware:
    def __init__(self, app: WSGIApplication, root_path: str):
        self.app = app
        self.root_path = root_path.rstrip("/")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        prefix = self.root_path
        if prefix:
            script = environ.get("SCRIPT_NAME", "")
            path = environ.get("PATH_INFO", "")
            if path == prefix or path.startswith(prefix + "/"):
                environ["PATH_INFO"] = path[len(prefix) :] or "/"
                environ["SCRIPT_NAME"] = script.rstrip("/") + prefix
            elif not script.rstrip("/").endswith(prefix):
                environ["SCRIPT_NAME"] = script.rstrip("/") + prefix
        return self.app(environ, start_response)
