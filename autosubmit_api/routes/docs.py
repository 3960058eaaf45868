"""`GET /docs`: the interactive API reference (Swagger UI) over the served `/openapi.json`.

Swagger UI's files come from the installed `flask-swagger-ui` package (its `dist/` directory),
never from a CDN: many sites' machines have no internet (docs/api-usage.md). Only the files the
page loads are served. The page is open like `/openapi.json`; the requests it sends carry the
token given in its "Authorize" dialog and meet the gate like any other client's.

Under AS_API_ROOT_PATH every address on the page starts with the prefix (`request.script_root`),
and the page tells Swagger UI that the API lives at the prefix, so "Try it out" works behind a
proxy that publishes the API under a path.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, abort, render_template_string, request, send_from_directory

from autosubmit_api import auth

bp = Blueprint("docs", __name__)

# The Swagger UI files the page uses, and nothing else of the package.
ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}
ASSET_MAX_AGE = 86400

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Autosubmit API reference</title>
  <link rel="stylesheet" href="{{ root }}/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="{{ root }}/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{{ root }}/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui" data-root="{{ root }}"></div>
  <script src="{{ root }}/docs/swagger-ui-bundle.js"></script>
  <script>
    (function () {
      var root = document.getElementById("swagger-ui").dataset.root;
      fetch(root + "/openapi.json").then(function (response) { return response.json(); })
        .then(function (spec) {
          if (!spec.servers) {
            spec.servers = [{url: window.location.origin + root, description: "this server"}];
          }
          window.ui = SwaggerUIBundle({
            spec: spec,
            dom_id: "#swagger-ui",
            deepLinking: true,
            validatorUrl: null,
            presets: [SwaggerUIBundle.presets.apis],
            layout: "BaseLayout"
          });
        });
    })();
  </script>
</body>
</html>
"""


def _dist_dir() -> str:
    return str(resources.files("flask_swagger_ui").joinpath("dist"))


@bp.get("/docs")
@auth.open_route
def page():
    return render_template_string(PAGE, root=request.script_root.rstrip("/"))


@bp.get("/docs/<path:filename>")
@auth.open_route
def asset(filename: str):
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(_dist_dir(), filename, max_age=ASSET_MAX_AGE)
